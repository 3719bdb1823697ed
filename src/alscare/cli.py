"""The ``alscare`` command.

Clinical commands read one JSON object on standard input and write one on standard output, so clinics and
researchers can script them. Invalid input exits with status 2 and a message naming the field.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any, NoReturn

import typer

from alscare.clinical.alsfrs_r import Assessment
from alscare.clinical.criteria import CriteriaInput, evaluate
from alscare.clinical.errors import InvalidInput
from alscare.clinical.forecast import FVC_PERCENT_BOUNDS, forecast
from alscare.clinical.prognosis import EncalsPredictors, predict
from alscare.clinical.progression import DatedTotal, summarise_progression
from alscare.clinical.staging import kings_stage, mitos_stage
from alscare.clinical.triage import CheckIn, triage

app = typer.Typer(help="alscare: ALS care companion and clinic monitor.", no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
clinic_app = typer.Typer(help="Clinics.", no_args_is_help=True)
app.add_typer(clinic_app, name="clinic")

INPUT_ERROR = 2


def _fail(field: str, message: str) -> NoReturn:
    typer.echo(json.dumps({"error": {"field": field, "message": message}}), err=True)
    raise typer.Exit(INPUT_ERROR)


def _read_object() -> dict[str, Any]:
    raw = sys.stdin.read()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        _fail("input", f"not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})")
    if not isinstance(data, dict):
        _fail("input", "expected one JSON object")
    return data


def _only(data: Mapping[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            _fail(key, "unknown field")


def _run(compute: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    data = _read_object()
    try:
        result = compute(data)
    except InvalidInput as e:
        _fail(e.field, e.message)
    typer.echo(json.dumps(result, indent=2))


def _require(data: Mapping[str, Any], field: str) -> Any:
    if field not in data:
        _fail(field, "is required")
    return data[field]


def _bool(data: Mapping[str, Any], field: str, default: bool = False) -> bool:
    value = data.get(field, default)
    if not isinstance(value, bool):
        _fail(field, "must be true or false")
    return value


def _date(value: Any, field: str) -> date:
    if not isinstance(value, str):
        _fail(field, "must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(field, "must be a date written YYYY-MM-DD")


def alsfrs_result(data: dict[str, Any]) -> dict[str, Any]:
    _only(data, {"items", "died"})
    items = _require(data, "items")
    if not isinstance(items, dict):
        _fail("items", "must be an object of item number to score")
    died = _bool(data, "died")
    a = Assessment.from_answers(items)
    k = kings_stage(a, died=died)
    return {
        "total": a.total,
        "domains": {d.value: v for d, v in a.domains.items()},
        "kings_stage": k.stage,
        "kings_4a": k.nutritional_failure,
        "kings_4b": k.respiratory_failure,
        "mitos_stage": mitos_stage(a, died=died).stage,
    }


def progression_result(data: dict[str, Any]) -> dict[str, Any]:
    _only(data, {"onset", "assessments"})
    onset = _date(_require(data, "onset"), "onset")
    raw = _require(data, "assessments")
    if not isinstance(raw, list):
        _fail("assessments", "must be a list of {date, total}")
    points = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            _fail(f"assessments[{i}]", "must be an object with date and total")
        for key in entry:
            if key not in ("date", "total"):
                _fail(f"assessments[{i}].{key}", "unknown field")
        total = _require(entry, "total") if "total" in entry else _fail(f"assessments[{i}].total", "is required")
        if "date" not in entry:
            _fail(f"assessments[{i}].date", "is required")
        if isinstance(total, bool) or not isinstance(total, int):
            _fail(f"assessments[{i}].total", "must be a whole number from 0 to 48")
        points.append(DatedTotal(on=_date(entry["date"], f"assessments[{i}].date"), total=total))
    s = summarise_progression(onset, points)
    return {
        "delta_fs": round(s.delta_fs, 4),
        "delta_fs_band": s.delta_fs_band.value,
        "slope_per_month": None if s.slope_per_month is None else round(s.slope_per_month, 4),
        "slope_se": None if s.slope_se is None else round(s.slope_se, 4),
    }


def prognosis_result(data: dict[str, Any]) -> dict[str, Any]:
    p = predict(EncalsPredictors.from_mapping(data))
    return {
        "linear_predictor": round(p.linear_predictor, 4),
        "median_survival_months": round(p.median_survival_months, 1),
        "survival": {str(k): round(v, 4) for k, v in p.survival.items()},
    }


def triage_result(data: dict[str, Any]) -> dict[str, Any]:
    r = triage(CheckIn.from_mapping(data))
    return {
        "tier": r.tier.value,
        "reasons": [{"rule": x.rule, "message": x.message, "source": x.source} for x in r.reasons],
    }


@app.command()
def alsfrs() -> None:
    """Score an ALSFRS-R assessment: total, domains, King's and MiToS stage."""
    _run(alsfrs_result)


