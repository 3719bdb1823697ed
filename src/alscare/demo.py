"""Demo data: one clinic, its staff, five people with ALS and two family members, seeded on first start.

Every person, clinic, address, phone number and email address here is fictional; any resemblance to real
people is accidental. Phone numbers are from the UK range set aside for drama (020 7946 0xxx), and email
addresses use the reserved ``.example`` domain.

Who is in the demo (all sign in with ``DEMO_PASSWORD``; clinic staff also need a code from an authenticator
app set up with the TOTP secret that ``seed_demo`` returns and the CLI prints):

- Riverside MND Clinic: an administrator and two clinicians (a neurologist and a specialist nurse).
- Five people with ALS: four enrolled at the clinic, each sharing their full record with it, and one who
  uses alscare on their own with no clinic. Between them they cover bulbar, upper-limb, lower-limb and
  respiratory onset, and slow (~0.3 points/month), intermediate (~0.7-0.9) and fast (~1.1-1.3)
  progression (Kimura 2006 bands; cohort mean about -0.9/month, van Eijk et al. PRECISION-ALS).
- Two family members: one sees one person's check-ins and care wishes; the other is a proxy for another.

Everything is made through the actions (sign-up, invitations, sharing, recording ALSFRS-R), so validation
and the audit trail are exercised exactly as in real use. Only the clinic and its administrator are written
as rows directly, because nobody can invite an administrator. Actions run in time order, each with the time
it would have happened (back-computed from ``now``), so the audit log reads as a plausible history. The
ALSFRS-R histories come from a small model declared as data below (which items decline first for each
onset region) plus a little noise from ``random.Random(2026)``, so the same ``now`` always gives the same
data.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alscare import demo_rehabilitation
from alscare.actions.accounts import (
    PatientProfile,
    accept_invitation,
    create_invitation,
    enable_second_factor,
    sign_up_patient,
)
from alscare.actions.assessments import record_alsfrs_assessment
from alscare.demo_care_wishes import plan_care_wishes
from alscare.demo_clinic import seed_clinic_history
from alscare.demo_diagnosis import seed_demo_diagnosis
from alscare.demo_medicines import seed_demo_medicines
from alscare.security.passwords import hash_password
from alscare.security.totp import current_code
from alscare.storage.models import Clinic, Patient, User

__all__ = ["DEMO_EMAILS", "DEMO_PASSWORD", "DemoLogin", "demo_logins", "demo_people", "seed_demo"]

DEMO_PASSWORD = "demo-password-2026"
SEED = 2026
DAYS_PER_MONTH = 365.25 / 12  # the ENCALS/TRICALS convention, as in alscare.clinical.progression

CLINIC_NAME = "Riverside MND Clinic"
CLINIC_PHONE = "020 7946 0321"
CLINIC_HOURS = "Monday to Friday, 9am to 5pm"
CLINIC_EMAIL = "mnd-clinic@demo.alscare.example"
CLINIC_ADDRESS = "Riverside Hospital, Neurology Outpatients, 12 Quay Street, Riverton RV1 2AB"


@dataclass(frozen=True)
class DemoLogin:
    """A demo account someone can sign in with (the password is ``DEMO_PASSWORD`` for all)."""

    email: str
    role: str
    name: str
    totp_secret: str | None


# --- Clinic staff ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Staff:
    email: str
    name: str
    role: str
    totp_secret: str  # fixed, so the printed secret keeps working across restarts


_ADMIN = _Staff("admin@demo.alscare.example", "Hannah Brooks", "admin", "RASAH3IU56ZPQZ7UPOREDJT73QXMSE2U")
_CLINICIANS = (
    _Staff("dr.okafor@demo.alscare.example", "Dr Chidi Okafor", "clinician", "G5SJQ2GWS5MLJP5KYXVBNBOHNZ7I7DXL"),
    _Staff("nurse.lindqvist@demo.alscare.example", "Elin Lindqvist", "clinician",
           "KFEKWQIBUZNWZZAGJYUWGUONDJGU45HM"),
)  # fmt: skip
_NEUROLOGIST, _NURSE = _CLINICIANS

# --- How function declines, by onset region ----------------------------------------------------------------
# Each item falls linearly from 4 to 0 over part of the disease course, written as (start, span) in
# fractions of a notional full course (0 = symptom onset, 1 = all function lost). The region where symptoms
# began goes first, then neighbouring regions; the respiratory items decline least steeply (PRO-ACT, Muscle
# Nerve 2018;57:937-945). Item 12 (breathing support) is not modelled here: it changes only when a person
# starts BiPAP, so each person's BiPAP history is given explicitly. Item "5" stands for 5a or 5b.
_Pattern = Mapping[str, tuple[float, float]]

_PATTERNS: Mapping[str, _Pattern] = {
    "bulbar": {
        "1": (0.00, 0.30), "3": (0.02, 0.32), "2": (0.05, 0.40),
        "5": (0.10, 0.75), "4": (0.12, 0.75), "6": (0.15, 0.70),
        "9": (0.15, 0.65), "8": (0.20, 0.70), "7": (0.25, 0.65),
        "10": (0.15, 0.85), "11": (0.25, 0.80),
    },
    "upper_limb": {
        "4": (0.00, 0.30), "5": (0.02, 0.32), "6": (0.05, 0.40),
        "7": (0.15, 0.70), "9": (0.15, 0.65), "8": (0.20, 0.70),
        "1": (0.25, 0.70), "3": (0.30, 0.65), "2": (0.35, 0.65),
        "10": (0.15, 0.85), "11": (0.25, 0.80),
    },
    "lower_limb": {
        "9": (0.00, 0.28), "8": (0.00, 0.32), "7": (0.05, 0.40),
        "6": (0.12, 0.70), "5": (0.15, 0.70), "4": (0.20, 0.75),
        "1": (0.25, 0.70), "3": (0.30, 0.65), "2": (0.35, 0.65),
        "10": (0.15, 0.85), "11": (0.25, 0.80),
    },
    "respiratory": {
        "10": (0.00, 0.35), "11": (0.02, 0.40),
        "9": (0.08, 0.60), "7": (0.10, 0.65), "6": (0.15, 0.70),
        "8": (0.15, 0.65), "4": (0.20, 0.75), "5": (0.20, 0.75),
        "1": (0.20, 0.75), "3": (0.25, 0.70), "2": (0.30, 0.70),
    },
}  # fmt: skip

NOISE_SD = 0.3  # points, on items already declining: visit-to-visit and rater/self-report variation
# Item 3 anchors: 2 = changed food consistency, 1 = needs supplemental tube feeding. Without a tube a person
# scores at least 2; with one, at most 1.
SWALLOW_WITHOUT_TUBE_MIN = 2
SWALLOW_WITH_TUBE_MAX = 1


# --- People with ALS ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    email: str
    name: str
    sex: str
    age: int
    height_cm: float
    onset_region: str
    slope: float  # points/month lost over the months of history shown
    onset_to_diagnosis: float  # months
    diagnosis_to_first: float  # months from diagnosis to the first assessment in alscare
    history: float  # months from the first assessment to the end of the demo history
    at_clinic: bool
    gastrostomy_at: float | None = None  # months after onset; item 5b is answered from then on
    bipap: tuple[tuple[float, int], ...] = ()  # (months after onset, item 12 score) from then on


_PEOPLE = (
    # Fast, bulbar onset: speech and swallowing first; a gastrostomy part-way through.
    _Person("amira@demo.alscare.example", "Amira Haddad", "female", 61, 164, "bulbar", 1.3,
            onset_to_diagnosis=8, diagnosis_to_first=0.5, history=14, at_clinic=True, gastrostomy_at=15),
    # Intermediate, lower-limb onset: walking and stairs first.
    _Person("tomas@demo.alscare.example", "Tomás Reyes", "male", 57, 176, "lower_limb", 0.7,
            onset_to_diagnosis=12, diagnosis_to_first=1, history=20, at_clinic=True),
    # Slow, upper-limb onset: handwriting and cutting food first.
    _Person("mei@demo.alscare.example", "Mei Chen", "female", 49, 158, "upper_limb", 0.3,
            onset_to_diagnosis=18, diagnosis_to_first=2, history=23, at_clinic=True),
    # Fast, respiratory onset: breathlessness first, then BiPAP at night.
    _Person("kwame@demo.alscare.example", "Kwame Mensah", "male", 45, 183, "respiratory", 1.1,
            onset_to_diagnosis=6, diagnosis_to_first=0.5, history=13, at_clinic=True,
            bipap=((12, 3), (16, 2))),
    # Intermediate, lower-limb onset, using alscare on his own without a clinic.
    _Person("sione@demo.alscare.example", "Sione Taufa", "male", 66, 188, "lower_limb", 0.9,
            onset_to_diagnosis=11, diagnosis_to_first=1, history=10, at_clinic=False),
)  # fmt: skip
_AMIRA, _TOMAS, _MEI, _KWAME, _SIONE = _PEOPLE


@dataclass(frozen=True)
class _Family:
    email: str
    name: str
    of: _Person
    scopes: tuple[str, ...]
    joins_after: float  # months after the person's first assessment


_FAMILY = (
    _Family("yusuf@demo.alscare.example", "Yusuf Haddad", _AMIRA, ("proxy",), joins_after=0.3),
    _Family("rosa@demo.alscare.example", "Rosa Reyes", _TOMAS, ("checkins", "care_wishes"), joins_after=1),
)

DEMO_EMAILS: tuple[str, ...] = (
    _ADMIN.email,
    *(s.email for s in _CLINICIANS),
    *(p.email for p in _PEOPLE),
    *(f.email for f in _FAMILY),
)

# How often each way of taking an ALSFRS-R is used at a follow-up (the first visit is always in person).
_CLINIC_MODES = {"clinician_in_person": 4, "clinician_phone": 2, "self_report": 3, "caregiver": 2}
_HOME_MODES = {"self_report": 5, "caregiver": 1}  # "caregiver": a partner answered, on the person's account


# --- Dates -------------------------------------------------------------------------------------------------


def _months(n: float) -> timedelta:
    return timedelta(days=round(n * DAYS_PER_MONTH))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass(frozen=True)
class _Timeline:
    """One person's dates, back-computed from the end of the demo history."""

    onset: date
    diagnosis: date
    visits: tuple[date, ...]

    def months_since_onset(self, day: date) -> float:
        return (day - self.onset).days / DAYS_PER_MONTH


