"""How to reach the emergency services without speaking, per country, declared as data.

Why: a person with ALS may not be able to speak to an emergency operator at all, so the emergency screen
must say how to text (or use an app) where they live, and the settings must prompt them to register before
they need it (most of these services only work for phones registered in advance). The routes, with their
sources and whether we could verify them, live in ``data/emergency_text.toml``; this module only picks one.
Pure: no web, no database, no clock.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

_COUNTRY = re.compile(r"[-_]")

__all__ = ["TextRoute", "all_routes", "route", "route_for_locale"]


@dataclass(frozen=True)
class TextRoute:
    id: str
    country: str  # ISO 3166-1 alpha-2, or "*" for the general advice
    service: str
    send_to: str  # the number the route reaches ("" when unknown)
    sms_to: str  # the number to send a text message to; "" when the route is an app or a call
    register_first: bool
    use: str
    register: str
    wait: str
    web: str
    source: str
    verified: bool


@cache
def _load() -> tuple[tuple[TextRoute, ...], date]:
    path = resources.files(__name__.rpartition(".")[0]) / "data" / "emergency_text.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(TextRoute(**entry) for entry in raw["routes"]), raw["reviewed_on"]


def all_routes() -> tuple[TextRoute, ...]:
    return _load()[0]


def route(route_id: str) -> TextRoute | None:
    return next((r for r in all_routes() if r.id == route_id), None)


def route_for_locale(locale: str) -> TextRoute:
    """The route for the locale's country (``en-GB`` → emergencySMS), or the general advice."""
    parts = _COUNTRY.split(locale)
    country = parts[-1].upper() if len(parts) > 1 and len(parts[-1]) == 2 else None
    routes = all_routes()
    return next((r for r in routes if r.country == country), next(r for r in routes if r.country == "*"))