@app.command()
def progression() -> None:
    """Progression rate (ΔFS, Kimura band) and the least-squares slope of the totals."""
    _run(progression_result)


@app.command()
def prognosis() -> None:
    """ENCALS survival prediction (Westeneng 2018), counted in months from symptom onset."""
    _run(prognosis_result)


@app.command(name="triage")
def triage_command() -> None:
    """Triage a symptom check-in: emergency, contact_team or routine, with every rule that fired."""
    _run(triage_result)


# --- forecast -------------------------------------------------------------------------------------------------


def _entries(data: Mapping[str, Any], field: str, value_key: str, required: bool) -> list[tuple[date, Any]]:
    """A list of ``{"date", value_key}`` objects as (date, raw value), naming ``field[i].<key>`` when wrong."""
    raw = _require(data, field) if required else data.get(field, [])
    if not isinstance(raw, list):
        _fail(field, f"must be a list of {{date, {value_key}}}")
    out = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            _fail(f"{field}[{i}]", f"must be an object with date and {value_key}")
        for key in entry:
            if key not in ("date", value_key):
                _fail(f"{field}[{i}].{key}", "unknown field")
        for key in ("date", value_key):
            if key not in entry:
                _fail(f"{field}[{i}].{key}", "is required")
        out.append((_date(entry["date"], f"{field}[{i}].date"), entry[value_key]))
    return out


def forecast_result(data: dict[str, Any]) -> dict[str, Any]:
    """Expected ALSFRS-R total 3, 6 and 12 months after ``today``, with the 80 % prediction interval.

    ``fvc`` is checked but does not change the forecast: the fitted model does not use it (docs/sources.md).
    """
    _only(data, {"today", "onset", "age_at_onset", "bulbar_onset", "assessments", "fvc"})
    today = _date(_require(data, "today"), "today")
    onset = _date(_require(data, "onset"), "onset")
    age = _require(data, "age_at_onset")
    if isinstance(age, bool) or not isinstance(age, int | float):
        _fail("age_at_onset", "must be a number of years")
    _require(data, "bulbar_onset")
    bulbar = _bool(data, "bulbar_onset")
    points = []
    for i, (on, total) in enumerate(_entries(data, "assessments", "total", required=True)):
        if isinstance(total, bool) or not isinstance(total, int):
            _fail(f"assessments[{i}].total", "must be a whole number from 0 to 48")
        points.append(DatedTotal(on=on, total=total))
    low, high = FVC_PERCENT_BOUNDS
    for i, (on, percent) in enumerate(_entries(data, "fvc", "percent", required=False)):
        if isinstance(percent, bool) or not isinstance(percent, int | float) or not low <= percent <= high:
            _fail(f"fvc[{i}].percent", f"must be a number from {low:g} to {high:g} (% of predicted)")
        if on > today:
            _fail(f"fvc[{i}].date", f"must not be after today ({today})")
    f = forecast(today=today, onset=onset, age_at_onset=age, bulbar_onset=bulbar, assessments=points)
    return {
        "slope_per_month": round(f.slope_per_month, 4),
        "horizons": {
            str(h.months): {
                "total": round(h.point.total, 1),
                "low": round(h.point.low, 1),
                "high": round(h.point.high, 1),
            }
            for h in f.horizons
        },
    }


@app.command(name="forecast")
def forecast_command() -> None:
    """Forecast the ALSFRS-R total 3, 6 and 12 months ahead, with an 80 % prediction interval."""
    _run(forecast_result)


# --- alscare criteria (issue 10): diagnostic criteria worksheet, decision support ------------------------


