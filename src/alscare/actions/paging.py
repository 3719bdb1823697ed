"""Server-side paging for the clinic's long lists (alerts, overdue, messages, the API's lists).

Why: a clinic of 10,000 people cannot be sent as one page; each list is read as one ``COUNT`` and one
``LIMIT``/``OFFSET`` query, sorted in SQL, so the number of statements does not grow with the clinic
(issue 11). The clinic dashboard pages the same way with the same size (``clinic_dashboard.PAGE_SIZE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from alscare.actions.errors import InvalidInput
from alscare.clinical.wording import load_wording

PAGE_SIZE: Final = 25
PAGE_SIZE_MAX: Final = 100
_WORDS: Final = load_wording("paging.en")["errors"]

T = TypeVar("T")


def check_page(page: int, *, field: str = "page") -> int:
    """The page number if it is at least 1; otherwise ``InvalidInput`` naming ``field``."""
    if page < 1:
        raise InvalidInput(field, _WORDS["page_too_small"])
    return page


def parse_page(value: str | None, *, field: str = "page") -> int:
    """``?page=`` from an address: empty means 1; anything but a whole number >= 1 is refused naming it."""
    if value is None or value == "":
        return 1
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(field, _WORDS["not_a_number"]) from None
    return check_page(number, field=field)


def offset_of(page: int, page_size: int) -> int:
    return (page - 1) * page_size


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, the total over all pages, and where it is."""

    items: list[T]
    total: int
    page: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))
