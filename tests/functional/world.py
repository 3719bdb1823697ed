"""A small world of people and records for HTTP tests, built through the actions.

Two clinics; at clinic A an administrator and a clinician, at clinic B a clinician. Patient P (a person with
ALS, with an account and ALSFRS-R scores) shares their full record with clinic A. Patient Q has a record of
their own that nobody else can see. Around P: caregiver G (granted check-ins), caregiver R (granted, then
revoked), caregiver N (never granted anything), proxy X (acts for P).

Every person's name, email and dates carry a distinctive marker, so a test can tell from a response body alone
whether a record leaked: ``P_MARKERS`` must never appear in an answer to someone P did not share with, nor
``Q_MARKERS`` in any answer to anyone but Q.

Signing in: ``signed_in_client`` makes a session row for the user directly and sets the cookie, so two-factor
sign-in (tested elsewhere) does not get in the way of tests about what a signed-in person may see.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from alscare.actions import accounts, consent
from alscare.actions.assessments import record_alsfrs_assessment
from alscare.actions.care_wishes import save_care_wishes
from alscare.actions.checkins import record_check_in
from alscare.actions.medicines import add_medicine, record_liver_test
from alscare.actions.prompts import ALERT_SOURCE
from alscare.actions.records import own_patient
from alscare.actions.rehabilitation import assign_programme
from alscare.mail import OutboxMailer
from alscare.security.passwords import hash_password
from alscare.security.tokens import csrf_token, new_token, token_digest
from alscare.settings import load_settings
from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import Alert, Base, Clinic, Notification, User, WebSession
from alscare.web.app import create_app
from alscare.web.middleware import SESSION_COOKIE

# The world's clock: fixed, so dates in examples and session expiry never depend on the day the suite runs.
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE_URL = "https://testserver"
PASSWORD = "violet kettle harbour lantern"
EMERGENCY_NUMBER = "112"

# Actor names: who makes a request. Each is one relationship to P's record.
OWN = "own_patient_p"
PROXY = "proxy_x"
CAREGIVER_GRANTED = "caregiver_g_granted"
CAREGIVER_REVOKED = "caregiver_r_revoked"
CAREGIVER_NOT_GRANTED = "caregiver_n_not_granted"
CLINICIAN_GRANTED_CLINIC = "clinician_a_granted_clinic"
CLINICIAN_OTHER_CLINIC = "clinician_b_other_clinic"
ADMIN_GRANTED_CLINIC = "admin_a_granted_clinic"
OTHER_PATIENT = "other_patient_q"
ANONYMOUS = "anonymous"

ACTORS: tuple[str, ...] = (
    OWN,
    PROXY,
    CAREGIVER_GRANTED,
    CAREGIVER_REVOKED,
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    ADMIN_GRANTED_CLINIC,
    OTHER_PATIENT,
    ANONYMOUS,
)

# Patient P's record. Every value is findable in a response body as text.
P_NAME = "Paula PPLEAKMARKER"
P_EMAIL = "paula.ppleakmarker@example.org"
P_BIRTH = date(1961, 7, 23)
P_ONSET = date(2024, 2, 11)
P_DIAGNOSIS = date(2024, 9, 30)
P_EMERGENCY = "+44 7700 900417"
P_MARKERS: tuple[str, ...] = (
    "PPLEAKMARKER",
    P_EMAIL,
    P_BIRTH.isoformat(),
    "23 July 1961",
    P_ONSET.isoformat(),
    P_DIAGNOSIS.isoformat(),
    P_EMERGENCY,
)

# P's care wishes (version 1). Shown only to those who may read the care_wishes scope.
P_CARE_WISHES: dict[str, Any] = {
    "resuscitation": {"cpr": "no"},
    "communication": {"how": "Ask CWLEAKMARKER yes or no questions."},
}

# Patient Q's record: nobody but Q may ever see any of this.
Q_NAME = "Quentin ZZLEAKMARKER"
Q_EMAIL = "quentin.zzleakmarker@example.org"
Q_BIRTH = date(1958, 11, 5)
Q_ONSET = date(2023, 5, 17)
Q_MARKERS: tuple[str, ...] = ("ZZLEAKMARKER", Q_EMAIL, Q_BIRTH.isoformat(), Q_ONSET.isoformat())


@dataclass(frozen=True)
class World:
    """Ids of everything the tests talk about. ``users`` maps actor name to user id (no entry for anonymous)."""

    clinic_a_id: int
    clinic_b_id: int
    patient_p_id: int
    patient_q_id: int
    users: dict[str, int]
    emails: dict[str, str]
    grant_g_id: int
    grant_r_id: int
    # A live grant P can take back in a test without changing any actor's access to the routes under test.
    spare_grant_id: int
    # P's one check-in (routine, raises no alert), for routes that name a check-in.
    check_in_id: int = 0
    # P's one medicine (riluzole, started 15 Jan 2026; liver test done 27 Feb), for routes that name an entry.
    medicine_entry_id: int = 0


def _answers(bulbar: int, fine: int, gross: int, breathing: int) -> dict[str, int]:
    """Twelve ALSFRS-R answers, three items per domain, each domain's items given the same score."""
    items = ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")
    scores = (bulbar,) * 3 + (fine,) * 3 + (gross,) * 3 + (breathing,) * 3
    return dict(zip(items, scores, strict=True))


