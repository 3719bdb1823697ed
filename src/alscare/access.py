"""The one access policy: may this user read or write this part of this person's record?

Every route, page and CLI command that touches patient data asks ``decide`` (through
``alscare.actions.records.open_record``), and nothing else decides. Grants are read fresh from the
database on every request, so a revoked grant stops access at once.

Rules, in the order they are tried:
1. The person with ALS may do everything with their own record.
2. A *proxy* (a grant with scope ``proxy``) acts for the person: everything, including sharing.
3. A user holding an active grant for the scope, or for ``full_record``, may read that scope and add to it.
   Each scope is exactly its own data (decision 0004): ``checkins`` the check-ins, ALSFRS-R scores, schedule
   and messages; ``medicines`` the medicine list; ``care_wishes`` the care wishes; ``profile_details`` the
   profile beyond the header (date of birth, sex, height, when symptoms began and where, date of diagnosis);
   ``prognosis`` the outlook. Anyone holding any grant sees only the header: the name and emergency number
   (``profile``), so they know whose record it is and whom to call.
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
    PROFILE_DETAILS = "profile_details"
    FULL_RECORD = "full_record"
    PROXY = "proxy"
    # Consent to research use (issue 13): the person's data, de-identified, in their clinic's research data set.
    # Never implied by ``full_record`` or ``proxy``: only an explicit research grant counts.
    RESEARCH = "research"
    # Not grantable: the profile header (name, emergency number) shown to anyone with any grant, and
    # the sharing settings and access log, which only the person and their proxy manage.
    PROFILE = "profile"
    SHARING = "sharing"


GRANTABLE_SCOPES: tuple[Scope, ...] = (
    Scope.CHECKINS,
    Scope.CARE_WISHES,
    Scope.MEDICINES,
    Scope.PROGNOSIS,
    Scope.PROFILE_DETAILS,
    Scope.FULL_RECORD,
    Scope.PROXY,
    Scope.RESEARCH,
)

SCOPE_LABELS: dict[Scope, str] = {
    Scope.CHECKINS: "Check-ins and scores",
    Scope.CARE_WISHES: "Care wishes",
    Scope.MEDICINES: "Medicines",
    Scope.PROGNOSIS: "Outlook (prognosis)",
    Scope.PROFILE_DETAILS: "Profile details (date of birth, diagnosis)",
    Scope.FULL_RECORD: "Full record",
    Scope.PROXY: "Act for me (manage my record and sharing)",
    Scope.RESEARCH: "Research use, without my name",
}


# What each scope shows, in plain words, with an example: the sharing page shows these beside each choice.
# Kept beside the scopes so that a new scope cannot be added without saying what it shows.
SCOPE_SHOWS: dict[Scope, tuple[str, str]] = {
    Scope.CHECKINS: (
        "Your symptom check-ins, ALSFRS-R scores, check-in schedule and messages with the clinic.",
        "They see that you reported cramps last week and that your score was 38 out of 48.",
    ),
    Scope.CARE_WISHES: (
        "Only your care wishes: what you have written about your future care.",
        "They see what you wrote about breathing support or going to hospital.",
    ),
    Scope.MEDICINES: (
        "Only your medicine list, with doses, dates and its history.",
        "They see that you take riluzole, 50 mg twice a day, since January.",
    ),
    Scope.PROGNOSIS: (
        "Only forecasts of how your illness may change. alscare does not show any yet.",
        "Nothing at the moment.",
    ),
    Scope.PROFILE_DETAILS: (
        "Your date of birth, sex, height, when and where symptoms began, and when you were diagnosed.",
        "They see that you were born in 1961 and diagnosed in September 2024.",
    ),
    Scope.FULL_RECORD: (
        "Everything above. Not your sharing settings, and not the list of who has looked at your record.",
        "Your clinic team usually needs this.",
    ),
    Scope.PROXY: (
        "Everything you can do: read and change your whole record, and choose who else can see it.",
        "A partner who helps you run your record.",
    ),
    Scope.RESEARCH: (
        "Your scores, measurements and medicines for research, with your name, contact details, notes and true "
        "dates taken out. Give this to your clinic to take part.",
        "A study learns how fast scores change, but not who you are.",
    ),
}
# What anyone you share anything with sees: enough to know whose record it is and whom to call.
HEADER_SHOWS = "Anyone you share with also sees your name and your emergency number, and nothing else."


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: str
    clinic_id: int | None
    # A clinic system reading by API token (``actions/api_tokens``): never the record's sharing settings.
    service: bool = False


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
    if actor.service and scope is Scope.SHARING:
        return False  # who else sees the record, and the invitees' addresses, are not a machine's to read
    held = _grants_for(actor, grants)
    if scope is Scope.RESEARCH:
        return Scope.RESEARCH in held
    if Scope.PROXY in held:
        return True
    if scope is Scope.SHARING:
        return False
    if scope is Scope.PROFILE:
        return action is Action.READ and bool(held)
    return scope in held or Scope.FULL_RECORD in held
