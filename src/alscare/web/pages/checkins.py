"""The symptom check-in: one form, triage on submit, and a result screen for each tier.

Triage runs first (pure) and the check-in is saved second (decision 0001): if saving fails, the result for
the computed tier is still shown, with a notice, so an emergency is never hidden behind an error page.
After a save the browser is redirected (303) to the stored check-in, so reloading does not resubmit.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from alscare.access import Action, Scope
from alscare.actions import checkins as checkin_actions
from alscare.actions.alerts import clinic_receiving_alerts
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.medicines import CurrentMedicine, current_medicines
from alscare.actions.records import may, may_each, open_record, own_patient, visible_patients
from alscare.clinical.triage import CHECK_IN_FIELDS, TriageResult, triage
from alscare.content.articles import articles_for_check_in
from alscare.storage.models import CheckIn, Patient, User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.care_wishes import emergency_care_wishes
from alscare.web.pages.forms import optional_number, read_form
from alscare.web.render import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

# --- The form, as data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    id: str
    legend: str
    hint: str | None
    fields: tuple[str, ...]


# Emergency signs first; every yes/no field of the triage table appears exactly once (a test checks).
SECTIONS: Final = (
    Section(
        "right_now",
        "Right now: do you have any of these?",
        "Tick any that are happening now. If any are, call the emergency number straight away.",
        (
            "breathing_sudden_trouble",
            "choking_not_clearing",
            "blue_lips",
            "confused_or_drowsy",
            "ventilator_problem",
            "chest_pain_severe",
            "breathless_at_rest",
        ),
    ),
    Section(
        "breathing_sleep",
        "Breathing and sleep",
        "Since your last check-in.",
        ("orthopnea", "morning_headache", "daytime_sleepiness"),
    ),
    Section(
        "eating_swallowing",
        "Eating and swallowing",
        "Since your last check-in.",
        ("choking_on_food", "cannot_take_food_fluids_meds", "drooling"),
    ),
    Section(
        "infection",
        "Signs of infection",
        "Since your last check-in.",
        ("fever", "chills", "cough", "weak_achy"),
    ),
    Section("mood", "Mood", "How you have been feeling.", ("depressed_cannot_cope", "self_harm_thoughts")),
    Section("falls", "Falls", None, ("fall",)),
    Section(
        "other",
        "Other symptoms",
        "Since your last check-in.",
        checkin_actions.OTHER_SYMPTOM_FIELDS,
    ),
)

REGION_LABELS: Final = {
    "bulbar": "Mouth and throat (speech, swallowing)",
    "left_arm": "Left arm and hand",
    "right_arm": "Right arm and hand",
    "left_leg": "Left leg and foot",
    "right_leg": "Right leg and foot",
    "trunk_breathing": "Body and breathing muscles",
}
# How a region reads inside a sentence: "Weakness in the left arm".
REGION_IN: Final = {
    "bulbar": "the mouth and throat",
    "left_arm": "the left arm",
    "right_arm": "the right arm",
    "left_leg": "the left leg",
    "right_leg": "the right leg",
    "trunk_breathing": "the body or breathing muscles",
}
SYMPTOM_LABELS: Final = {"weakness": "Weakness", "stiffness": "Stiffness", "cramps": "Cramps", "twitching": "Twitching"}
MEASUREMENT_LABELS: Final = {
    "fvc_percent": ("Breathing test: FVC (% of predicted)", "Forced vital capacity, from your clinic or home test."),
    "snip_cmh2o": ("Sniff test: SNIP (cmH₂O)", "Sniff nasal inspiratory pressure."),
    "spo2_percent": (
        "Oxygen level: SpO₂ (%)",
        "From a finger clip (pulse oximeter). These can read less accurately on darker skin.",
    ),
}
WEIGHT_HINTS: Final = {
    "weight_kg": "Weigh yourself in the same way each time if you can.",
    "usual_weight_kg": "Your weight before you became ill, or the weight your care team uses.",
}
MEDICINE_CHOICES: Final = (
    ("riluzole", "Riluzole (Rilutek, Teglutik, Tiglutik)"),
    ("edaravone", "Edaravone (Radicava)"),
    ("tofersen", "Tofersen (Qalsody)"),
)
BOOL_FIELDS: Final = frozenset(name for name, spec in CHECK_IN_FIELDS.items() if spec.kind == "bool")
NUMBER_FIELDS: Final = ("weight_kg", "usual_weight_kg", *checkin_actions.MEASUREMENT_FIELDS)
# Form fields read by name rather than by the loop over the form.
_OTHER_FORM_FIELDS: Final = frozenset({"csrf_token", "client_id", "medicines", "medicines_other", "question"})
_SPLIT_MEDICINES = re.compile(r"[,;\n]+")


def body_label(region: str, symptom: str) -> str:
    return f"{SYMPTOM_LABELS[symptom]} in {REGION_IN[region]}"


def field_label(name: str) -> str:
    if name in CHECK_IN_FIELDS:
        return CHECK_IN_FIELDS[name].label
    if name in MEASUREMENT_LABELS:
        return MEASUREMENT_LABELS[name][0]
    if name.startswith("body_map."):
        return REGION_LABELS.get(name.removeprefix("body_map."), "Body map")
    return {"question": "Your question", "medicines": "Medicines", "body_map": "Body map"}.get(name, name)


def error_text(error: InvalidInput) -> str:
    """The core's terse message with the field's plain label in front: "Weight today (kg) must be …"."""
    if error.message.startswith(("must", "unknown", "item")):
        return f"{field_label(error.field)}: {error.message}"
    return error.message


# --- Reading the form -----------------------------------------------------------------------------


def _form_bool(value: object) -> object:
    """A ticked box says yes. Any other value is passed on as it came, so the core refuses it by name."""
    if value in ("yes", "on", "true"):
        return True
    if value in ("no", "false"):
        return False
    if value == "":
        return None
    return value


def form_data(form: FormData) -> dict[str, object]:
    """The check-in fields from the form, shaped as ``record_check_in`` takes them (the API shape)."""
    data: dict[str, object] = {}
    body_map: dict[str, list[str]] = {}
    for key in form:
        if key in _OTHER_FORM_FIELDS:
            continue
        if key.startswith("body_map."):
            body_map[key.removeprefix("body_map.")] = [v for v in form.getlist(key) if isinstance(v, str)]
        elif key in BOOL_FIELDS:
            data[key] = _form_bool(form.get(key))
        elif key in NUMBER_FIELDS:
            data[key] = optional_number(form, key)
        else:
            raise InvalidInput(key, "unknown field")
    if body_map:
        data["body_map"] = body_map
    medicines = [v for v in form.getlist("medicines") if isinstance(v, str) and v]
    other = form.get("medicines_other")
    if isinstance(other, str):
        medicines += [name.strip() for name in _SPLIT_MEDICINES.split(other) if name.strip()]
    if medicines:
        data["medicines"] = medicines
    question = form.get("question")
    if isinstance(question, str) and question.strip():
        data["question"] = question.strip()
    return data


def _kept_values(form: FormData) -> dict[str, Any]:
    """What was typed and ticked, to show again when the form comes back with an error."""
    checked = {k for k in form if k in BOOL_FIELDS and form.get(k) in ("yes", "on", "true")}
    body = {f"{k.removeprefix('body_map.')}:{v}" for k in form if k.startswith("body_map.") for v in form.getlist(k)}
    return {
        "checked": checked,
        "body": body,
        "medicines": {v for v in form.getlist("medicines") if isinstance(v, str)},
        "text": {k: v for k in (*NUMBER_FIELDS, "medicines_other", "question") if isinstance(v := form.get(k), str)},
    }


# --- Pages ----------------------------------------------------------------------------------------


def _clock(request: Request) -> Any:
    return request.app.state.ctx.clock()


@router.get("/check-in")
def choose(request: Request, user: PageUser, db: Db) -> Response:
    """The nav link: straight to one's own check-in, or to the only person one checks in for, or a choice."""
    own = own_patient(db, user=user)
    if own is not None:
        return RedirectResponse(f"/patients/{own.id}/check-in/steps", status_code=303)
    if user.role == "clinician" and user.clinic_id is not None:
        # Clinic staff choose the person on the dashboard (paged, audited), not from a list of everyone.
        return RedirectResponse("/clinic", status_code=303)
    visible = visible_patients(db, user=user)
    allowed = may_each(db, user=user, patients=visible, scope=Scope.CHECKINS)
    people = [p for p in visible if p.id in allowed]
    if len(people) == 1:
        return RedirectResponse(f"/patients/{people[0].id}/check-in/steps", status_code=303)
    return render(request, "checkin_form.html", title="Check in", user=user, db=db, active="check_in", people=people)