def _timeline(person: _Person, end: date, rng: random.Random) -> _Timeline:
    first = end - _months(person.history)
    diagnosis = first - _months(person.diagnosis_to_first)
    onset = diagnosis - _months(person.onset_to_diagnosis)
    visits = [first]
    while (nxt := visits[-1] + timedelta(days=rng.randint(28, 84))) <= end:  # every 4 to 12 weeks
        visits.append(nxt)
    return _Timeline(onset=onset, diagnosis=diagnosis, visits=tuple(visits))


# --- ALSFRS-R answers --------------------------------------------------------------------------------------


def _ideal_item(pattern: _Pattern, item: str, progress: float) -> float:
    start, span = pattern[item]
    return 4.0 * (1.0 - min(1.0, max(0.0, (progress - start) / span)))


def _ideal_total(pattern: _Pattern, progress: float) -> float:
    return sum(_ideal_item(pattern, item, progress) for item in pattern)


def _course_months(person: _Person, timeline: _Timeline) -> float:
    """The notional full-course length giving the person's slope between their first and last visit."""
    pattern = _PATTERNS[person.onset_region]
    t0 = timeline.months_since_onset(timeline.visits[0])
    t1 = timeline.months_since_onset(timeline.visits[-1])

    def slope(course: float) -> float:
        return (_ideal_total(pattern, t0 / course) - _ideal_total(pattern, t1 / course)) / (t1 - t0)

    low, high = 6.0, 600.0  # slope falls as the course lengthens (for courses this long or longer)
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if slope(mid) > person.slope else (low, mid)
    return (low + high) / 2


