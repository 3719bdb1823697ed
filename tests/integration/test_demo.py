"""The demo seed: the right people, plausible ALSFRS-R histories, the described sharing, a sound audit
trail, and nothing added on a second start."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alscare.access import Scope
from alscare.actions.accounts import PatientProfile, authenticate, sign_up_patient
from alscare.actions.audit import verify
from alscare.actions.records import may
from alscare.demo import DEMO_EMAILS, DEMO_PASSWORD, DemoLogin, seed_demo
from alscare.security.passwords import check_password_policy
from alscare.security.totp import current_code, verify_totp
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker, transaction
from alscare.storage.models import AlsfrsAssessment, AuditEvent, Base, Clinic, ConsentGrant, Patient, User

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAYS_PER_MONTH = 365.25 / 12
ALL_MODES = {"clinician_in_person", "clinician_phone", "self_report", "caregiver"}
# The items of each domain (question 5 counts whichever of 5a/5b was answered), keyed by onset region.
ONSET_DOMAIN_ITEMS = {
    "bulbar": ("1", "2", "3"),
    "upper_limb": ("4", "5a", "5b", "6"),
    "lower_limb": ("7", "8", "9"),
    "respiratory": ("10", "11", "12"),
}


@dataclass(frozen=True)
class Seeded:
    factory: sessionmaker[Session]
    logins: list[DemoLogin]


def _fresh_database(path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{path}/t.db")
    migrate.upgrade(engine)
    return make_sessionmaker(engine)


def _seed(factory: sessionmaker[Session]) -> list[DemoLogin]:
    with transaction(factory) as db:
        return seed_demo(db, now=NOW, default_emergency_number="999")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """One seeded database shared by the read-only tests below (seeding hashes ten passwords)."""
    factory = _fresh_database(tmp_path_factory.mktemp("demo"))
    return Seeded(factory, _seed(factory))


@pytest.fixture
def db(seeded: Seeded) -> Iterator[Session]:
    with seeded.factory() as session:
        yield session
        session.rollback()


def _history(db: Session) -> dict[str, list[AlsfrsAssessment]]:
    """Each person's assessments, oldest first, keyed by their email."""
    rows = db.execute(
        select(User.email, AlsfrsAssessment)
        .join(Patient, Patient.user_id == User.id)
        .join(AlsfrsAssessment, AlsfrsAssessment.patient_id == Patient.id)
        .order_by(AlsfrsAssessment.assessed_on, AlsfrsAssessment.id)
    ).all()
    history: dict[str, list[AlsfrsAssessment]] = {}
    for email, row in rows:
        history.setdefault(email, []).append(row)
    return history


def _months(start: date, end: date) -> float:
    return (end - start).days / DAYS_PER_MONTH


def _slope(rows: list[AlsfrsAssessment]) -> float:
    """Least-squares slope of the total in points/month (computed here, not by the code under test)."""
    xs = [_months(rows[0].assessed_on, r.assessed_on) for r in rows]
    ys = [float(r.total) for r in rows]
    x_mean, y_mean = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True))
    return sxy / sum((x - x_mean) ** 2 for x in xs)


def _user(db: Session, email: str) -> User:
    return db.execute(select(User).where(User.email == email)).scalar_one()


def _patient(db: Session, email: str) -> Patient:
    return db.execute(select(Patient).join(User, Patient.user_id == User.id).where(User.email == email)).scalar_one()


def _row_counts(db: Session) -> dict[str, int]:
    return {t.name: db.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.sorted_tables}


# --- Who is there ------------------------------------------------------------------------------------------


def test_demo_password_meets_the_policy() -> None:
    assert check_password_policy(DEMO_PASSWORD) is None


# The hand-made cast signs in with @demo.alscare.example addresses; the clinic's synthetic two-year history
# (alscare.demo_clinic) adds people without accounts and family at @synthetic.alscare.example.
CAST = User.email.like("%@demo.alscare.example")


def test_one_clinic_with_its_staff_and_the_people_and_family(db: Session) -> None:
    clinic = db.execute(select(Clinic)).scalar_one()
    assert clinic.name == "Riverside MND Clinic"
    assert clinic.phone and clinic.hours and clinic.email and clinic.address
    roles = {role: n for role, n in db.execute(select(User.role, func.count()).where(CAST).group_by(User.role))}
    assert roles == {"admin": 1, "clinician": 2, "patient": 5, "caregiver": 2}
    staff = db.execute(select(User).where(User.role.in_(("admin", "clinician")))).scalars().all()
    assert {u.clinic_id for u in staff} == {clinic.id}
    patients = db.execute(select(Patient).where(Patient.user_id.is_not(None))).scalars().all()
    assert len(patients) == 5
    assert sorted(str(p.clinic_id) for p in patients) == [str(clinic.id)] * 4 + ["None"]
    assert {p.onset_region for p in patients} >= {"bulbar", "upper_limb", "lower_limb", "respiratory"}
    for p in patients:
        assert p.date_of_birth and p.sex and p.height_cm and p.onset_date and p.diagnosis_date
        assert p.date_of_birth < p.onset_date < p.diagnosis_date <= NOW.date()
        assert p.emergency_number == "999"