def criteria_result(data: dict[str, Any]) -> dict[str, Any]:
    return evaluate(CriteriaInput.from_mapping(data)).as_json()


@app.command()
def criteria() -> None:
    """Diagnostic criteria worksheet (decision support, never a diagnosis): El Escorial, Awaji, Gold Coast."""
    _run(criteria_result)


# --- alscare content export (issue 10): every patient-facing text as one JSON array ----------------------

# English is written; Spanish is planned (issue 10) and prints an empty array until its texts exist.
CONTENT_LOCALES = ("en", "es")
content_app = typer.Typer(help="Patient-facing texts (articles, leaflets, instructions).", no_args_is_help=True)
app.add_typer(content_app, name="content")


@content_app.command("export")
def content_export(
    locale: Annotated[str, typer.Option(help="Language of the texts, e.g. en or es.")] = "en",
) -> None:
    """Print every registry item as one JSON array of {id, kind, title, text, sources, reviewed_on}.

    A locale with no texts yet (Spanish today) prints an empty array and says so on standard error, so a
    script still gets valid JSON; an unknown locale code exits 2 naming the field.
    """
    from alscare.content import all_items

    if locale not in CONTENT_LOCALES:
        _fail("locale", f"must be one of {', '.join(CONTENT_LOCALES)}")
    items = all_items(locale)
    if not items:
        typer.echo(f"No texts in locale {locale!r} yet; printing an empty list.", err=True)
    typer.echo(json.dumps([item.as_json() for item in items], indent=2, ensure_ascii=False))


# --- alscare prompts (issue 8): guideline prompts from a person's whole history ---------------------------


def prompts_result(data: dict[str, Any]) -> dict[str, Any]:
    from alscare.clinical.history_prompts import history_prompts, parse_history

    found = history_prompts(parse_history(data))
    return {"prompts": [{"id": p.id, "message": p.message, "source": p.source} for p in found]}


@app.command(name="prompts")
def prompts_command() -> None:
    """Guideline prompts (NIV, gastrostomy, overdue reviews, care wishes) from a person's whole history."""
    _run(prompts_result)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Seed demo data into an empty database and print the logins.")] = False,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Deliver notifications from a thread of this process (default: on with one web process, off with "
            "--workers above 1, where `alscare worker` runs as its own process).",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Web processes (uvicorn workers).")] = 1,
) -> None:
    """Start the web app: applies migrations first."""
    import os

    import uvicorn

    from alscare.runtime import prepare_process, seal_existing_secrets
    from alscare.settings import load_settings
    from alscare.storage import migrate
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.web.app import create_app

    settings = load_settings()
    prepare_process(settings)
    if demo and settings.is_sqlite and settings.base_url == "http://127.0.0.1:8000" and port != 8000:
        from dataclasses import replace

        settings = replace(settings, base_url=f"http://{host}:{port}")
        # Worker processes build their own settings from the environment.
        os.environ["ALSCARE_BASE_URL"] = settings.base_url
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    migrate.upgrade(engine)
    seal_existing_secrets(engine)
    if demo:
        from alscare.demo import DEMO_PASSWORD, seed_demo
        from alscare.web.context import utc_now

        with make_sessionmaker(engine)() as db:
            logins = seed_demo(db, now=utc_now(), default_emergency_number=settings.default_emergency_number)
            db.commit()
        typer.echo(f"\nalscare demo on {settings.base_url}  (data in {settings.data_dir})")
        typer.echo(f"Every demo account's password: {DEMO_PASSWORD}")
        for login in logins:
            extra = f"  two-step key: {login.totp_secret}" if login.totp_secret else ""
            typer.echo(f"  {login.role:<10} {login.email:<40} {login.name}{extra}")
        typer.echo("Mails (invitations, password resets) are written to " + str(settings.outbox_dir) + "\n")
    else:
        _first_start_hint(engine, settings.base_url)
    if (
        not settings.base_url.startswith("https://")
        and settings.cookie_secure
        and host not in ("127.0.0.1", "localhost")
    ):
        typer.echo(
            f"warning: ALSCARE_BASE_URL is {settings.base_url}: sign-in cookies are sent over https only, so "
            "serve behind a TLS proxy (see README, 'Running it for a clinic') and set an https:// base URL.",
            err=True,
        )
    delivery = None
    if worker if worker is not None else workers == 1:
        from alscare.delivery.worker import start_worker_thread

        # One thread, in this (supervising) process: uvicorn's worker processes never start their own.
        delivery = start_worker_thread(make_sessionmaker(engine), settings=settings)
    elif workers > 1:
        typer.echo("notifications: run `alscare worker` as its own process (or pass --worker)")
    try:
        # Proxy headers off: X-Forwarded-For is believed only from ALSCARE_TRUSTED_PROXIES (web.deps.client_ip).
        if workers == 1:
            uvicorn.run(
                create_app(settings, engine=engine),
                host=host,
                port=port,
                log_level="info",
                access_log=False,
                proxy_headers=False,
            )
        else:
            engine.dispose()
            uvicorn.run(
                "alscare.web.app:create_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level="info",
                access_log=False,
                proxy_headers=False,
            )
    finally:
        if delivery is not None:
            thread, stop = delivery
            stop.set()
            thread.join(timeout=15)


