"""Exercise instructions for the content registry (kind ``exercise``): one item per exercise of the library.

The text is what the person reads: why, how, and the caution that exercise should not exhaust. Words live in
``clinical/wording/rehabilitation.en.toml``; sources in ``clinical/rehabilitation.py`` and docs/sources.md.
"""

from __future__ import annotations

from datetime import date

from alscare.clinical import rehabilitation
from alscare.content import ContentItem

REVIEWED_ON = date(2026, 12, 2)
SOURCES: tuple[str, ...] = (
    "NICE NG42 (2016), Motor neurone disease: assessment and management — physical function, communication, "
    "nutrition and equipment sections (recalled; confirm wording of recommendations)",
    "Dal Bello-Haas V, Florence JM. Therapeutic exercise for people with ALS or MND. Cochrane Database Syst Rev "
    "2013;(5):CD005229 (recalled)",
    "Miller RG et al. AAN practice parameter update, Neurology 2009;73:1218-26: assisted cough and MI-E may help "
    "clear secretions, Level C (clinical-reference §6)",
)


def items(locale: str) -> list[ContentItem]:
    if locale != "en":
        return []
    caution = rehabilitation.CAUTION["text"]
    return [
        ContentItem(
            id=f"exercise.{e.id}",
            kind="exercise",
            title=e.title,
            text=f"{e.why}\n\n{e.how}\n\n{caution}",
            sources=SOURCES,
            reviewed_on=REVIEWED_ON,
        )
        for e in rehabilitation.EXERCISES
    ]
