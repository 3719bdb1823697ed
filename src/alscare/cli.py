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
from alscare.clinical.errors import InvalidInput
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
        bool, typer.Option("--worker/--no-worker", help="Deliver notifications from a thread of this process.")
    ] = True,
) -> None:
    """Start the web app: applies migrations first."""
    import uvicorn

    from alscare.settings import load_settings
    from alscare.storage import migrate
    from alscare.storage.db import make_engine, make_sessionmaker
    from alscare.web.app import create_app

    settings = load_settings()
    if demo and settings.is_sqlite and settings.base_url == "http://127.0.0.1:8000" and port != 8000:
        from dataclasses import replace

        settings = replace(settings, base_url=f"http://{host}:{port}")
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
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
    delivery = None
    if worker:
        from alscare.delivery.worker import start_worker_thread

        delivery = start_worker_thread(make_sessionmaker(engine), settings=settings)
    try:
        uvicorn.run(create_app(settings, engine=engine), host=host, port=port, log_level="info", access_log=False)
    finally:
        if delivery is not None:
            thread, stop = delivery
            stop.set()
            thread.join(timeout=15)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 if any entry was edited, removed or reordered."""
    from alscare.actions.audit import verify
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker

    engine = make_engine(load_settings().database_url)
    with make_sessionmaker(engine)() as db:
        problems = verify(db)
        count = db.execute(__import__("sqlalchemy").text("SELECT count(*) FROM audit_events")).scalar_one()
    if problems:
        for p in problems:
            typer.echo(f"entry {p.entry_id} (position {p.index}): {p.reason}", err=True)
        typer.echo(f"audit chain BROKEN: {len(problems)} problem(s) in {count} entries", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {count} entries verified")


@app.command()
def migrate_db() -> None:
    """Apply database migrations (``serve`` does this too)."""
    from alscare.settings import load_settings
    from alscare.storage import migrate
    from alscare.storage.db import make_engine

    migrate.upgrade(make_engine(load_settings().database_url))
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
    from alscare.settings import load_settings
    from alscare.storage.db import make_engine, make_sessionmaker

    settings = load_settings()
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


def main() -> None:
    app()
