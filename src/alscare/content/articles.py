"""Learn: articles in plain words, written by us from current evidence, each with its sources and review date.

Why data files: an article is reviewed and translated apart from code, so each is a TOML file in
``texts/articles/<id>.<locale>.toml`` — a title, a summary, sections of headings, paragraphs and bullet points
(never HTML: the pages render it through Jinja's escaping, so content can hold no markup at all).

One article is partly generated: ``when-to-get-help`` takes its middle from the triage rule table
(:data:`alscare.clinical.triage.RULES`) and the triage wording, so what it says about when to call the
emergency number or the care team cannot drift from what the check-in says. A test checks every rule appears.

Also here: the ALS/MND associations by country (``texts/associations.toml``), shown for a locale, and the
mapping from clinical prompts and triage rules to the article worth reading or sharing.

Pure: reads package data only; no web, no database, no clock.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any, Final

from alscare.clinical.triage import RULES, Tier, rule_message
from alscare.clinical.wording import load_wording
from alscare.content import ContentItem

__all__ = [
    "Article",
    "Association",
    "Section",
    "all_articles",
    "article",
    "article_for_prompt",
    "article_for_rule",
    "associations_for",
    "country_of",
    "items",
    "search",
]

LOCALES_WRITTEN: Final = ("en",)
GENERATED_FROM_TRIAGE: Final = "triage"
_TERMINAL = re.compile(r"[.!?:]$")


@dataclass(frozen=True)
class Section:
    """A part of an article. ``rule_ids`` (generated sections only) name the triage rule of each bullet."""

    heading: str | None
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()

    def plain_lines(self) -> list[str]:
        lines = [_sentence(self.heading)] if self.heading else []
        lines.extend(self.paragraphs)
        lines.extend(_sentence(b) for b in self.bullets)
        return lines


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    summary: str
    sections: tuple[Section, ...]
    sources: tuple[str, ...]
    reviewed_on: date
    generated_from: str | None = None

    @property
    def plain_text(self) -> str:
        """Summary and every section as plain text (one paragraph a line), for export, search and readability.

        Headings and bullets get a full stop if they have no closing mark, so the readability formula sees
        them as the short sentences a reader sees, rather than one run-on sentence.
        """
        lines = [self.summary]
        for s in self.sections:
            lines.extend(s.plain_lines())
        return "\n".join(lines)

    def as_content_item(self) -> ContentItem:
        return ContentItem(
            id=f"article.{self.id}",
            kind="article",
            title=self.title,
            text=self.plain_text,
            sources=self.sources,
            reviewed_on=self.reviewed_on,
        )


def _sentence(text: str) -> str:
    return text if _TERMINAL.search(text) else text + "."


def _section(raw: dict[str, Any]) -> Section:
    return Section(
        heading=raw.get("heading"),
        paragraphs=tuple(raw.get("paragraphs", ())),
        bullets=tuple(raw.get("bullets", ())),
    )


def _triage_sections() -> tuple[list[Section], list[str]]:
    """The generated middle of ``when-to-get-help``: one bullet per rule, grouped by tier, in table order.

    Emergency and contact-the-team rules show the very message a check-in shows. Routine rules (``noted_*``)
    show the symptom's field label, under "tell your team at the next review".
    """
    words = load_wording("learn.en")["triage_article"]
    fields = load_wording("triage.en")["fields"]
    sections: list[Section] = []
    for tier in (Tier.EMERGENCY, Tier.CONTACT_TEAM, Tier.ROUTINE):
        rules = [r for r in RULES if r.tier is tier]
        if tier is Tier.ROUTINE:
            bullets = [fields[r.id.removeprefix("noted_")]["label"] for r in rules]
        else:
            bullets = [rule_message(r.id) for r in rules]
        sections.append(
            Section(
                heading=words[tier.value]["heading"],
                paragraphs=(words[tier.value]["intro"],),
                bullets=tuple(bullets),
                rule_ids=tuple(r.id for r in rules),
            )
        )
    sources = sorted({r.source for r in RULES})
    return sections, sources


def _load(raw: dict[str, Any]) -> Article:
    sections = [_section(s) for s in raw.get("sections", ())]
    sources = list(raw["sources"])
    generated = raw.get("generated")
    if generated == GENERATED_FROM_TRIAGE:
        triage_sections, triage_sources = _triage_sections()
        sections.extend(triage_sections)
        sources.extend(triage_sources)
    elif generated is not None:
        raise ValueError(f"article {raw['id']!r}: unknown generator {generated!r}")
    sections.extend(_section(s) for s in raw.get("closing", ()))
    reviewed = raw["reviewed_on"]
    if not isinstance(reviewed, date):
        raise ValueError(f"article {raw['id']!r}: reviewed_on must be a TOML date")
    return Article(
        id=raw["id"],
        title=raw["title"],
        summary=raw["summary"],
        sections=tuple(sections),
        sources=tuple(sources),
        reviewed_on=reviewed,
        generated_from=generated,
    )


@functools.cache
def _articles(locale: str) -> tuple[Article, ...]:
    if locale not in LOCALES_WRITTEN:
        return ()
    folder = resources.files(__name__.rpartition(".")[0]) / "texts" / "articles"
    found: list[Article] = []
    suffix = f".{locale}.toml"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(suffix):
            article_ = _load(tomllib.loads(entry.read_text(encoding="utf-8")))
            if f"{article_.id}{suffix}" != entry.name:
                raise ValueError(f"{entry.name}: id {article_.id!r} does not match the file name")
            found.append(article_)
    order = {a: i for i, a in enumerate(ARTICLE_ORDER)}
    return tuple(sorted(found, key=lambda a: (order.get(a.id, len(order)), a.id)))


# The reading order on /learn: first things first.
ARTICLE_ORDER: Final = (
    "what-is-als",
    "causes",
    "symptoms",
    "diagnosis",
    "slowing-als",
    "symptom-medicines",
    "rehabilitation",
    "breathing-and-eating-support",
    "care-wishes",
    "talking-with-family",
    "when-to-get-help",
    "caring-for-the-carer",
    "where-to-find-help",
)


def all_articles(locale: str = "en") -> tuple[Article, ...]:
    """Every article in ``locale``, in reading order; empty for a locale not written yet."""
    return _articles(locale)


def article(article_id: str, locale: str = "en") -> Article | None:
    return next((a for a in _articles(locale) if a.id == article_id), None)


def items(locale: str) -> list[ContentItem]:
    """The content registry's view: every article as plain text."""
    return [a.as_content_item() for a in _articles(locale)]