def _first_start_hint(engine: Any, base_url: str) -> None:
    """On a database with no clinic and no account, say what to do next instead of starting silently."""
    from sqlalchemy import text

    with engine.connect() as conn:
        clinics = conn.execute(text("SELECT count(*) FROM clinics")).scalar_one()
        users = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
    if clinics == 0 and users == 0:
        typer.echo(
            "\nThis database has no clinic and no accounts yet. To open a clinic, run (in another terminal):\n"
            '  alscare clinic create --name "Your clinic" --phone "+44 20 7946 0000" --hours "Mon-Fri 9-17" \\\n'
            '      --admin-email admin@your-clinic.example --admin-name "Your name"\n'
            "It prints a one-time link for the administrator to choose a password.\n"
            f"People with ALS can also sign up for themselves at {base_url}/signup. "
            "To try it out with made-up people instead: alscare serve --demo\n"
        )


def _verify_report(checkpoint_path: Any | None = None) -> tuple[bool, list[str]]:
    """Check the chain and the latest signed checkpoint; (intact, lines to print)."""
    from pathlib import Path

    from sqlalchemy import func, select

    from alscare.actions.audit import verify
    from alscare.actions.audit_anchor import (
        CHECKPOINT_FILE,
        CheckpointUnreadable,
        check_against_checkpoint,
        read_checkpoint,
    )
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.storage.models import AuditEvent

    settings = load_settings()
    path = Path(checkpoint_path) if checkpoint_path else settings.data_dir / CHECKPOINT_FILE
    engine = make_engine(settings.database_url)
    lines: list[str] = []
    with make_sessionmaker(engine)() as db:
        problems = verify(db)  # seals rows still waiting first, and keeps that seal
        db.commit()
        count = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        try:
            checkpoint = read_checkpoint(path, secret_key=settings.secret_key)
        except CheckpointUnreadable as e:
            checkpoint = None
            lines.append(str(e))
            ok_checkpoint = False
        else:
            ok_checkpoint = True
            if checkpoint is not None:
                problems += check_against_checkpoint(db, checkpoint)
    engine.dispose()
    for p in problems:
        lines.append(f"entry {p.entry_id} (position {p.index}): {p.reason}")
    if problems or not ok_checkpoint:
        lines.append(f"audit chain BROKEN: {len(problems) + (not ok_checkpoint)} problem(s) in {count} entries")
        return False, lines
    if checkpoint is None:
        lines.append(
            f"audit chain intact: {count} entries verified (no checkpoint at {path}: write one with "
            "`alscare audit checkpoint`)"
        )
    else:
        lines.append(
            f"audit chain intact: {count} entries verified; matches the signed checkpoint of {checkpoint.written_at} "
            f"(entry {checkpoint.entry_id})"
        )
    return True, lines


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        str | None, typer.Option(help="Checkpoint file (default: audit_checkpoint.json in the data folder).")
    ] = None,
) -> None:
    """Check the audit trail's hash chain and its latest signed checkpoint; exit 1 if anything was changed."""
    ok, lines = _verify_report(checkpoint)
    for line in lines:
        typer.echo(line, err=not ok)
    if not ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    path: Annotated[str | None, typer.Option(help="Where to write it (default: the data folder).")] = None,
    webhook: Annotated[
        str | None, typer.Option(help="Also POST the signed checkpoint (JSON) to this https URL.")
    ] = None,
) -> None:
    """Write the audit trail's newest hash, signed, outside the database (and optionally to a webhook)."""
    import json as _json
    import urllib.request
    from pathlib import Path

    from alscare.actions.audit_anchor import CHECKPOINT_FILE, signed_document, write_checkpoint
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.web.context import utc_now

    settings = load_settings()
    target = Path(path) if path else settings.data_dir / CHECKPOINT_FILE
    if webhook is not None and not webhook.startswith("https://"):
        _fail("webhook", "must be an https:// URL")
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as db:
        written = write_checkpoint(db, path=target, secret_key=settings.secret_key, now=utc_now())
    engine.dispose()
    if written is None:
        typer.echo("the audit trail is empty: nothing to checkpoint")
        return
    typer.echo(f"checkpoint written to {target}: entry {written.entry_id}, {written.entries} entries")
    if webhook is not None:
        body = _json.dumps(signed_document(written, secret_key=settings.secret_key)).encode()
        request = urllib.request.Request(webhook, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                typer.echo(f"checkpoint sent to the webhook (HTTP {response.status})")
        except OSError as e:
            typer.echo(f"checkpoint NOT sent to the webhook: {type(e).__name__}", err=True)
            raise typer.Exit(1) from None


# --- Backup and restore -------------------------------------------------------------------------------------


@app.command()
def backup(path: Annotated[str, typer.Argument(help="The backup file to write (must not exist).")]) -> None:
    """Copy the whole database to a file: SQLite online backup, or pg_dump's custom format for PostgreSQL."""
    from pathlib import Path

    from alscare.settings import load_settings
    from alscare.storage.backup import BackupError
    from alscare.storage.backup import backup as do_backup
    from alscare.storage.db import make_engine

    engine = make_engine(load_settings().database_url)
    try:
        do_backup(engine, Path(path))
    except BackupError as e:
        typer.echo(f"backup failed: {e}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"backup written to {path}")


@app.command()
def restore(path: Annotated[str, typer.Argument(help="A file written by `alscare backup`.")]) -> None:
    """Load a backup into the configured (empty) database, then verify the audit trail."""
    from pathlib import Path

    from alscare.settings import load_settings
    from alscare.storage import migrate
    from alscare.storage.backup import BackupError
    from alscare.storage.backup import restore as do_restore
    from alscare.storage.db import make_engine

    engine = make_engine(load_settings().database_url)
    try:
        do_restore(engine, Path(path))
    except BackupError as e:
        typer.echo(f"restore failed: {e}", err=True)
        raise typer.Exit(1) from None
    # A backup from an older version is brought up to date.
    migrate.upgrade(engine)
    engine.dispose()
    typer.echo(f"restored from {path}")
    ok, lines = _verify_report()
    for line in lines:
        typer.echo(line, err=not ok)
    if not ok:
        raise typer.Exit(1)


@app.command()
def migrate_db() -> None:
    """Apply database migrations (``serve`` does this too)."""
    from alscare.runtime import prepare_process, seal_existing_secrets
    from alscare.settings import load_settings
    from alscare.storage import migrate
    from alscare.storage.db import make_engine

    settings = load_settings()
    prepare_process(settings)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    seal_existing_secrets(engine)
    typer.echo("database is up to date")


@app.command(name="worker")
def worker_command(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    worker_id: Annotated[
        str | None, typer.Option("--worker-id", help="Name in claims (default: host:pid:random).")
    ] = None,
    poll_seconds: Annotated[float, typer.Option(help="Pause when nothing is due.")] = 2.0,
) -> None:
    """Deliver notifications (emails, webhooks), escalate unacknowledged alerts, send reminders.

    ``serve`` runs one in a thread already; run more (``serve --no-worker`` plus workers) on a clinic network.
    Stops cleanly on Ctrl-C or SIGTERM.
    """
    import signal
    import threading

    from alscare.delivery.worker import new_worker_id, run_once, run_worker
    from alscare.runtime import prepare_process
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker

    settings = load_settings()
    prepare_process(settings)
    sessions = make_sessionmaker(make_engine(settings.database_url))
    wid = worker_id or new_worker_id()
    if once:
        handled = run_once(sessions, settings=settings, worker_id=wid)
        typer.echo(f"{handled} notification(s) handled")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _signum, _frame: stop.set())
    typer.echo(f"delivery worker {wid} running; Ctrl-C to stop")
    run_worker(sessions, settings=settings, worker_id=wid, stop=stop, poll_seconds=poll_seconds)


@clinic_app.command("create")
def clinic_create(
    name: Annotated[str, typer.Option(help="The clinic's name.")],
    phone: Annotated[str, typer.Option(help="The phone number people call.")],
    hours: Annotated[str, typer.Option(help="When the phone is answered, in plain words.")],
    admin_email: Annotated[str, typer.Option(help="Email of the clinic's first administrator.")],
    admin_name: Annotated[str, typer.Option(help="Name of the clinic's first administrator.")],
    email: Annotated[str | None, typer.Option(help="The clinic's email address.")] = None,
    address: Annotated[str | None, typer.Option(help="The clinic's postal address.")] = None,
) -> None:
    """Open a clinic and its first administrator; prints a single-use link (valid one hour) to set a password."""
    from alscare.actions.clinics import open_clinic
    from alscare.settings import load_settings
    from alscare.storage import migrate
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.web.context import utc_now

    settings = load_settings()
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine)() as db:
        try:
            opened = open_clinic(
                db,
                name=name,
                phone=phone,
                hours=hours,
                admin_email=admin_email,
                admin_name=admin_name,
                email=email,
                address=address,
                now=utc_now(),
            )
        except InvalidInput as e:
            _fail(e.field, e.message)
        db.commit()
        typer.echo(f"Clinic {opened.clinic.name!r} opened (id {opened.clinic.id}).")
        typer.echo(f"Send this link to {opened.admin.email}; it works once, within one hour, to choose a password:")
        typer.echo(f"  {settings.base_url}/password/reset/{opened.password_token}")
        typer.echo("At first sign-in they set up two-step sign-in, then invite the clinic's clinicians.")


