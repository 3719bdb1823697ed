"""Patient-facing texts longer than a sentence, gathered from every domain for export and review.

Why one registry: the readability test and ``alscare content export`` must see *every* such text (learning
articles, medicine leaflets, exercise instructions, aid descriptions, diagnosis-test explanations) without
each domain having to be remembered by hand. Each domain contributes a module in this package that defines
``items(locale: str) -> list[ContentItem]``; :func:`all_items` finds them all. The texts themselves stay in
their domain's wording files; this package only collects them. Pure: no web, no database, no clock.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol, cast

__all__ = ["KINDS", "ContentItem", "Kind", "all_items"]

Kind = Literal["article", "medicine", "exercise", "aid", "test"]
KINDS: tuple[Kind, ...] = ("article", "medicine", "exercise", "aid", "test")


@dataclass(frozen=True)
class ContentItem:
    """One patient-facing text. ``text`` is plain text (no markup); ``sources`` cite where its facts come from."""

    id: str
    kind: Kind
    title: str
    text: str
    sources: tuple[str, ...]
    reviewed_on: date

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "sources": list(self.sources),
            "reviewed_on": self.reviewed_on.isoformat(),
        }


class _Provider(Protocol):
    def items(self, locale: str) -> list[ContentItem]: ...


def all_items(locale: str = "en") -> list[ContentItem]:
    """Every patient-facing text of every domain, sorted by kind then id (a stable order for review)."""
    found: list[ContentItem] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = cast(_Provider, importlib.import_module(f"{__name__}.{info.name}"))
        found.extend(module.items(locale))
    return sorted(found, key=lambda item: (KINDS.index(item.kind), item.id))