# --- Search ---------------------------------------------------------------------------------------------

_WORDS = re.compile(r"[^\W_]+")
SEARCH_MAX_CHARS: Final = 200


def _terms(text: str) -> list[str]:
    return _WORDS.findall(text.casefold())


def search(query: str, locale: str = "en") -> list[Article]:
    """Articles whose title or text holds every word of ``query`` (case-insensitive, word prefixes count).

    Ranked by how many query words are in the title, then reading order. A blank query finds nothing.
    """
    wanted = _terms(query[:SEARCH_MAX_CHARS])
    if not wanted:
        return []
    scored: list[tuple[int, int, Article]] = []
    for position, a in enumerate(_articles(locale)):
        title_words = _terms(a.title)
        body_words = title_words + _terms(a.plain_text)
        if all(any(w.startswith(t) for w in body_words) for t in wanted):
            in_title = sum(any(w.startswith(t) for w in title_words) for t in wanted)
            scored.append((-in_title, position, a))
    return [a for _, _, a in sorted(scored, key=lambda s: (s[0], s[1]))]


# --- Links from where articles matter -----------------------------------------------------------------

# Clinical prompts (alscare.clinical.prompts) → the article the clinic can share with the person.
PROMPT_ARTICLES: Final[dict[str, str]] = {
    "niv_fvc_below_50": "breathing-and-eating-support",
    "niv_snip_below_40": "breathing-and-eating-support",
    "niv_orthopnoea": "breathing-and-eating-support",
    "niv_fvc_below_80_with_symptoms": "breathing-and-eating-support",
    "gastrostomy_weight_loss": "breathing-and-eating-support",
    "gastrostomy_dysphagia": "breathing-and-eating-support",
    "gastrostomy_high_procedural_risk": "breathing-and-eating-support",
    "breathing_assessment_overdue": "breathing-and-eating-support",
    "review_overdue": "symptoms",
    "alsfrs_fall_4_in_3_months": "symptoms",
    "care_wishes_discussion": "care-wishes",
}
# Medicine prompts carry a date or a medicine in their id (``riluzole_liver_test_due_2026-03-01``): by prefix.
_PROMPT_PREFIX_ARTICLES: Final[tuple[tuple[str, str], ...]] = (
    ("riluzole_liver_test_", "slowing-als"),
    ("withdrawn_medicine_", "slowing-als"),
)