demo_app = typer.Typer(help="The demo (fictional people, one clinic).", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
fhir_app = typer.Typer(help="FHIR R4 export.", no_args_is_help=True)
app.add_typer(fhir_app, name="fhir")


@demo_app.command("seed")
def demo_seed() -> None:
    """Fill an empty database with the demo and print the logins as JSON (with each person's patient id)."""
    from alscare.demo import DEMO_PASSWORD, demo_people, seed_demo
    from alscare.settings import load_settings
    from alscare.storage import migrate
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.web.context import utc_now

    settings = load_settings()
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine)() as db:
        logins = seed_demo(db, now=utc_now(), default_emergency_number=settings.default_emergency_number)
        db.commit()
        patient_ids = demo_people(db)
    engine.dispose()
    if not logins:
        typer.echo("the database already holds accounts that are not the demo's: nothing seeded", err=True)
        raise typer.Exit(1)
    out = {
        "password": DEMO_PASSWORD,
        "logins": [
            {
                "email": login.email,
                "role": login.role,
                "name": login.name,
                "totp_secret": login.totp_secret,
                "patient_id": patient_ids.get(login.email),
            }
            for login in logins
        ],
    }
    typer.echo(json.dumps(out, indent=2, ensure_ascii=False))


@fhir_app.command("export")
def fhir_export(
    patient: Annotated[int, typer.Option("--patient", help="The patient id (as `alscare demo seed` prints).")],
) -> None:
    """Print one person's whole record as a FHIR R4 Bundle (JSON) on stdout; audited as read by the system."""
    from alscare.actions.errors import NotFound
    from alscare.actions.fhir_export import export_as_operator
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.web.context import utc_now

    settings = load_settings()
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as db:
        try:
            bundle = export_as_operator(db, patient_id=patient, now=utc_now(), base_url=settings.base_url)
        except NotFound:
            _fail("patient", f"no patient with id {patient}")
        db.commit()
    engine.dispose()
    typer.echo(json.dumps(bundle, indent=2, ensure_ascii=False))