def _answers(person: _Person, months: float, course: float, rng: random.Random) -> dict[str, int]:
    pattern = _PATTERNS[person.onset_region]
    tube = person.gastrostomy_at is not None and months >= person.gastrostomy_at
    answers: dict[str, int] = {}
    for item in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"):
        ideal = _ideal_item(pattern, item, months / course)
        score = round(ideal) if ideal in (0.0, 4.0) else round(ideal + rng.gauss(0.0, NOISE_SD))
        score = min(4, max(0, score))
        if item == "3":
            score = min(score, SWALLOW_WITH_TUBE_MAX) if tube else max(score, SWALLOW_WITHOUT_TUBE_MIN)
        answers[("5b" if tube else "5a") if item == "5" else item] = score
    answers["12"] = min([score for since, score in person.bipap if months >= since], default=4)
    return answers


# --- Seeding -----------------------------------------------------------------------------------------------


@dataclass
class _Seeder:
    """Runs the actions; events are queued with their time and replayed in time order."""

    db: Session
    default_emergency_number: str
    users: dict[str, User] = field(default_factory=dict)
    clinic: Clinic | None = None

    def open_clinic(self, at: datetime) -> None:
        self.clinic = Clinic(
            name=CLINIC_NAME,
            phone=CLINIC_PHONE,
            hours=CLINIC_HOURS,
            email=CLINIC_EMAIL,
            address=CLINIC_ADDRESS,
            created_at=at,
        )
        self.db.add(self.clinic)
        self.db.flush()
        admin = User(
            email=_ADMIN.email,
            display_name=_ADMIN.name,
            role="admin",
            password_hash=hash_password(DEMO_PASSWORD),
            clinic_id=self.clinic.id,
            totp_enabled=False,
            is_active=True,
            created_at=at,
        )
        self.db.add(admin)
        self.db.flush()
        self._enable_totp(admin, _ADMIN.totp_secret, at)
        self.users[admin.email] = admin

    def add_clinician(self, at: datetime, staff: _Staff) -> None:
        _, token = create_invitation(
            self.db, inviter=self.users[_ADMIN.email], email=staff.email, now=at - timedelta(days=1)
        )
        user = accept_invitation(
            self.db,
            token=token,
            display_name=staff.name,
            password=DEMO_PASSWORD,
            now=at,
            default_emergency_number=self.default_emergency_number,
        )
        self._enable_totp(user, staff.totp_secret, at)
        self.users[user.email] = user

    def join(self, at: datetime, person: _Person, timeline: _Timeline) -> None:
        profile = PatientProfile(
            full_name=person.name,
            date_of_birth=_birthday(timeline.visits[-1], person.age),
            sex=person.sex,
            height_cm=person.height_cm,
            onset_date=timeline.onset,
            onset_region=person.onset_region,
            diagnosis_date=timeline.diagnosis,
        )
        if person.at_clinic:
            _, token = create_invitation(
                self.db, inviter=self.users[_NEUROLOGIST.email], email=person.email, now=at - timedelta(days=1)
            )
            user = accept_invitation(
                self.db,
                token=token,
                display_name=person.name,
                password=DEMO_PASSWORD,
                now=at,
                default_emergency_number=self.default_emergency_number,
                profile=profile,
                share_with_clinic=["full_record"],
            )
        else:
            user = sign_up_patient(
                self.db,
                email=person.email,
                password=DEMO_PASSWORD,
                profile=profile,
                default_emergency_number=self.default_emergency_number,
                now=at,
            )
        self.users[user.email] = user

    def add_family(self, at: datetime, family: _Family) -> None:
        _, token = create_invitation(
            self.db,
            inviter=self.users[family.of.email],
            email=family.email,
            now=at - timedelta(hours=20),
            scopes=list(family.scopes),
        )
        user = accept_invitation(
            self.db,
            token=token,
            display_name=family.name,
            password=DEMO_PASSWORD,
            now=at,
            default_emergency_number=self.default_emergency_number,
        )
        self.users[user.email] = user

    def record(self, at: datetime, person: _Person, by: str, mode: str, answers: dict[str, int]) -> None:
        patient = self.db.execute(select(Patient).where(Patient.user_id == self.users[person.email].id)).scalar_one()
        record_alsfrs_assessment(
            self.db,
            actor=self.users[by],
            patient_id=patient.id,
            answers=answers,
            assessed_on=at.date(),
            administration_mode=mode,
            now=at,
        )

    def _enable_totp(self, user: User, secret: str, at: datetime) -> None:
        enable_second_factor(self.db, user=user, secret=secret, code=current_code(secret, at), now=at)