# Triage rules → a second article worth reading after a check-in (every result also links when-to-get-help).
_RULE_ARTICLES: Final[dict[str, str]] = {
    "orthopnea": "breathing-and-eating-support",
    "morning_headache": "breathing-and-eating-support",
    "daytime_sleepiness": "breathing-and-eating-support",
    "breathless_at_rest": "breathing-and-eating-support",
    "choking_on_food": "breathing-and-eating-support",
    "cannot_take_food_fluids_meds": "breathing-and-eating-support",
    "weight_loss": "breathing-and-eating-support",
    "riluzole_fever": "slowing-als",
    "riluzole_cough_or_breathless": "slowing-als",
    "tofersen_warning_signs": "slowing-als",
    "depressed_cannot_cope": "symptom-medicines",
    "fall": "rehabilitation",
    "noted_cramps": "symptom-medicines",
    "noted_stiffness": "symptom-medicines",
    "noted_drooling": "symptom-medicines",
    "noted_slurred_speech": "rehabilitation",
    "noted_fatigue": "rehabilitation",
    "noted_weakness_new": "symptoms",
    "noted_twitching": "symptoms",
}


def article_for_prompt(prompt_id: str) -> str | None:
    """The article id a clinic may share when prompt ``prompt_id`` fires, or None."""
    if prompt_id in PROMPT_ARTICLES:
        return PROMPT_ARTICLES[prompt_id]
    return next((article for prefix, article in _PROMPT_PREFIX_ARTICLES if prompt_id.startswith(prefix)), None)


def article_for_rule(rule_id: str) -> str | None:
    """The article id that explains what triage rule ``rule_id`` is about, or None."""
    return _RULE_ARTICLES.get(rule_id)


def articles_for_check_in(rule_ids: Iterable[str], locale: str = "en") -> list[Article]:
    """Articles to link from a check-in result: when-to-get-help first, then one per topic, no repeats."""
    ids: list[str] = ["when-to-get-help"]
    for rule_id in rule_ids:
        found = article_for_rule(rule_id)
        if found and found not in ids:
            ids.append(found)
    return [a for a in (article(i, locale) for i in ids) if a is not None]


# --- Associations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Association:
    country: str
    name: str
    web: str
    phone: str
    phone_checked: bool
    source_of_phone: str = field(compare=False)


@functools.cache
def _associations() -> tuple[Association, ...]:
    path = resources.files(__name__.rpartition(".")[0]) / "texts" / "associations.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(Association(**entry) for entry in raw["associations"])


def country_of(locale: str) -> str | None:
    """``en-GB`` / ``en_gb`` → ``GB``; a bare language (``en``) has no country."""
    parts = re.split(r"[-_]", locale)
    return parts[-1].upper() if len(parts) > 1 and len(parts[-1]) == 2 else None


def associations_for(locale: str) -> tuple[list[Association], list[Association], list[Association]]:
    """(associations in the locale's country, the international ones, those of every other country)."""
    country = country_of(locale)
    everyone = _associations()
    local = [a for a in everyone if country is not None and a.country == country]
    international = [a for a in everyone if a.country == "*"]
    others = [a for a in everyone if a.country not in ("*", country)]
    return local, international, others
