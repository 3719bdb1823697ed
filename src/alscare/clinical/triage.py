"""Check-in triage: which answers in a check-in need action, and how urgently.

A check-in is what the person with ALS (or someone caring for them) reports since the last one. Each
rule in ``RULES`` looks at one check-in and says whether it fires; every rule that fires is listed with
its message and source, and the highest tier among them is the result:

* ``emergency`` — call the emergency number now;
* ``contact_team`` — contact the care team (or respiratory service) today;
* ``routine`` — noted for the care team's next review.

Why it is built like this
    The split into tiers is **a derivation from the sources** (MND Association guidance for acute and
    emergency staff, NICE NG42 1.14.7, the riluzole and tofersen labels; clinical-reference §8). No
    source gives a formal triage list. Where the sources leave room, the table errs on the side of
    safety: a rule may over-call, never under-call, and adding a symptom can never lower the tier. The
    table **needs clinician sign-off** before it is relied on.

What it is not
    alscare never diagnoses. A tier says how soon to talk to someone, not what is wrong. A quiet result
    does not mean all is well: anyone worried should call their team or the emergency number whatever
    this says.

Rule messages live in ``wording/triage.en.toml`` keyed by rule id, and field labels there keyed by field
name, so the words can be reviewed and translated apart from the logic.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from importlib import resources
from typing import Any, Final, Literal

from alscare.clinical.errors import InvalidInput

WORDING_FILE: Final = "triage.en.toml"


class Tier(StrEnum):
    """How urgently a check-in needs a person's attention."""

    ROUTINE = "routine"
    CONTACT_TEAM = "contact_team"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        """Position in ``TIER_ORDER``: a higher rank is more urgent, and the highest tier wins."""
        return TIER_ORDER.index(self)


TIER_ORDER: Final = (Tier.ROUTINE, Tier.CONTACT_TEAM, Tier.EMERGENCY)

# --- The check-in: its fields as data -------------------------------------------------------------

FieldKind = Literal["bool", "number", "text", "list"]


@dataclass(frozen=True)
class FieldSpec:
    """One check-in field: its kind, and (from the wording file) a plain-language label for forms."""

    name: str
    kind: FieldKind

    @property
    def label(self) -> str:
        label: str = _wording()["fields"][self.name]["label"]
        return label


def _specs(kind: FieldKind, *names: str) -> dict[str, FieldSpec]:
    return {name: FieldSpec(name, kind) for name in names}


CHECK_IN_FIELDS: Final[Mapping[str, FieldSpec]] = {
    **_specs(
        "bool",
        # emergency signs
        "chest_pain_severe",
        "breathing_sudden_trouble",
        "choking_not_clearing",
        "breathless_at_rest",
        "blue_lips",
        "confused_or_drowsy",
        "ventilator_problem",
        "self_harm_thoughts",
        # signs for the care team today
        "fever",
        "chills",
        "cough",
        "weak_achy",
        "depressed_cannot_cope",
        "orthopnea",
        "morning_headache",
        "daytime_sleepiness",
        "choking_on_food",
        "cannot_take_food_fluids_meds",
        "fall",
        # recorded for the next review (and tofersen warning signs)
        "weakness_new",
        "cramps",
        "stiffness",
        "twitching",
        "drooling",
        "slurred_speech",
        "fatigue",
        "headache_new",
        "vision_change",
        "back_pain_new",
    ),
    **_specs("number", "weight_kg", "usual_weight_kg"),
    **_specs("text", "questions"),
    **_specs("list", "medicines"),
}

# --- Thresholds and input limits ------------------------------------------------------------------

