"""The one access policy: may this user read or write this part of this person's record?

Every route, page and CLI command that touches patient data asks ``decide`` (through
``alscare.actions.records.open_record``), and nothing else decides. Grants are read fresh from the
database on every request, so a revoked grant stops access at once.

Rules, in the order they are tried:
1. The person with ALS may do everything with their own record.
2. A *proxy* (a grant with scope ``proxy``) acts for the person: everything, including sharing.
3. A user holding an active grant for the scope, or for ``full_record``, may read that scope and add to it.
4. A clinician of a clinic holding an active grant, likewise. Clinic administrators run the clinic's
   accounts and never see clinical data unless a person grants it to them by name.
5. Everyone else: no access, and the response does not reveal whether the record exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """Parts of a record a person can share. Wording for people lives in ``SCOPE_LABELS``."""

    CHECKINS = "checkins"
    CARE_WISHES = "care_wishes"
    MEDICINES = "medicines"
    PROGNOSIS = "prognosis"
    FULL_RECORD = "full_record"
    PROXY = "proxy"
    # Not grantable: the profile header (name, emergency number) shown to anyone with any grant, and
    # the sharing settings and access log, which only the person and their proxy manage.
    PROFILE = "profile"
    SHARING = "sharing"


GRANTABLE_SCOPES: tuple[Scope, ...] = (
    Scope.CHECKINS,
    Scope.CARE_WISHES,
    Scope.MEDICINES,
    Scope.PROGNOSIS,
    Scope.FULL_RECORD,
    Scope.PROXY,
)

SCOPE_LABELS: dict[Scope, str] = {
    Scope.CHECKINS: "Check-ins and scores",
    Scope.CARE_WISHES: "Care wishes",
    Scope.MEDICINES: "Medicines",
    Scope.PROGNOSIS: "Outlook (prognosis)",
    Scope.FULL_RECORD: "Full record",
    Scope.PROXY: "Act for me (manage my record and sharing)",
}


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: str
    clinic_id: int | None


@dataclass(frozen=True)
class ActiveGrant:
    scope: str
    grantee_user_id: int | None
    grantee_clinic_id: int | None


@dataclass(frozen=True)
class RecordOwner:
    patient_id: int
    user_id: int | None


def _grants_for(actor: Actor, grants: Iterable[ActiveGrant]) -> set[str]:
    scopes: set[str] = set()
    for g in grants:
        to_actor = g.grantee_user_id == actor.user_id
        to_actors_clinic = (
            g.grantee_clinic_id is not None and actor.role == "clinician" and actor.clinic_id == g.grantee_clinic_id
        )
        if to_actor or to_actors_clinic:
            scopes.add(g.scope)
    return scopes


def decide(actor: Actor, record: RecordOwner, grants: Iterable[ActiveGrant], scope: Scope, action: Action) -> bool:
    """True when ``actor`` may perform ``action`` on ``scope`` of ``record``. ``grants`` are the active ones."""
    if record.user_id is not None and record.user_id == actor.user_id:
        return True
    held = _grants_for(actor, grants)
    if Scope.PROXY in held:
        return True
    if scope is Scope.SHARING:
        return False
    if scope is Scope.PROFILE:
        return action is Action.READ and bool(held)
    return scope in held or Scope.FULL_RECORD in held
