"""The pager shared by every long list's page (``templates/_pager.html``): previous/next links and
"Page X of Y", built from one function that makes a page's address, so each list keeps its own filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from alscare.actions.paging import Page


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    previous: str | None
    next: str | None


def pager(page: int, pages: int, link: Callable[[int], str]) -> Pager:
    """``link(n)`` is the address of page ``n``; previous/next are None at either end."""
    return Pager(
        page=page,
        pages=pages,
        previous=link(page - 1) if page > 1 else None,
        next=link(page + 1) if page < pages else None,
    )


def page_link(path: str, params: Mapping[str, object]) -> Callable[[int], str]:
    """Addresses of ``path`` keeping ``params`` (empty ones dropped), with ``page`` set (left out for page 1)."""

    def link(n: int) -> str:
        values = {k: v for k, v in params.items() if v not in ("", None)}
        if n > 1:
            values["page"] = n
        return path + ("?" + urlencode(values) if values else "")

    return link


def pager_of(page: Page[Any], path: str, params: Mapping[str, object] | None = None) -> Pager:
    return pager(page.page, page.pages, page_link(path, params or {}))