def test_returned_logins_match_the_accounts_and_work(seeded: Seeded, db: Session) -> None:
    assert [login.email for login in seeded.logins] == list(DEMO_EMAILS)
    for login in seeded.logins:
        result = authenticate(db, email=login.email, password=DEMO_PASSWORD)
        assert result is not None and result.user.role == login.role
        assert result.user.display_name == login.name
        if login.role in ("admin", "clinician"):
            assert login.totp_secret is not None and result.needs_second_factor
            later = datetime(2027, 1, 1, tzinfo=UTC)
            assert verify_totp(login.totp_secret, current_code(login.totp_secret, later), at=later,
                               last_used_step=result.user.totp_last_step) is not None  # fmt: skip
        else:
            assert login.totp_secret is None and not result.needs_second_factor


# --- ALSFRS-R histories ------------------------------------------------------------------------------------


def test_each_person_has_6_to_24_months_of_valid_declining_history(db: Session) -> None:
    history = _history(db)
    assert len(history) == 5
    for email, rows in history.items():
        patient = _patient(db, email)
        assert len(rows) >= 3, email
        assert 6 <= _months(rows[0].assessed_on, rows[-1].assessed_on) <= 24, email
        assert all(0 <= r.total <= 48 and r.total == sum(r.answers.values()) for r in rows), email
        assert all(set(r.answers.values()) <= {0, 1, 2, 3, 4} and len(r.answers) == 12 for r in rows), email
        assert all(patient.onset_date is not None and patient.onset_date < r.assessed_on < NOW.date() for r in rows)
        gaps = [(b.assessed_on - a.assessed_on).days for a, b in pairwise(rows)]
        assert all(28 <= g <= 84 for g in gaps), email
        assert _slope(rows) < 0 and rows[-1].total < rows[0].total, email


def test_slopes_span_slow_intermediate_and_fast_progression(db: Session) -> None:
    # Kimura 2006 three-group convention: slow < 0.5, intermediate 0.5 to < 1.0, fast ≥ 1.0 points/month.
    slopes = [-_slope(rows) for rows in _history(db).values()]
    assert any(s < 0.5 for s in slopes)
    assert any(0.5 <= s < 1.0 for s in slopes)
    assert any(s >= 1.0 for s in slopes)
    # Population cohorts average about 0.9 points/month (van Eijk et al., PRECISION-ALS).
    assert 0.6 <= sum(slopes) / len(slopes) <= 1.2


def test_the_onset_region_is_the_most_affected_at_the_first_assessment(db: Session) -> None:
    for email, rows in _history(db).items():
        onset_region = _patient(db, email).onset_region
        assert onset_region is not None
        first = rows[0].answers
        lost = {region: sum(4 - first[i] for i in items if i in first) for region, items in ONSET_DOMAIN_ITEMS.items()}
        others = max(v for region, v in lost.items() if region != onset_region)
        assert lost[onset_region] > others, (email, lost)


def test_a_fast_bulbar_person_gets_a_gastrostomy_part_way(db: Session) -> None:
    with_tube = [(email, rows) for email, rows in _history(db).items() if any("5b" in r.answers for r in rows)]
    assert len(with_tube) == 1
    email, rows = with_tube[0]
    assert _patient(db, email).onset_region == "bulbar"
    forms = ["5b" if "5b" in r.answers else "5a" for r in rows]
    switch = forms.index("5b")
    assert switch > 0 and forms == ["5a"] * switch + ["5b"] * (len(forms) - switch)
    # Swallowing: at least "changed consistency" (2) by mouth alone, at most "needs tube feeding" (1) after.
    assert all(r.answers["3"] >= 2 for r in rows[:switch])
    assert all(r.answers["3"] <= 1 for r in rows[switch:])


def test_someone_starts_bipap_at_night_later(db: Session) -> None:
    on_bipap = [rows for rows in _history(db).values() if any(r.answers["12"] <= 3 for r in rows)]
    assert on_bipap
    for rows in on_bipap:
        assert rows[0].answers["12"] == 4
        item_12 = [r.answers["12"] for r in rows]
        assert item_12 == sorted(item_12, reverse=True)  # support, once started, is not given up


def test_every_way_of_taking_the_alsfrs_r_is_used(db: Session) -> None:
    modes = set(db.execute(select(AlsfrsAssessment.administration_mode)).scalars())
    assert modes == ALL_MODES


# --- Sharing -----------------------------------------------------------------------------------------------