@fhir_app.command("bulk-export")
def fhir_bulk_export(
    clinic: Annotated[int, typer.Option("--clinic", help="Export everyone who shares their full record with it.")],
    out: Annotated[str, typer.Option("--out", help="A new or empty folder for the <Type>.ndjson files.")],
) -> None:
    """Write the records of a clinic's people as NDJSON, one file per resource type (FHIR Bulk Data style)."""
    from pathlib import Path

    from sqlalchemy import select

    from alscare.actions.fhir_export import export_as_operator
    from alscare.fhir.bulk import SHARED_TYPES, globalised, ndjson_lines
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.storage.models import Clinic, ConsentGrant, Patient
    from alscare.web.context import utc_now

    folder = Path(out)
    if folder.exists() and any(folder.iterdir()):
        _fail("out", f"{out} is not empty; give a new or empty folder")
    settings = load_settings()
    engine = make_engine(settings.database_url)
    counts: dict[str, int] = {}
    with make_sessionmaker(engine)() as db:
        if db.get(Clinic, clinic) is None:
            _fail("clinic", f"no clinic with id {clinic}")
        # Following consent: the people who share their full record with this clinic.
        granted = select(ConsentGrant.patient_id).where(
            ConsentGrant.grantee_clinic_id == clinic,
            ConsentGrant.scope == "full_record",
            ConsentGrant.revoked_at.is_(None),
        )
        ids = list(db.execute(select(Patient.id).where(Patient.id.in_(granted)).order_by(Patient.id)).scalars())
        folder.mkdir(parents=True, exist_ok=True)
        files: dict[str, Any] = {}
        shared: set[str] = set()  # Questionnaires: once for everyone
        now = utc_now()
        try:
            with typer.progressbar(ids, label="exporting", file=sys.stderr) as people:
                for pid in people:
                    bundle = export_as_operator(db, patient_id=pid, now=now, base_url=settings.base_url)
                    fresh = [r for r in globalised(bundle, f"p{pid}")
                             if r["resourceType"] not in SHARED_TYPES or r["id"] not in shared]  # fmt: skip
                    shared.update(r["id"] for r in fresh if r["resourceType"] in SHARED_TYPES)
                    for kind, line in ndjson_lines(fresh):
                        if kind not in files:
                            files[kind] = (folder / f"{kind}.ndjson").open("w", encoding="utf-8")
                        files[kind].write(line)
                        counts[kind] = counts.get(kind, 0) + 1
        finally:
            for handle in files.values():
                handle.close()
        db.commit()
    engine.dispose()
    typer.echo(json.dumps({"folder": str(folder), "people": len(ids), "resources": dict(sorted(counts.items()))}))