def _staff(db: Session, *, email: str, name: str, role: str, clinic_id: int, password_hash: str) -> User:
    # No action creates clinic staff without the invitation e-mail round trip; a row is what the CLI makes too.
    user = User(
        email=email,
        display_name=name,
        role=role,
        password_hash=password_hash,
        clinic_id=clinic_id,
        totp_enabled=False,
        is_active=True,
        created_at=NOW,
    )
    db.add(user)
    db.flush()
    return user


def _invited(db: Session, *, inviter: User, email: str, name: str, scopes: list[str] | None = None) -> User:
    _, token = accounts.create_invitation(db, inviter=inviter, email=email, now=NOW, scopes=scopes)
    return accounts.accept_invitation(
        db, token=token, display_name=name, password=PASSWORD, now=NOW, default_emergency_number=EMERGENCY_NUMBER
    )


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def _hash_once(password: str) -> str:
    assert password == PASSWORD
    return _password_hash()


def _forget_seeding_prompts(db: Session) -> None:
    """Drop the guideline-prompt alerts raised while the history above was being entered.

    Entering a history one row at a time raises prompts on the way (the first old assessment, before any FVC,
    is "breathing assessment overdue"); by the end the record is up to date and nothing fires. The world stands
    for a clinic whose earlier prompts are long dealt with, so those alerts and their queued emails are removed
    and every test starts with no alert at all (tests of prompts raise their own).
    """
    seeded = select(Alert.id).where(Alert.source == ALERT_SOURCE)
    db.execute(delete(Notification).where(Notification.alert_id.in_(seeded)))
    db.execute(delete(Alert).where(Alert.source == ALERT_SOURCE))
    db.flush()


def build_world(db: Session) -> World:
    """Create the world in one transaction and commit it."""
    # Everyone shares one password, and Argon2 is slow on purpose: hash it once per test run, not per account.
    with mock.patch.object(accounts, "hash_password", _hash_once):
        return _build_world(db, staff_hash=_password_hash())