def _form_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    *,
    client_id: str | None = None,
    errors: dict[str, str] | None = None,
    kept: dict[str, Any] | None = None,
) -> Response:
    patient = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.WRITE,
        now=_clock(request),
        resource="check_in",
        source_ip=client_ip(request),
    )
    listed, choices = _medicine_section(db, user, patient, _clock(request).date())
    db.commit()
    return render(
        request,
        "checkin_form.html",
        title="Check in",
        user=user,
        db=db,
        active="check_in",
        patient=patient,
        own=patient.user_id == user.id,
        client_id=client_id or str(uuid.uuid4()),
        sections=SECTIONS,
        labels={name: spec.label for name, spec in CHECK_IN_FIELDS.items()},
        regions=[(r, REGION_LABELS[r]) for r in checkin_actions.BODY_REGIONS],
        symptoms=[(s, SYMPTOM_LABELS[s]) for s in checkin_actions.BODY_SYMPTOMS],
        body_label=body_label,
        measurements=MEASUREMENT_LABELS,
        weight_hints=WEIGHT_HINTS,
        medicine_choices=choices,
        listed=listed,
        kept=kept or {"checked": set(), "body": set(), "medicines": set(), "text": {}},
        errors=errors,
        body_errors=[message for key, message in (errors or {}).items() if key.startswith("body_map")],
        emergency_number=patient.emergency_number,
    )