@fhir_app.command("import")
def fhir_import(
    path: Annotated[str, typer.Argument(help="A Bundle file written by `alscare fhir export` ('-' for stdin).")],
) -> None:
    """Add the person in a FHIR Bundle to the database, all or nothing; prints the new patient id as JSON."""
    from pathlib import Path

    from sqlalchemy.exc import IntegrityError

    from alscare.actions.fhir_import import import_bundle
    from alscare.settings import load_settings
    from alscare.storage import migrate
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.web.context import utc_now

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        bundle = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        _fail("file", f"cannot read a JSON Bundle from {path}: {e}")
    settings = load_settings()
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine)() as db:
        try:
            patient = import_bundle(db, bundle=bundle, now=utc_now())
            db.commit()
        except InvalidInput as e:
            db.rollback()
            _fail(e.field, e.message)
        except IntegrityError:
            db.rollback()
            _fail("bundle", "the Bundle holds a row twice (a repeated client id); nothing was imported")
        typer.echo(json.dumps({"patient_id": patient.id}))
    engine.dispose()


csv_app = typer.Typer(help="Import ALSFRS-R assessments and measurements from CSV files.", no_args_is_help=True)
app.add_typer(csv_app, name="csv")


def _csv_import(kind: str, path: str, by: str, dry_run: bool) -> None:
    """Check a file (with a progress bar), list every problem, and store it all only if there is none."""
    from pathlib import Path

    from sqlalchemy import select

    from alscare.actions import csv_import
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.storage.models import User
    from alscare.web.context import utc_now

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        _fail("file", f"cannot read {path} as UTF-8 text: {e}")
    check = csv_import.check_assessments if kind == "assessments" else csv_import.check_measurements
    commit = csv_import.commit_assessments if kind == "assessments" else csv_import.commit_measurements
    engine = make_engine(load_settings().database_url)
    now = utc_now()
    with make_sessionmaker(engine)() as db:
        user = db.execute(select(User).where(User.email == by.strip().lower())).scalar_one_or_none()
        if user is None or not user.is_clinic_staff:
            _fail("by", "give the email of the clinician (or clinic administrator) entering these rows")
        lines = max(0, text.count("\n") - 1)
        with typer.progressbar(length=lines, label="checking", file=sys.stderr) as bar:
            checked = check(db, text, now=now, progress=bar.update)
        report: dict[str, Any] = {
            "rows": checked.total_rows,
            "ready": len(checked.rows),
            "already_stored": checked.already_stored,
            "problems": [p.as_json() for p in checked.problems],
        }
        if not checked.ok or dry_run:
            typer.echo(json.dumps(report, indent=2))
            if not checked.ok:
                typer.echo(f"{len(checked.problems)} problem(s); nothing was imported", err=True)
                raise typer.Exit(INPUT_ERROR)
            return
        with typer.progressbar(length=len(checked.rows), label="importing", file=sys.stderr) as bar:
            report["added"] = commit(db, checked, by=user, now=now, progress=bar.update)
        db.commit()
    engine.dispose()
    typer.echo(json.dumps(report, indent=2))