def _build_world(db: Session, *, staff_hash: str) -> World:
    clinic_a = Clinic(name="Clinic Alpha", phone="+44 20 7946 0001", hours="Mon-Fri 9-17", created_at=NOW)
    clinic_b = Clinic(name="Clinic Bravo", phone="+44 20 7946 0002", hours="Mon-Fri 9-17", created_at=NOW)
    db.add_all([clinic_a, clinic_b])
    db.flush()
    admin_a = _staff(
        db, email="admin.a@example.org", name="Ada Admin", role="admin", clinic_id=clinic_a.id, password_hash=staff_hash
    )
    clinician_a = _staff(
        db,
        email="clinician.a@example.org",
        name="Carl Clinician",
        role="clinician",
        clinic_id=clinic_a.id,
        password_hash=staff_hash,
    )
    clinician_b = _staff(
        db,
        email="clinician.b@example.org",
        name="Bea Clinician",
        role="clinician",
        clinic_id=clinic_b.id,
        password_hash=staff_hash,
    )

    # P joins by the clinic's invitation and shares the full record with clinic A while accepting it.
    _, token = accounts.create_invitation(db, inviter=clinician_a, email=P_EMAIL, now=NOW)
    patient_p_user = accounts.accept_invitation(
        db,
        token=token,
        display_name=P_NAME,
        password=PASSWORD,
        now=NOW,
        default_emergency_number=EMERGENCY_NUMBER,
        profile=accounts.PatientProfile(
            full_name=P_NAME,
            date_of_birth=P_BIRTH,
            sex="female",
            height_cm=166,
            onset_date=P_ONSET,
            onset_region="bulbar",
            diagnosis_date=P_DIAGNOSIS,
            emergency_number=P_EMERGENCY,
        ),
        share_with_clinic=["full_record"],
    )
    patient_p = own_patient(db, user=patient_p_user)
    assert patient_p is not None

    # Q signed up alone and shares nothing.
    patient_q_user = accounts.sign_up_patient(
        db,
        email=Q_EMAIL,
        password=PASSWORD,
        profile=accounts.PatientProfile(full_name=Q_NAME, date_of_birth=Q_BIRTH, onset_date=Q_ONSET),
        default_emergency_number=EMERGENCY_NUMBER,
        now=NOW,
    )
    patient_q = own_patient(db, user=patient_q_user)
    assert patient_q is not None

    caregiver_g = _invited(db, inviter=patient_p_user, email="gina.g@example.org", name="Gina G", scopes=["checkins"])
    caregiver_r = _invited(db, inviter=patient_p_user, email="rob.r@example.org", name="Rob R", scopes=["checkins"])
    proxy_x = _invited(db, inviter=patient_p_user, email="xavier.x@example.org", name="Xavier X", scopes=["proxy"])
    # N has an account (a caregiver of nobody yet): no action makes one without a grant.
    caregiver_n = User(
        email="nina.n@example.org",
        display_name="Nina N",
        role="caregiver",
        password_hash=staff_hash,
        totp_enabled=False,
        is_active=True,
        created_at=NOW,
    )
    db.add(caregiver_n)
    db.flush()

    grants = {(g.grantee_user_id, g.scope): g.id for g in consent.grants_of(db, patient_id=patient_p.id)}
    grant_g_id = grants[(caregiver_g.id, "checkins")]
    grant_r_id = grants[(caregiver_r.id, "checkins")]
    consent.revoke_access(db, actor=patient_p_user, patient_id=patient_p.id, grant_id=grant_r_id, now=NOW)
    # A spare grant for the routes that revoke one (G's prognosis: the matrix counts it in G's access).
    spare = consent.grant_access(
        db, actor=patient_p_user, patient_id=patient_p.id, scope="prognosis", now=NOW, grantee_user_id=caregiver_g.id
    )

    for when, answers, actor in (
        (date(2025, 3, 10), _answers(4, 4, 4, 4), patient_p_user),
        (date(2025, 9, 8), _answers(3, 4, 3, 4), clinician_a),
        (date(2026, 2, 2), _answers(3, 3, 3, 4), caregiver_g),
    ):
        record_alsfrs_assessment(
            db,
            actor=actor,
            patient_id=patient_p.id,
            answers=answers,
            assessed_on=when,
            administration_mode="self_report",
            now=NOW,
        )
    for when, answers in ((date(2025, 1, 20), _answers(2, 3, 3, 4)), (date(2025, 12, 1), _answers(1, 2, 3, 3))):
        record_alsfrs_assessment(
            db,
            actor=patient_q_user,
            patient_id=patient_q.id,
            answers=answers,
            assessed_on=when,
            administration_mode="self_report",
            now=NOW,
        )

    p_check_in = record_check_in(
        db,
        actor=patient_p_user,
        patient_id=patient_p.id,
        client_id="0b7e7a52-51c4-4f0e-8a43-6f1d2c3b4a59",
        # With a breathing measurement, as at a clinic visit: the record is up to date, so this check-in raises no
        # guideline prompt (actions.prompts), and tests that count alerts see only what they cause themselves.
        data={"cramps": True, "fvc_percent": 92, "snip_cmh2o": 80},
        now=NOW,
    )

    # An exercise programme for P, so the session log has something to log against (issue 10, rehabilitation).
    assign_programme(db, actor=clinician_a, patient_id=patient_p.id, exercises={"hand_stretch": 3}, now=NOW)
    medicine = add_medicine(
        db,
        actor=patient_p_user,
        patient_id=patient_p.id,
        now=NOW,
        catalogue_id="riluzole",
        dose="50 mg twice a day",
        started_on=date(2026, 1, 15),
    )
    # Its liver tests are up to date (the last on 27 Feb; the next is due 15 Mar), so the world starts with no
    # monitoring prompt: check-ins in tests raise only what the test itself reports.
    record_liver_test(
        db,
        actor=clinician_a,
        patient_id=patient_p.id,
        entry_id=medicine.id,
        done_on=date(2026, 2, 27),
        now=NOW,
    )
    # P's care wishes: one version, for the routes that name a version (care_wishes scope).
    save_care_wishes(db, actor=patient_p_user, patient_id=patient_p.id, answers=P_CARE_WISHES, now=NOW)
    _forget_seeding_prompts(db)

    people = {
        OWN: patient_p_user,
        PROXY: proxy_x,
        CAREGIVER_GRANTED: caregiver_g,
        CAREGIVER_REVOKED: caregiver_r,
        CAREGIVER_NOT_GRANTED: caregiver_n,
        CLINICIAN_GRANTED_CLINIC: clinician_a,
        CLINICIAN_OTHER_CLINIC: clinician_b,
        ADMIN_GRANTED_CLINIC: admin_a,
        OTHER_PATIENT: patient_q_user,
    }
    world = World(
        clinic_a_id=clinic_a.id,
        clinic_b_id=clinic_b.id,
        patient_p_id=patient_p.id,
        patient_q_id=patient_q.id,
        users={name: u.id for name, u in people.items()},
        emails={name: u.email for name, u in people.items()},
        grant_g_id=grant_g_id,
        grant_r_id=grant_r_id,
        spare_grant_id=spare.id,
        check_in_id=p_check_in.check_in.id,
        medicine_entry_id=medicine.id,
    )
    db.commit()
    return world


