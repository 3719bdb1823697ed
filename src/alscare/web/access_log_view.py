"""The access log in plain words: the audit trail's internal labels turned into sentences a person reads.

Why a presenter: the audit trail keeps short labels (``alsfrs_r``, ``read``, ``caregiver``) because they are
stable and hashed into the chain; the person looking at who opened their record should read "A member of the
care team looked at the ALS rating scale answers", in their own time zone. The words live in
``clinical/wording/access_log.en.toml``; a label with no entry gets generic words, never the raw label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alscare.actions.audit import AccessLogEntry
from alscare.clinical.wording import load_wording

__all__ = ["AccessLogRow", "access_log_rows", "caption", "zone_for"]


@dataclass(frozen=True)
class AccessLogRow:
    when_iso: str  # UTC, for <time datetime>, which the browser re-shows in its own time zone
    when_text: str  # in the clinic's time zone, for browsers without scripts
    who: str
    what: str  # "Looked at the medicines list"


def _wording() -> dict[str, Any]:
    return load_wording("access_log.en")


def zone_for(name: str) -> tzinfo:
    """The named IANA zone, or UTC when this machine has no time zone data for it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _when(at: datetime, zone: tzinfo) -> str:
    local = at.astimezone(zone)
    return f"{local.day} {local:%b %Y}, {local:%H:%M}"


def access_log_rows(
    entries: list[AccessLogEntry], *, viewer_id: int, owner_id: int | None, zone: tzinfo
) -> list[AccessLogRow]:
    """One plain row per audit entry. The viewer is "You"; the record's own person is named as themselves."""
    words = _wording()
    fallback = words["fallback"]
    rows = []
    for e in entries:
        role = words["roles"].get(e.role, fallback["role"])
        who = fallback["system"] if e.role == "system" else f"{e.who} ({role})"
        if e.user_id is not None and e.user_id == viewer_id:
            who = "You"
        elif e.user_id is not None and e.user_id == owner_id:
            who = f"{e.who} ({words['roles']['patient']})"
        action = words["actions"].get(e.action, fallback["action"])
        resource = words["resources"].get(e.resource, fallback["resource"])
        rows.append(
            AccessLogRow(
                when_iso=e.at.astimezone(UTC).isoformat(timespec="seconds"),
                when_text=_when(e.at, zone),
                who=who,
                what=f"{action} {resource}",
            )
        )
    return rows


def caption(zone_name: str) -> str:
    """The table caption naming the time zone the times are shown in (the script swaps it for the device's)."""
    return str(_wording()["page"]["caption_zone"]).format(zone=zone_name.replace("_", " "))


def browser_caption() -> str:
    return str(_wording()["page"]["caption_browser"])
