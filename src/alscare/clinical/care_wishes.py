"""Care wishes (advance care planning): the sections, their answers, validation and the difference
between two versions. Pure: no database, no web, no clock.

Why data: the sections and their answer options are what the form, the pages, the PDFs, the emergency
card and the API all show, so they are declared once here and every layer reads them. Their words live in
``wording/care_wishes.en.toml``, keyed by the ids below, so a translation needs no code change.

The sections follow what people with MND are asked to think about when they plan ahead (NICE NG42 and
QS126 statement 5: talk about end of life at diagnosis and at key moments such as the need for NIV or a
gastrostomy; clinical-reference.md §6 and §8: emergency staff look for an advance care plan, an advance
decision to refuse treatment (ADRT), a DNACPR form, and how the person communicates). alscare records the
person's own wishes; it is not a legal form, and the card says so.

A set of answers is a mapping ``section id -> field id -> value``. A value is a string, or for ``multi``
fields a tuple of option ids. Empty answers are left out, so two versions compare by what was said.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from alscare.clinical.errors import InvalidInput
from alscare.clinical.wording import load_wording

__all__ = [
    "DECISION",
    "SECTIONS",
    "Answers",
    "FieldChange",
    "FieldSpec",
    "SectionChange",
    "SectionSpec",
    "diff",
    "field_spec",
    "from_stored",
    "option_labels",
    "section_spec",
    "to_stored",
    "validate",
    "value_text",
    "wording",
]

Kind = Literal["choice", "multi", "text", "phone", "email"]
Value = str | tuple[str, ...]
Answers = dict[str, dict[str, Value]]

# The four answers a decision about a treatment can have (the "yes / no / not yet decided / only if").
DECISION: Final = ("yes", "no", "undecided", "only_if")
PLACES: Final = ("home", "hospice", "hospital", "care_home", "other", "undecided")
ADRT: Final = ("yes", "no", "planning")
DONATION: Final = ("brain_and_tissue", "brain", "tissue", "no", "undecided")
COMMUNICATION: Final = ("speech", "writing", "letter_board", "eye_gaze", "device", "yes_no_signals", "other")

TEXT_MAX: Final = 2000
SHORT_MAX: Final = 200
PHONE_PATTERN: Final = re.compile(r"^\+?[0-9 ()-]{3,30}$")
EMAIL_PATTERN: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")


@dataclass(frozen=True)
class FieldSpec:
    """One answer in a section. For a ``choice``, options in ``needs_detail`` need the text field ``detail``
    filled in (say *when*, for "only if"; say *where*, for "other")."""

    id: str
    kind: Kind
    options: tuple[str, ...] = ()
    detail: str | None = None
    needs_detail: tuple[str, ...] = ()
    max_length: int = TEXT_MAX


@dataclass(frozen=True)
class SectionSpec:
    id: str
    fields: tuple[FieldSpec, ...]


def _decision(field_id: str) -> tuple[FieldSpec, FieldSpec]:
    detail = f"{field_id}_condition"
    return (
        FieldSpec(field_id, "choice", DECISION, detail=detail, needs_detail=("only_if",)),
        FieldSpec(detail, "text", max_length=SHORT_MAX * 3),
    )


def _place(field_id: str) -> tuple[FieldSpec, FieldSpec]:
    detail = f"{field_id}_detail"
    return (
        FieldSpec(field_id, "choice", PLACES, detail=detail, needs_detail=("other",)),
        FieldSpec(detail, "text", max_length=SHORT_MAX * 3),
    )


_NOTES = FieldSpec("notes", "text")

SECTIONS: Final[tuple[SectionSpec, ...]] = (
    SectionSpec("what_matters", (FieldSpec("text", "text"),)),
    SectionSpec("breathing", (*_decision("niv"), *_decision("invasive_ventilation"), _NOTES)),
    SectionSpec("feeding_tube", (*_decision("feeding_tube"), _NOTES)),
    SectionSpec("resuscitation", (*_decision("cpr"), _NOTES)),
    SectionSpec("hospital", (*_decision("hospital"), _NOTES)),
    SectionSpec("place", (*_place("place_of_care"), *_place("place_of_death"), _NOTES)),
    SectionSpec(
        "refusals",
        (
            FieldSpec("treatments", "text"),
            FieldSpec("adrt", "choice", ADRT),
            FieldSpec("adrt_where", "text", max_length=SHORT_MAX * 3),
        ),
    ),
    SectionSpec(
        "proxy",
        (
            FieldSpec("name", "text", max_length=SHORT_MAX),
            FieldSpec("relationship", "text", max_length=SHORT_MAX),
            FieldSpec("phone", "phone", max_length=30),
            FieldSpec("email", "email", max_length=254),
            _NOTES,
        ),
    ),
    SectionSpec("communication", (FieldSpec("methods", "multi", COMMUNICATION), FieldSpec("how", "text"))),
    SectionSpec(
        "donation",
        (FieldSpec("donation", "choice", DONATION, detail="detail", needs_detail=()), FieldSpec("detail", "text")),
    ),
    SectionSpec("anything_else", (FieldSpec("text", "text"),)),
)

_BY_ID: Final = {s.id: s for s in SECTIONS}


def section_spec(section_id: str) -> SectionSpec:
    return _BY_ID[section_id]


def field_spec(section_id: str, field_id: str) -> FieldSpec:
    return next(f for f in _BY_ID[section_id].fields if f.id == field_id)


def _text(value: object, name: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(name, "must be text")
    cleaned = value.strip().replace("\r\n", "\n")
    if len(cleaned) > max_length:
        raise InvalidInput(name, f"Use at most {max_length} characters.")
    return cleaned


def _value(spec: FieldSpec, raw: object, name: str) -> Value:
    if spec.kind == "multi":
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise InvalidInput(name, "must be a list of choices")
        chosen = {i for i in items if i}
        unknown = sorted(chosen - set(spec.options))
        if unknown:
            raise InvalidInput(name, f"unknown choice {unknown[0]!r}; choose from {', '.join(spec.options)}")
        return tuple(o for o in spec.options if o in chosen)  # the declared order, so equal sets compare equal
    value = _text(raw, name, spec.max_length)
    if not value:
        return value
    if spec.kind == "choice" and value not in spec.options:
        raise InvalidInput(name, f"unknown choice {value!r}; choose from {', '.join(spec.options)}")
    if spec.kind == "phone" and not PHONE_PATTERN.fullmatch(value):
        raise InvalidInput(name, "Enter a phone number using digits, spaces and + only, for example 020 7946 0123.")
    if spec.kind == "email" and not EMAIL_PATTERN.fullmatch(value):
        raise InvalidInput(name, "Enter an email address like name@example.org.")
    return value


def validate(raw: Mapping[str, object]) -> Answers:
    """Check and tidy a set of answers; refuse the first problem by its dotted field name.

    Unknown sections or fields are refused rather than dropped (a typo must not lose a wish); empty answers
    are dropped, and a section left with no answers is dropped too.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInput("answers", "must be an object of sections")
    answers: Answers = {}
    for section_id, fields in raw.items():
        if section_id not in _BY_ID:
            raise InvalidInput(str(section_id), "unknown section")
        if not isinstance(fields, Mapping):
            raise InvalidInput(section_id, "must be an object of answers")
        spec = _BY_ID[section_id]
        known = {f.id: f for f in spec.fields}
        kept: dict[str, Value] = {}
        for field_id, value in fields.items():
            if field_id not in known:
                raise InvalidInput(f"{section_id}.{field_id}", "unknown field")
            cleaned = _value(known[field_id], value, f"{section_id}.{field_id}")
            if cleaned:
                kept[field_id] = cleaned
        for f in spec.fields:
            if f.kind == "choice" and f.detail and kept.get(f.id) in f.needs_detail and not kept.get(f.detail):
                what = "when" if kept.get(f.id) == "only_if" else "which"
                raise InvalidInput(f"{section_id}.{f.detail}", f"Say {what}, in a few words.")
        if kept:
            answers[section_id] = {f.id: kept[f.id] for f in spec.fields if f.id in kept}
    return {s.id: answers[s.id] for s in SECTIONS if s.id in answers}