def app_on(engine: Engine, folder: Path) -> FastAPI:
    """An app on ``engine`` as the tests' ``app`` fixture makes it (fixed secret, https base URL, mail to an
    outbox in ``folder``), on the world's clock; for module-scoped fixtures that build the world once."""
    base = load_settings({"ALSCARE_DATA_DIR": str(folder / "data"), "ALSCARE_SECRET_KEY": "x" * 48})
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(
        # No worker runs beside it: /healthz leaves the heartbeat out.
        replace(base, database_url=url, base_url=BASE_URL, worker_stale_seconds=0),
        engine=engine,
        mailer=OutboxMailer(folder / "outbox"),
    )
    freeze_clock(app)
    return app


def freeze_clock(app: FastAPI, now: datetime = NOW) -> None:
    """Make the app's clock read ``now`` (sessions, audit times and date checks all use it)."""
    app.state.ctx.clock = lambda: now


def signed_in_client(app: FastAPI, user: User | int | None) -> TestClient:
    """A client whose cookie is a session signed in as ``user`` (``None``: a fresh anonymous session).

    The client sends the session's CSRF token as ``X-CSRF-Token`` on every request, as the API wants;
    page forms need it as a field too (``csrf_of``).
    """
    ctx = app.state.ctx
    token = new_token()
    if user is not None:
        user_id = user if isinstance(user, int) else user.id
        with ctx.sessions() as db:
            db.add(
                WebSession(
                    token_digest=token_digest(token),
                    user_id=user_id,
                    created_at=ctx.clock(),
                    expires_at=ctx.clock() + timedelta(hours=ctx.settings.session_hours),
                )
            )
            db.commit()
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, token)
    client.headers["X-CSRF-Token"] = csrf_token(ctx.settings.secret_key, token)
    return client


