"""Aid and equipment descriptions for the content registry (kind ``aid``): one item per aid.

Words live in ``clinical/wording/aids.en.toml``; each aid's sources are those of the rules that suggest it
(``clinical/aids.py``), plus NICE NG42 on prompt provision of equipment.
"""

from __future__ import annotations

from datetime import date

from alscare.clinical import aids
from alscare.content import ContentItem

REVIEWED_ON = date(2026, 12, 2)


def _sources(aid_id: str) -> tuple[str, ...]:
    found = [aids.SOURCE_NICE]
    for rule in aids.AID_RULES:
        if rule.aid_id == aid_id and rule.source not in found:
            found.append(rule.source)
    return tuple(found)


def items(locale: str) -> list[ContentItem]:
    if locale != "en":
        return []
    return [
        ContentItem(
            id=f"aid.{a.id}",
            kind="aid",
            title=a.title,
            text=a.description,
            sources=_sources(a.id),
            reviewed_on=REVIEWED_ON,
        )
        for a in aids.AIDS
    ]