def _medicine_section(
    db: Session, user: User, patient: Patient, today: date
) -> tuple[list[CurrentMedicine] | None, list[tuple[str, str]]]:
    """The medicine list (``None`` for someone not granted medicines: they are not shown it) and the boxes
    still to offer: medicines already on the list are counted for the triage without ticking."""
    if not may(db, user=user, patient=patient, scope=Scope.MEDICINES):
        return None, list(MEDICINE_CHOICES)
    listed = current_medicines(db, patient_id=patient.id, on=today)
    on_list = {m.catalogue_id.split("_")[0] for m in listed if m.catalogue_id}
    return listed, [(value, label) for value, label in MEDICINE_CHOICES if value not in on_list]


@router.get("/patients/{patient_id}/check-in")
def check_in_form(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    return _form_page(request, db, user, patient_id)


@dataclass(frozen=True)
class Contacts:
    """Who to call, copied out of the record so that it can be shown even after a failed save."""

    patient_id: int | None
    emergency_number: str
    has_clinic: bool
    clinic_name: str | None = None
    clinic_phone: str | None = None
    clinic_hours: str | None = None


def contacts_of(patient: Patient | None, default_number: str) -> Contacts:
    if patient is None:
        return Contacts(None, default_number, has_clinic=False)
    clinic = patient.clinic
    return Contacts(
        patient_id=patient.id,
        emergency_number=patient.emergency_number,
        has_clinic=clinic is not None,
        clinic_name=clinic.name if clinic else None,
        clinic_phone=clinic.phone if clinic else None,
        clinic_hours=clinic.hours if clinic else None,
    )


def _contacts_if_allowed(db: Session, user: User, patient_id: int, default_number: str) -> Contacts:
    """The person's emergency number and clinic, if ``user`` may add check-ins for them (else the default
    number only). Read before saving, so that a failed save can still show them. Not audited here:
    ``record_check_in`` opens the record, and audits, itself."""
    try:
        patient = db.get(Patient, patient_id)
        if patient is not None and may(db, user=user, patient=patient, scope=Scope.CHECKINS, action=Action.WRITE):
            return contacts_of(patient, default_number)
    except Exception:  # the database may be down: the save below fails too, and says so
        db.rollback()
    return contacts_of(None, default_number)


def _with_list_if_readable(
    db: Session, parsed: checkin_actions.ParsedCheckIn, patient_id: int, today: date
) -> checkin_actions.ParsedCheckIn:
    """The medicine list added for the triage shown before saving; if the database is down, the check-in as
    reported (the save fails too and says so, and the triage still runs on what was ticked)."""
    try:
        return checkin_actions.with_listed_medicines(db, parsed, patient_id=patient_id, on=today)
    except Exception:
        db.rollback()
        return parsed


def _unsaved(
    request: Request, db: Session, user: User, patient_id: int, parsed: checkin_actions.ParsedCheckIn
) -> Response:
    """The result screen of a check-in that could not be saved (503): its triage, with the medicine list and
    the person's contacts if they can still be read, else the default emergency number."""
    default_number = request.app.state.ctx.settings.default_emergency_number
    contacts = _contacts_if_allowed(db, user, patient_id, default_number)
    if contacts.patient_id is not None:
        parsed = _with_list_if_readable(db, parsed, patient_id, _clock(request).date())
    result = triage(parsed.check_in)
    screen = result_screen(result=result, contacts=contacts, saved=False, team_alerted=False)
    return render(
        request,
        "checkin_result.html",
        title=screen.title,
        user=user,
        screen=screen,
        emergency_number=screen.contacts.emergency_number,
        status_code=503,
    )


@router.post("/patients/{patient_id}/check-in")
async def submit_check_in(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    raw_client_id = form.get("client_id")
    client_id = raw_client_id if isinstance(raw_client_id, str) else ""
    try:
        data = form_data(form)
        parsed = checkin_actions.parse_check_in(data)
    except InvalidInput as e:
        return _form_page(
            request, db, user, patient_id, client_id=client_id, errors={e.field: error_text(e)}, kept=_kept_values(form)
        )
    return send_check_in(
        request,
        db,
        user,
        patient_id,
        client_id=client_id,
        data=data,
        parsed=parsed,
        on_invalid=lambda e: _form_page(
            request, db, user, patient_id, errors={e.field: error_text(e)}, kept=_kept_values(form)
        ),
    )


def send_check_in(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    *,
    client_id: str,
    data: dict[str, object],
    parsed: checkin_actions.ParsedCheckIn,
    on_invalid: Callable[[InvalidInput], Response],
    on_stored: Callable[[CheckIn], None] | None = None,
) -> Response:
    """Triage, store once (``record_check_in``), and go to the result; shared by the one-page form and the
    stepped check-in. ``on_stored`` runs in the same transaction as the store (the draft marks itself sent).

    If the save fails, the person still sees the triage of what they sent, with their emergency number and
    clinic when the database can still be read (``_unsaved``)."""
    try:
        outcome = checkin_actions.record_check_in(
            db,
            actor=user,
            patient_id=patient_id,
            client_id=client_id,
            data=data,
            now=_clock(request),
            source_ip=client_ip(request),
            base_url=request.app.state.ctx.settings.base_url,
        )
        if on_stored is not None:
            on_stored(outcome.check_in)
        db.commit()
    except InvalidInput as e:
        db.rollback()
        return on_invalid(e)
    except NotFound:
        raise
    except Exception as exc:
        db.rollback()
        # No patient data in logs: the exception's text may quote the values, so only its type is logged.
        log.error("check-in could not be saved (%s)", type(exc).__name__)
        return _unsaved(request, db, user, patient_id, parsed)
    return RedirectResponse(f"/patients/{patient_id}/check-ins/{outcome.check_in.id}", status_code=303)


@router.get("/patients/{patient_id}/check-ins/{check_in_id}")
def check_in_result_page(request: Request, patient_id: int, check_in_id: int, user: PageUser, db: Db) -> Response:
    view = checkin_actions.check_in_result(
        db,
        actor=user,
        patient_id=patient_id,
        check_in_id=check_in_id,
        now=_clock(request),
        source_ip=client_ip(request),
    )
    if user.role == "clinician":
        # The care team reads the report, the previous check-in and the scores, not the person's result screen.
        from alscare.actions.clinician_view import TIER_WORDS, clinician_view

        clinical = clinician_view(db, patient=view.patient, check_in=view.check_in, now=_clock(request))
        wishes = emergency_care_wishes(
            db, user=user, patient_id=view.patient.id, now=_clock(request), source_ip=client_ip(request)
        )
        db.commit()
        return render(
            request,
            "clinician_checkin.html",
            title=f"Check-in of {view.patient.full_name}",
            user=user,
            db=db,
            clinical=clinical,
            care_wishes=wishes,
            alerts=view.alerts,
            tier_words=TIER_WORDS,
        )
    clinic_gets_alerts = clinic_receiving_alerts(db, patient=view.patient) is not None
    contacts = contacts_of(view.patient, request.app.state.ctx.settings.default_emergency_number)
    care_wishes = None
    if view.triage.tier.value == "emergency":
        care_wishes = emergency_care_wishes(
            db, user=user, patient_id=patient_id, now=_clock(request), source_ip=client_ip(request)
        )
    db.commit()
    screen = result_screen(
        result=view.triage,
        contacts=contacts,
        saved=True,
        team_alerted=view.team_alerted,
        clinic_gets_alerts=clinic_gets_alerts,
        row=view.check_in,
        previous=view.previous,
    )
    return render(
        request,
        "checkin_result.html",
        title=screen.title,
        user=user,
        db=db,
        screen=screen,
        care_wishes=care_wishes,
        emergency_number=screen.contacts.emergency_number,
        articles=articles_for_check_in(r.rule for r in view.triage.reasons),
    )


# --- The result screen (a presenter) ----------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """What is different from the check-in before."""

    first: bool
    new_symptoms: list[str]
    gone_symptoms: list[str]
    new_body: list[str]
    gone_body: list[str]
    weight_change_kg: float | None

    @property
    def nothing(self) -> bool:
        return not (self.new_symptoms or self.gone_symptoms or self.new_body or self.gone_body) and (
            self.weight_change_kg is None or abs(self.weight_change_kg) < 0.05
        )


def _yes(row: CheckIn) -> list[str]:
    return [name for section in SECTIONS for name in section.fields if row.answers.get(name) is True]


def _body(row: CheckIn) -> list[str]:
    return [
        body_label(region, symptom)
        for region in checkin_actions.BODY_REGIONS
        for symptom in row.body_map.get(region, [])
        if symptom in SYMPTOM_LABELS
    ]


def changes_since(row: CheckIn, previous: CheckIn | None) -> Changes:
    if previous is None:
        return Changes(True, [], [], [], [], None)
    now_yes, before_yes = _yes(row), set(_yes(previous))
    now_body, before_body = _body(row), set(_body(previous))
    weight = (
        round(row.weight_kg - previous.weight_kg, 1)
        if row.weight_kg is not None and previous.weight_kg is not None
        else None
    )
    return Changes(
        first=False,
        new_symptoms=[CHECK_IN_FIELDS[n].label for n in now_yes if n not in before_yes],
        gone_symptoms=[CHECK_IN_FIELDS[n].label for n in _yes(previous) if n not in set(now_yes)],
        new_body=[b for b in now_body if b not in before_body],
        gone_body=[b for b in _body(previous) if b not in set(now_body)],
        weight_change_kg=weight,
    )


def reported(row: CheckIn) -> list[tuple[str, str]]:
    """What was reported, as (label, value) pairs, in the order of the form."""
    items: list[tuple[str, str]] = [(CHECK_IN_FIELDS[n].label, "Yes") for n in _yes(row)]
    items += [(label, "Yes") for label in _body(row)]
    for name in ("weight_kg", "usual_weight_kg"):
        value = row.weight_kg if name == "weight_kg" else row.answers.get(name)
        if isinstance(value, int | float):
            items.append((CHECK_IN_FIELDS[name].label, f"{value:g} kg"))
    for name, unit in (("fvc_percent", " %"), ("snip_cmh2o", " cmH₂O"), ("spo2_percent", " %")):
        value = getattr(row, name)
        if value is not None:
            items.append((MEASUREMENT_LABELS[name][0], f"{value:g}{unit}"))
    medicines = row.answers.get("medicines")
    if medicines:
        items.append((CHECK_IN_FIELDS["medicines"].label, ", ".join(str(m) for m in medicines)))
    if row.question:
        items.append(("Your question", row.question))
    return items


@dataclass(frozen=True)
class ResultScreen:
    tier: str
    title: str
    reasons: list[str]
    self_harm: bool
    contacts: Contacts
    saved: bool
    team_alerted: bool
    not_alerted_because: str | None
    changes: Changes | None
    reported: list[tuple[str, str]]


TITLES: Final = {
    "emergency": "Call the emergency number now",
    "contact_team": "Contact your care team today",
    "routine": "Thank you for checking in",
}


def result_screen(
    *,
    result: TriageResult,
    contacts: Contacts,
    saved: bool,
    team_alerted: bool,
    clinic_gets_alerts: bool = False,
    row: CheckIn | None = None,
    previous: CheckIn | None = None,
) -> ResultScreen:
    tier = result.tier.value
    not_alerted_because = None
    if not team_alerted and tier != "routine":
        if not saved:
            not_alerted_because = "This check-in was not saved, so the care team has not been alerted."
        elif not contacts.has_clinic:
            not_alerted_because = "No care team was alerted: there is no clinic on this record in alscare."
        elif not clinic_gets_alerts:
            not_alerted_because = (
                "The care team was not alerted, because check-ins are not shared with the clinic. "
                "You can change this under 'Who can see this record'."
            )
        else:
            not_alerted_because = "The care team was not alerted."
    return ResultScreen(
        tier=tier,
        title=TITLES[tier] + ("" if saved else " (not saved)"),
        reasons=[r.message for r in result.reasons],
        self_harm=any(r.rule == "self_harm_thoughts" for r in result.reasons),
        contacts=contacts,
        saved=saved,
        team_alerted=team_alerted,
        not_alerted_because=not_alerted_because,
        changes=changes_since(row, previous) if row is not None and tier == "routine" else None,
        reported=reported(row) if row is not None else [],
    )