def csrf_of(client: TestClient) -> str:
    """The CSRF token the client sends (for page forms' ``csrf_token`` field)."""
    return str(client.headers["X-CSRF-Token"])


# --- The world once per database for a whole module, each test in a transaction rolled back afterwards -----


def world_once_per_database(label: str) -> tuple[Any, ...]:
    """Fixtures for a module that builds the world once per database and runs each test inside one transaction
    on one connection, rolled back at its end (the app's commits become savepoints inside it, so they are seen
    by later requests and by the test, and undone afterwards): every test starts from the same untouched world.

    Returns the fixtures ``_world_database``, ``_world``, ``_module_app``, ``conn``, ``app`` and ``world``, in
    that order; a module assigns them to those names (they ask for each other by name)::

        _world_database, _world, _module_app, conn, app, world = world_once_per_database("matrix")

    ``label`` names the module's temporary folders. Tests in such a module use its ``app``, ``conn`` and
    ``world``, not ``db``/``engine`` (those are a different database).
    """

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def _world_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
        """A database holding the world, built once per backend for the module."""
        if request.param == "sqlite":
            path = tmp_path_factory.mktemp(label) / "alscare.db"
            shutil.copy(request.getfixturevalue("_sqlite_template"), path)
            engine = make_engine(f"sqlite:///{path}")
        else:
            engine = make_engine(request.getfixturevalue("_postgres_database"))
        yield engine
        if request.param == "postgresql":
            # Leave the shared test database as empty as the next module expects it.
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            with engine.begin() as c:
                c.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()

    @pytest.fixture(scope="module")
    def _world(_world_database: Engine) -> World:
        with make_sessionmaker(_world_database)() as db:
            return build_world(db)

    @pytest.fixture(scope="module")
    def _module_app(_world_database: Engine, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
        return app_on(_world_database, tmp_path_factory.mktemp(f"{label}-app"))

    @pytest.fixture
    def conn(_world_database: Engine, _world: World, _module_app: FastAPI) -> Iterator[Connection]:
        """One connection in one transaction for the whole test, rolled back at its end."""
        ctx = _module_app.state.ctx
        with _world_database.connect() as connection:
            outer = connection.begin()
            ctx.sessions = sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            try:
                yield connection
            finally:
                ctx.sessions = make_sessionmaker(_world_database)
                freeze_clock(_module_app)  # a test may have moved the clock on
                outer.rollback()

    @pytest.fixture
    def app(_module_app: FastAPI, conn: Connection) -> FastAPI:
        return _module_app

    @pytest.fixture
    def world(_world: World, conn: Connection) -> World:
        return _world

    return _world_database, _world, _module_app, conn, app, world


# --- Routes, read at collection time so tests parametrised over them grow as routes are added ----------------


def app_for_collection() -> FastAPI:
    """An app on a throwaway in-memory database, only for reading its routes and OpenAPI document."""
    scratch = Path(tempfile.gettempdir())
    settings = load_settings(
        {"ALSCARE_DATA_DIR": str(scratch), "ALSCARE_SECRET_KEY": "x" * 48, "ALSCARE_DATABASE_URL": "sqlite://"}
    )
    return create_app(settings, mailer=OutboxMailer(scratch / "alscare-unused-outbox"))


def http_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, pages and API alike (HEAD aside), in a stable order."""
    # FastAPI >= 0.130 keeps included routers as branches; iter_route_contexts flattens them.
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: list[Any] = list(iter_contexts(app.routes)) if iter_contexts else list(app.routes)
    found = {
        (method, route.path)
        for route in routes
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD"
    }
    return sorted(found, key=lambda mp: (mp[1], mp[0]))