# Loss of at least this share of usual weight fires ``weight_loss``. alscare's threshold, UNCONFIRMED
# as a guideline figure: the sources read ask for action on "rapid" or "continued" weight loss (AAN 2009
# nutrition algorithm; clinical-reference §8) without a number, and EFNS 2012 calls > 10 % malnutrition.
WEIGHT_LOSS_THRESHOLD_PERCENT: Final = 5.0
# Plausibility limits on an adult's weight (input hygiene, not clinical thresholds; issue 7 sets 20-300 kg, so
# that a slip like 0.5 or 7240 is caught and asked again instead of stored).
WEIGHT_KG_MIN: Final = 20.0
WEIGHT_KG_MAX: Final = 300.0
QUESTIONS_MAX_CHARS: Final = 4000
MEDICINES_MAX_ITEMS: Final = 100
MEDICINE_NAME_MAX_CHARS: Final = 200

# Names a medicine may be written under, matched case-insensitively as whole words, so "Rilutek 50 mg"
# and "riluzole oral suspension" both count. Sources: Rilutek (EU SmPC, Sanofi); Tiglutik (US riluzole
# oral suspension) and Teglutik (EU oral suspension, Italfarmaco; imported to the US in 2024); Exservan
# (US riluzole oral film); Qalsody (tofersen, FDA 2023 / EMA 2024).
MEDICINE_SYNONYMS: Final[Mapping[str, frozenset[str]]] = {
    "riluzole": frozenset({"riluzole", "rilutek", "tiglutik", "teglutik", "exservan"}),
    "tofersen": frozenset({"tofersen", "qalsody"}),
}

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class CheckIn:
    """One check-in as parsed values. ``None`` means "not answered", which never fires a rule."""

    chest_pain_severe: bool | None = None
    breathing_sudden_trouble: bool | None = None
    choking_not_clearing: bool | None = None
    breathless_at_rest: bool | None = None
    blue_lips: bool | None = None
    confused_or_drowsy: bool | None = None
    ventilator_problem: bool | None = None
    self_harm_thoughts: bool | None = None
    fever: bool | None = None
    chills: bool | None = None
    cough: bool | None = None
    weak_achy: bool | None = None
    depressed_cannot_cope: bool | None = None
    orthopnea: bool | None = None
    morning_headache: bool | None = None
    daytime_sleepiness: bool | None = None
    choking_on_food: bool | None = None
    cannot_take_food_fluids_meds: bool | None = None
    fall: bool | None = None
    weakness_new: bool | None = None
    cramps: bool | None = None
    stiffness: bool | None = None
    twitching: bool | None = None
    drooling: bool | None = None
    slurred_speech: bool | None = None
    fatigue: bool | None = None
    headache_new: bool | None = None
    vision_change: bool | None = None
    back_pain_new: bool | None = None
    weight_kg: float | None = None
    usual_weight_kg: float | None = None
    questions: str | None = None
    medicines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Check and normalise every answered field, so that no invalid check-in can exist.

        Refusals name the field: booleans that are not real booleans, numbers that are booleans or not
        finite, weights outside (0, 400] kg, over-long questions, medicines that are not a list of names.
        """
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                object.__setattr__(self, f.name, _PARSERS[CHECK_IN_FIELDS[f.name].kind](f.name, value))

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> CheckIn:
        """Parse untrusted input (a form or JSON body). Absent or ``None`` fields are "not answered"."""
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in CHECK_IN_FIELDS:
                raise InvalidInput(str(key), "unknown field")
            if value is not None:
                values[key] = value
        return cls(**values)

    def takes(self, medicine: str) -> bool:
        """Whether any listed medicine is ``medicine`` under its generic or a brand name."""
        names = MEDICINE_SYNONYMS[medicine]
        return any(word in names for entry in self.medicines for word in _WORD.findall(entry.casefold()))

    def weight_loss_percent(self) -> float | None:
        """Loss from usual weight as a percentage (negative for a gain), or None if either is missing."""
        if self.weight_kg is None or self.usual_weight_kg is None:
            return None
        # Rounded so that float noise cannot move a loss of exactly 5 % to either side of the threshold.
        return round((self.usual_weight_kg - self.weight_kg) / self.usual_weight_kg * 100.0, 9)


def _parse_bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false")
    return value


def _parse_weight(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(field, "must be a number of kilograms")
    if not WEIGHT_KG_MIN <= value <= WEIGHT_KG_MAX:
        raise InvalidInput(field, f"must be between {WEIGHT_KG_MIN:g} and {WEIGHT_KG_MAX:g} kg")
    return float(value)


def _parse_text(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    if len(value) > QUESTIONS_MAX_CHARS:
        raise InvalidInput(field, f"must be at most {QUESTIONS_MAX_CHARS} characters")
    return value


def _parse_medicines(field: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise InvalidInput(field, "must be a list of medicine names")
    if len(value) > MEDICINES_MAX_ITEMS:
        raise InvalidInput(field, f"must list at most {MEDICINES_MAX_ITEMS} medicines")
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise InvalidInput(field, f"item {position} must be a medicine name (text)")
        if len(item) > MEDICINE_NAME_MAX_CHARS:
            raise InvalidInput(field, f"item {position} must be at most {MEDICINE_NAME_MAX_CHARS} characters")
    return tuple(value)


_PARSERS: Final[Mapping[FieldKind, Callable[[str, object], object]]] = {
    "bool": _parse_bool,
    "number": _parse_weight,
    "text": _parse_text,
    "list": _parse_medicines,
}

# --- The rule table -------------------------------------------------------------------------------

SOURCE_MNDA_EMERGENCY: Final = (
    "MND Association, guidance for acute, urgent and emergency care staff; ALS United NC, information "
    "for emergency professionals (clinical-reference §8, derived emergency tier)"
)
SOURCE_NIV_EMERGENCY: Final = (
    "NIV4MND, 'Dealing with emergencies'; MND Association guidance for acute, urgent and emergency care "
    "staff (clinical-reference §8)"
)
SOURCE_SELF_HARM: Final = (
    "alscare safety policy: any thought of suicide or self-harm is treated as an emergency "
    "(not from the ALS sources in clinical-reference §8; clinician sign-off needed)"
)
SOURCE_CHEST_INFECTION: Final = (
    "MND Association guidance for acute, urgent and emergency care staff (suspected aspiration, new "
    "fever or productive cough, chest infection); NICE NG42 1.14.7 (recurrent chest infections) "
    "(clinical-reference §8)"
)
SOURCE_SEPSIS: Final = (
    "MND Association guidance for acute, urgent and emergency care staff: signs of sepsis or severe "
    "chest infection, such as fever with breathlessness (clinical-reference §8)"
)
SOURCE_BREATHLESS: Final = (
    "NICE NG42 (2016) recommendation 1.14.7 (breathlessness); MND Association guidance for acute, urgent "
    "and emergency care staff (clinical-reference §8). Breathless at rest alone is same-day; with blue "
    "lips or confusion it is an emergency (the emergency rules)"
)
SOURCE_NG42_RESPIRATORY: Final = (
    "NICE NG42 (2016) recommendation 1.14.7, symptoms of respiratory impairment (clinical-reference §6, §8)"
)
SOURCE_MOOD: Final = (
    "alscare derivation: low mood and not coping need the care team's attention soon "
    "(NICE NG42 psychological support; not a red flag in clinical-reference §8; clinician sign-off needed)"
)
SOURCE_SWALLOWING: Final = (
    "MND Association guidance for acute, urgent and emergency care staff (suspected aspiration; "
    "inability to take enough food, fluids or medicines by mouth) (clinical-reference §8)"
)
SOURCE_FALL: Final = (
    "alscare derivation: a fall may cause injury that is not obvious and changes mobility and care "
    "needs (not in clinical-reference §8; clinician sign-off needed)"
)
SOURCE_WEIGHT: Final = (
    "AAN 2009 nutrition algorithm (Miller et al., Neurology 2009;73:1218–26: act on accelerated or "
    "continued weight loss) and clinical-reference §8 (rapid weight loss); the 5 % threshold is "
    "alscare's, UNCONFIRMED as a guideline figure"
)
SOURCE_RILUZOLE_FEVER: Final = (
    "Riluzole EU SmPC (Rilutek) section 4.4 and US label: patients should report any febrile illness, "
    "which should prompt a white blood cell count (neutropenia) (clinical-reference §7, §8)"
)
SOURCE_RILUZOLE_ILD: Final = (
    "Riluzole EU SmPC (Rilutek) section 4.4: dry cough and/or breathlessness should prompt a chest "
    "X-ray (interstitial lung disease) (clinical-reference §7, §8)"
)
SOURCE_TOFERSEN: Final = (
    "Tofersen (Qalsody) US label and EU SmPC warnings: myelitis and radiculitis, papilloedema and raised "
    "intracranial pressure, aseptic meningitis (clinical-reference §7, §8)"
)
SOURCE_ROUTINE: Final = (
    "alscare: recorded for the multidisciplinary review every 2–3 months (NICE NG42; QS126 statement 2)"
)


@dataclass(frozen=True)
class Rule:
    """One row of the rule table; its message is in the wording file under ``rules.<id>``."""

    id: str
    tier: Tier
    applies: Callable[[CheckIn], bool]
    source: str


def _answered_yes(field: str) -> Callable[[CheckIn], bool]:
    """A rule predicate for "this yes/no field was answered yes"."""
    if CHECK_IN_FIELDS[field].kind != "bool":
        raise ValueError(f"{field} is not a yes/no field")
    return lambda check_in: getattr(check_in, field) is True


def _yes_to_any(*fields_: str) -> Callable[[CheckIn], bool]:
    predicates = [_answered_yes(f) for f in fields_]
    return lambda check_in: any(p(check_in) for p in predicates)


def _weight_loss(check_in: CheckIn) -> bool:
    loss = check_in.weight_loss_percent()
    return loss is not None and loss >= WEIGHT_LOSS_THRESHOLD_PERCENT


_TOFERSEN_SIGNS: Final = ("headache_new", "vision_change", "back_pain_new", "weakness_new")
_tofersen_sign: Final = _yes_to_any(*_TOFERSEN_SIGNS)
_ROUTINE_FIELDS: Final = (
    "weakness_new",
    "cramps",
    "stiffness",
    "twitching",
    "drooling",
    "slurred_speech",
    "fatigue",
    "headache_new",
    "vision_change",
    "back_pain_new",
)


def _when_yes(field: str, tier: Tier, source: str, rule_id: str | None = None) -> Rule:
    """The common row: fires when one yes/no field is answered yes; the id defaults to the field name."""
    return Rule(rule_id or field, tier, _answered_yes(field), source)


_EMERGENCY, _CONTACT_TEAM, _ROUTINE = Tier.EMERGENCY, Tier.CONTACT_TEAM, Tier.ROUTINE

RULES: Final[tuple[Rule, ...]] = (
    # Emergency: call the emergency number now.
    _when_yes("chest_pain_severe", _EMERGENCY, SOURCE_MNDA_EMERGENCY),
    _when_yes("breathing_sudden_trouble", _EMERGENCY, SOURCE_MNDA_EMERGENCY),
    _when_yes("choking_not_clearing", _EMERGENCY, SOURCE_MNDA_EMERGENCY),
    Rule(
        "breathless_at_rest_with_danger_signs",
        _EMERGENCY,
        lambda c: c.breathless_at_rest is True and (c.blue_lips is True or c.confused_or_drowsy is True),
        SOURCE_MNDA_EMERGENCY,
    ),
    _when_yes("blue_lips", _EMERGENCY, SOURCE_MNDA_EMERGENCY),
    _when_yes("confused_or_drowsy", _EMERGENCY, SOURCE_MNDA_EMERGENCY),
    _when_yes("ventilator_problem", _EMERGENCY, SOURCE_NIV_EMERGENCY),
    Rule(
        "fever_with_breathlessness",
        _EMERGENCY,
        lambda c: c.fever is True and c.breathless_at_rest is True,
        SOURCE_SEPSIS,
    ),
    _when_yes("self_harm_thoughts", _EMERGENCY, SOURCE_SELF_HARM),
    # Contact the care team today.
    _when_yes("breathless_at_rest", _CONTACT_TEAM, SOURCE_BREATHLESS),
    Rule(
        "possible_chest_infection",
        _CONTACT_TEAM,
        _yes_to_any("fever", "chills", "cough", "weak_achy"),
        SOURCE_CHEST_INFECTION,
    ),
    Rule(
        "riluzole_fever",
        _CONTACT_TEAM,
        lambda c: c.fever is True and c.takes("riluzole"),
        SOURCE_RILUZOLE_FEVER,
    ),
    Rule(
        "riluzole_cough_or_breathless",
        _CONTACT_TEAM,
        lambda c: (c.cough is True or c.breathless_at_rest is True) and c.takes("riluzole"),
        SOURCE_RILUZOLE_ILD,
    ),
    Rule(
        "tofersen_warning_signs",
        _CONTACT_TEAM,
        lambda c: c.takes("tofersen") and _tofersen_sign(c),
        SOURCE_TOFERSEN,
    ),
    _when_yes("orthopnea", _CONTACT_TEAM, SOURCE_NG42_RESPIRATORY),
    _when_yes("morning_headache", _CONTACT_TEAM, SOURCE_NG42_RESPIRATORY),
    _when_yes("daytime_sleepiness", _CONTACT_TEAM, SOURCE_NG42_RESPIRATORY),
    _when_yes("choking_on_food", _CONTACT_TEAM, SOURCE_SWALLOWING),
    _when_yes("cannot_take_food_fluids_meds", _CONTACT_TEAM, SOURCE_SWALLOWING),
    Rule("weight_loss", _CONTACT_TEAM, _weight_loss, SOURCE_WEIGHT),
    _when_yes("depressed_cannot_cope", _CONTACT_TEAM, SOURCE_MOOD),
    _when_yes("fall", _CONTACT_TEAM, SOURCE_FALL),
    # Routine: noted for the care team's next review.
    *(_when_yes(field, _ROUTINE, SOURCE_ROUTINE, rule_id=f"noted_{field}") for field in _ROUTINE_FIELDS),
    Rule(
        "noted_questions",
        _ROUTINE,
        lambda c: c.questions is not None and c.questions.strip() != "",
        SOURCE_ROUTINE,
    ),
)


# --- Applying the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """A rule that fired: its id, the message to show, and where the rule comes from."""

    rule: str
    message: str
    source: str


@dataclass(frozen=True)
class TriageResult:
    """The highest tier among the rules that fired, and every one of them (most urgent first)."""

    tier: Tier
    reasons: tuple[Reason, ...]


def triage(check_in: CheckIn) -> TriageResult:
    """Apply every rule; list all that fired, most urgent first then in table order; highest tier wins.

    No rule fired → ``routine`` with no reasons.
    """
    fired = sorted(
        (rule for rule in RULES if rule.applies(check_in)),
        key=lambda rule: -rule.tier.rank,  # sorted() is stable, so table order holds within a tier
    )
    tier = fired[0].tier if fired else Tier.ROUTINE
    return TriageResult(
        tier=tier,
        reasons=tuple(Reason(rule.id, rule_message(rule.id), rule.source) for rule in fired),
    )


def rule_message(rule_id: str) -> str:
    """The plain-language message for a rule, from the wording file."""
    message: str = _wording()["rules"][rule_id]["message"]
    return message


@functools.cache
def _wording() -> dict[str, Any]:
    """Load ``wording/triage.en.toml`` once (package data, read through importlib.resources)."""
    path = resources.files("alscare.clinical") / "wording" / WORDING_FILE
    with path.open("rb") as handle:
        return tomllib.load(handle)
