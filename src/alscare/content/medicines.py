"""Medicine leaflets (kind ``medicine``) for the content registry: one per ALS medicine and per symptom group.

The texts live in ``clinical/wording/medicines.<locale>.toml``; their facts and sources in
``alscare.clinical.medicines`` (clinical-reference §7). Only English exists so far.
"""

from __future__ import annotations

from datetime import date

from alscare.clinical.medicines import leaflets
from alscare.content import ContentItem

REVIEWED_ON = date(2026, 12, 2)


def items(locale: str) -> list[ContentItem]:
    if locale != "en":
        return []
    return [
        ContentItem(
            id=f"medicine.{leaflet.id}",
            kind="medicine",
            title=leaflet.title,
            text=leaflet.text,
            sources=(leaflet.source,),
            reviewed_on=REVIEWED_ON,
        )
        for leaflet in leaflets()
    ]