@csv_app.command("import-assessments")
def csv_import_assessments(
    path: Annotated[str, typer.Argument(help="CSV: patient_id, assessed_on, administration_mode, item_1 … item_12.")],
    by: Annotated[str, typer.Option("--by", help="Email of the clinician entering the rows.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only check: list every problem, write nothing.")] = False,
) -> None:
    """Import ALSFRS-R assessments, one row each; all or nothing."""
    _csv_import("assessments", path, by, dry_run)


@csv_app.command("import-measurements")
def csv_import_measurements(
    path: Annotated[
        str, typer.Argument(help="CSV: patient_id, measured_at, weight_kg, fvc_percent, snip_cmh2o, spo2_percent.")
    ],
    by: Annotated[str, typer.Option("--by", help="Email of the clinician entering the rows.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only check: list every problem, write nothing.")] = False,
) -> None:
    """Import weight, FVC, SNIP and SpO2 measurements, one row each; all or nothing."""
    _csv_import("measurements", path, by, dry_run)


research_app = typer.Typer(help="De-identified research data sets.", no_args_is_help=True)
app.add_typer(research_app, name="research")


@research_app.command("export")
def research_export(
    clinic: Annotated[int, typer.Option("--clinic", help="The clinic whose consented people are exported.")],
    out: Annotated[str, typer.Option("--out", help="A folder to write the CSV files and data dictionary into.")],
) -> None:
    """Write the clinic's de-identified research data set (people who consented to research use only)."""
    from pathlib import Path

    from alscare.actions.research_export import research_data_set
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.storage.models import Clinic
    from alscare.web.context import utc_now

    folder = Path(out)
    if folder.exists() and any(folder.iterdir()):
        _fail("out", f"{out} is not empty; give a new or empty folder")
    engine = make_engine(load_settings().database_url)
    with make_sessionmaker(engine)() as db:
        if db.get(Clinic, clinic) is None:
            _fail("clinic", f"no clinic with id {clinic}")
        files = research_data_set(db, clinic_id=clinic, now=utc_now())
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        db.commit()
    engine.dispose()
    people = files["subjects.csv"].count("\n") - 1
    typer.echo(json.dumps({"folder": str(folder), "files": sorted(files), "people": people}))


def main() -> None:
    """The console script: read ``.env`` (the environment wins), and report a bad setting in one line."""
    from pathlib import Path

    from alscare.dotenv import DotenvError, load_dotenv
    from alscare.settings import SettingsError

    try:
        load_dotenv(Path.cwd() / ".env")
        app()
    except (SettingsError, DotenvError) as e:
        typer.echo(
            f"alscare: configuration error: {e} (set it in the environment or in .env; .env.example lists them)",
            err=True,
        )
        raise SystemExit(INPUT_ERROR) from None