def from_stored(stored: Mapping[str, Mapping[str, object]]) -> Answers:
    """Answers as read back from JSON storage (lists become tuples); stored answers were validated on save."""
    return {
        section: {f: tuple(v) if isinstance(v, list) else str(v) for f, v in fields.items()}
        for section, fields in stored.items()
    }


def to_stored(answers: Answers) -> dict[str, dict[str, str | list[str]]]:
    return {s: {f: list(v) if isinstance(v, tuple) else v for f, v in fields.items()} for s, fields in answers.items()}


ChangeKind = Literal["added", "changed", "removed"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    kind: ChangeKind
    old: Value | None
    new: Value | None


@dataclass(frozen=True)
class SectionChange:
    """What changed in one section: ``kind`` is ``added`` when it was empty before, ``removed`` when it is
    empty now, else ``changed``."""

    section: str
    kind: ChangeKind
    fields: tuple[FieldChange, ...]


def _kind(old: object, new: object) -> ChangeKind:
    return "added" if not old else "removed" if not new else "changed"


def diff(old: Answers, new: Answers) -> tuple[SectionChange, ...]:
    """Section by section, field by field, what differs from ``old`` to ``new`` (in the order of the form).
    Sections and fields that did not change are left out; an empty result means the two say the same."""
    changes: list[SectionChange] = []
    for section in SECTIONS:
        before, after = old.get(section.id, {}), new.get(section.id, {})
        fields = tuple(
            FieldChange(f.id, _kind(before.get(f.id), after.get(f.id)), before.get(f.id), after.get(f.id))
            for f in section.fields
            if before.get(f.id) != after.get(f.id)
        )
        if fields:
            changes.append(SectionChange(section.id, _kind(before, after), fields))
    return tuple(changes)


# --- Words, from wording/care_wishes.<locale>.toml --------------------------------------------------------


def wording(locale: str = "en") -> dict[str, Any]:
    return load_wording(f"care_wishes.{locale}")


def option_labels(section_id: str, field_id: str, locale: str = "en") -> list[tuple[str, str]]:
    """The (option id, label) pairs of a choice or multi field, in their declared order."""
    words = wording(locale)
    spec = field_spec(section_id, field_id)
    group = words["sections"][section_id]["fields"][field_id]["options"]
    return [(o, words["options"][group][o]) for o in spec.options]


def value_text(section_id: str, field_id: str, value: Value, locale: str = "en") -> str:
    """An answer as words: an option's label (labels joined for several), or the text as written."""
    spec = field_spec(section_id, field_id)
    if spec.kind in ("choice", "multi"):
        labels = dict(option_labels(section_id, field_id, locale))
        chosen = value if isinstance(value, tuple) else (value,)
        return "; ".join(labels.get(v, v) for v in chosen)
    return value if isinstance(value, str) else ", ".join(value)