def _birthday(today: date, age: int) -> date:
    """A date of birth giving ``age`` on ``today`` (the 14th, so no month is too short)."""
    month = today.month - 3 if today.month > 3 else today.month + 9
    year = today.year - age if today.month > 3 else today.year - age - 1
    return date(year, month, 14)


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


Event = tuple[datetime, int, Callable[[datetime], object]]


def _plan(seeder: _Seeder, *, now: datetime, rng: random.Random) -> list[Event]:
    end = now.date() - timedelta(days=3)  # the newest assessment is a few days old
    timelines = {p.email: _timeline(p, end, rng) for p in _PEOPLE}
    events: list[Event] = []

    def add(at: datetime, action: Callable[[datetime], object]) -> None:
        events.append((at, len(events), action))

    opened = min(t.visits[0] for t in timelines.values()) - timedelta(days=60)
    add(_at(opened, 9), seeder.open_clinic)
    for i, staff in enumerate(_CLINICIANS):
        add(_at(opened + timedelta(days=2 + i), 10), partial(seeder.add_clinician, staff=staff))
    family_joins: dict[str, tuple[_Family, datetime]] = {}
    for fam in _FAMILY:
        joined = _at(timelines[fam.of.email].visits[0] + _months(fam.joins_after), 19, 30)
        family_joins[fam.of.email] = (fam, joined)
        add(joined, partial(seeder.add_family, family=fam))

    for person in _PEOPLE:
        timeline = timelines[person.email]
        add(_at(timeline.visits[0] - timedelta(days=4), 18), partial(seeder.join, person=person, timeline=timeline))
        course = _course_months(person, timeline)
        for n, day in enumerate(timeline.visits):
            answers = _answers(person, timeline.months_since_onset(day), course, rng)
            if not person.at_clinic:
                mode, by, at = _weighted(rng, _HOME_MODES), person.email, _at(day, 20)
            elif n == 0:
                mode, by, at = "clinician_in_person", _NEUROLOGIST.email, _at(day, 10)
            else:
                mode = _weighted(rng, _CLINIC_MODES)
                family = family_joins.get(person.email)
                if mode == "caregiver" and (family is None or family[1].date() >= day):
                    mode = "self_report"  # no family member in alscare yet to answer
                if mode == "clinician_in_person":
                    by, at = rng.choice(_CLINICIANS).email, _at(day, rng.randint(9, 15), rng.choice((0, 30)))
                elif mode == "clinician_phone":
                    by, at = _NURSE.email, _at(day, rng.randint(10, 15), rng.choice((0, 30)))
                elif mode == "caregiver":
                    assert family is not None
                    by, at = family[0].email, _at(day, 19)
                else:
                    by, at = person.email, _at(day, 20)
            add(at, partial(seeder.record, person=person, by=by, mode=mode, answers=answers))
    demo_rehabilitation.plan_rehabilitation(add, seeder.db, now=now)
    plan_care_wishes(add, seeder.db, now=now)
    return events