def test_clinic_patients_share_their_full_record_with_the_clinic(db: Session) -> None:
    clinic = db.execute(select(Clinic)).scalar_one()
    clinic_grants = db.execute(select(ConsentGrant).where(ConsentGrant.grantee_clinic_id == clinic.id)).scalars()
    at_clinic = db.execute(select(Patient.id).where(Patient.clinic_id == clinic.id)).scalars().all()
    assert sorted((g.patient_id, g.scope, g.revoked_at) for g in clinic_grants) == [
        (pid, "full_record", None) for pid in sorted(at_clinic)
    ]
    nurse = _user(db, "nurse.lindqvist@demo.alscare.example")
    admin = _user(db, "admin@demo.alscare.example")
    alone = db.execute(select(Patient).where(Patient.clinic_id.is_(None))).scalar_one()
    for patient in db.execute(select(Patient).where(Patient.clinic_id == clinic.id)).scalars():
        assert may(db, user=nurse, patient=patient, scope=Scope.CHECKINS)
        assert not may(db, user=admin, patient=patient, scope=Scope.CHECKINS)
    assert not may(db, user=nurse, patient=alone, scope=Scope.PROFILE)


def test_family_grants_one_checkins_and_care_wishes_one_proxy(db: Session) -> None:
    user_grants = db.execute(
        select(User.email, ConsentGrant.scope, ConsentGrant.patient_id)
        .join(User, ConsentGrant.grantee_user_id == User.id)
        .where(ConsentGrant.revoked_at.is_(None), CAST)
    )
    by_grantee: dict[str, set[tuple[str, int]]] = {}
    for email, scope, patient_id in user_grants:
        by_grantee.setdefault(email, set()).add((scope, patient_id))
    caregivers = db.execute(select(User.email).where(User.role == "caregiver", CAST)).scalars().all()
    assert set(by_grantee) == set(caregivers)
    scope_sets = sorted(sorted(scope for scope, _ in grants) for grants in by_grantee.values())
    assert scope_sets == [["care_wishes", "checkins"], ["proxy"]]
    assert len({pid for grants in by_grantee.values() for _, pid in grants}) == 2  # two different people
    for email, grants in by_grantee.items():
        (patient_id,) = {pid for _, pid in grants}
        patient = db.get(Patient, patient_id)
        assert patient is not None
        proxy = any(scope == "proxy" for scope, _ in grants)
        user = _user(db, email)
        assert may(db, user=user, patient=patient, scope=Scope.CHECKINS)
        assert may(db, user=user, patient=patient, scope=Scope.SHARING) is proxy
        assert may(db, user=user, patient=patient, scope=Scope.MEDICINES) is proxy


# --- Audit and restarts ------------------------------------------------------------------------------------


def test_the_audit_chain_verifies_and_reads_in_time_order(db: Session) -> None:
    assert verify(db) == []
    times = db.execute(select(AuditEvent.at).order_by(AuditEvent.id)).scalars().all()
    assert times and times == sorted(times) and times[-1] <= NOW
    assert db.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "denied")).scalar() == 0


def test_a_second_start_adds_nothing_and_the_same_now_gives_the_same_data(seeded: Seeded, tmp_path: Path) -> None:
    factory = _fresh_database(tmp_path)
    first = _seed(factory)
    with factory() as db:
        before = _row_counts(db)
    again = _seed(factory)
    with factory() as db:
        assert _row_counts(db) == before
        assert verify(db) == []
        repeat = {e: [(r.assessed_on, r.administration_mode, r.answers) for r in rows]
                  for e, rows in _history(db).items()}  # fmt: skip
    assert again == first == seeded.logins
    with seeded.factory() as db:
        original = {e: [(r.assessed_on, r.administration_mode, r.answers) for r in rows]
                    for e, rows in _history(db).items()}  # fmt: skip
    assert repeat == original


def test_a_database_with_real_accounts_gets_no_demo(tmp_path: Path) -> None:
    factory = _fresh_database(tmp_path)
    with transaction(factory) as db:
        sign_up_patient(db, email="someone@example.org", password="a real person's passphrase",
                        profile=PatientProfile(full_name="Someone Real"), default_emergency_number="999",
                        now=NOW)  # fmt: skip
    assert _seed(factory) == []
    with factory() as db:
        counts = _row_counts(db)
    assert (counts["users"], counts["clinics"], counts["alsfrs_assessments"]) == (1, 0, 0)


def test_seeding_refuses_a_naive_time(tmp_path: Path) -> None:
    factory = _fresh_database(tmp_path)
    with transaction(factory) as db, pytest.raises(ValueError, match="timezone-aware"):
        seed_demo(db, now=datetime(2026, 11, 26, 12, 0), default_emergency_number="999")


def test_the_clinic_looks_alive(db: Session) -> None:
    """Two years of history at the clinic: alerts in every state, overdue people, answered and unanswered
    messages (alscare.demo_clinic)."""
    from alscare.storage.models import Alert, CheckIn, Message
    from alscare.storage.models.clinic_dashboard import PatientSummary

    statuses = set(db.execute(select(Alert.status)).scalars())
    assert statuses == {"open", "acknowledged", "resolved"}
    assert set(db.execute(select(Alert.severity)).scalars()) == {"emergency", "contact_team", "prompt"}
    first = db.execute(select(func.min(CheckIn.submitted_at))).scalar_one()
    assert (NOW - first).days >= 700
    assert db.execute(select(func.count()).where(PatientSummary.next_due_at <= NOW)).scalar_one() > 0
    sides = set(db.execute(select(Message.from_clinic)).scalars())
    assert sides == {True, False}