def seed_demo(db: Session, *, now: datetime, default_emergency_number: str) -> list[DemoLogin]:
    """Fill an empty database with the demo; return the demo accounts (see the module docstring).

    Does nothing if any account exists already (so real data is never mixed with demo data, and a restart
    seeds nothing twice); then it returns whichever demo accounts exist. The caller owns the transaction.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (for example datetime.now(UTC))")
    if db.execute(select(func.count()).select_from(User)).scalar_one() == 0:
        now = now.astimezone(UTC)  # the audit hash covers the time as given; stored and re-read as UTC
        seeder = _Seeder(db=db, default_emergency_number=default_emergency_number)
        for at, _, action in sorted(_plan(seeder, now=now, rng=random.Random(SEED)), key=lambda e: e[:2]):
            action(at)
        seed_demo_diagnosis(db, now=now)  # issue 10: each person's tests before diagnosis
        seed_demo_medicines(db, now=now)
        db.flush()
        seed_clinic_history(db, now=now, clinician_email=_NEUROLOGIST.email)
    return demo_logins(db)


def demo_logins(db: Session) -> list[DemoLogin]:
    """The demo accounts present in the database, in a fixed order (staff, people with ALS, family)."""
    found = {u.email: u for u in db.execute(select(User).where(User.email.in_(DEMO_EMAILS))).scalars()}
    return [
        DemoLogin(email=u.email, role=u.role, name=u.display_name,
                  totp_secret=u.totp_secret if u.totp_enabled else None)
        for email in DEMO_EMAILS
        if (u := found.get(email)) is not None
    ]  # fmt: skip


def demo_people(db: Session) -> dict[str, int]:
    """Patient id of each demo person with ALS, by their email (for ``alscare demo seed``)."""
    rows = db.execute(
        select(User.email, Patient.id).join(Patient, Patient.user_id == User.id).where(User.email.in_(DEMO_EMAILS))
    ).all()
    return {email: patient_id for email, patient_id in rows}
