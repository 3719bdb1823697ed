"""A synthetic clinic of any size, built fast with bulk inserts through the models' tables.

For the bench (``bench/pages.py``), the query-count tests (5 and 50 people) and the demo's two-year history.
Every name is made up (``Person 00042``-style names from fixed syllables); nothing is real.

Shape of the data, per person, over ``years`` (default 2) up to ``now``:
- ALSFRS-R about every 7 weeks (≈ 15 in two years; visit spacing 5-9 weeks), declining linearly at a
  per-person rate drawn from a log-normal around 0.8 points/month (PRO-ACT / Kimura: slow < 0.5,
  intermediate 0.5-1, fast ≥ 1), with the items of the onset region lost first, and ±1 point of noise.
- Check-ins about every 2 weeks (≈ 50 in two years): weight falling with function, FVC every third
  check-in falling about 2 % predicted per point lost; most routine, some "contact the team", a few
  emergencies — each above routine with an alert, in every state (resolved when old, open or acknowledged
  when recent).
- Some people stopped checking in weeks ago (overdue); some have unanswered messages, others answered ones;
  some carry open NIV and gastrostomy prompts.

Rows are written with explicit ids after the current maximum, and PostgreSQL sequences moved past them, so the
app's own inserts keep working afterwards.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from alscare.storage.models import (
    DEFAULT_SCHEDULE_DAYS,
    Alert,
    AlsfrsAssessment,
    CheckIn,
    CheckInSchedule,
    Clinic,
    ConsentGrant,
    Message,
    Patient,
    User,
)

ITEMS: Final = ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")
# Which items go first for each onset region (the demo's patterns, simplified to an order).
ORDER: Final = {
    "bulbar": ("1", "3", "2", "5a", "4", "6", "10", "9", "8", "7", "11", "12"),
    "upper_limb": ("4", "5a", "6", "7", "9", "8", "1", "3", "2", "10", "11", "12"),
    "lower_limb": ("9", "8", "7", "6", "5a", "4", "1", "3", "2", "10", "11", "12"),
    "respiratory": ("10", "11", "9", "7", "6", "8", "4", "5a", "1", "3", "2", "12"),
}
_FIRST: Final = ("Ada", "Ben", "Cara", "Dev", "Edie", "Finn", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lena", "Milo", "Nia")
_LAST: Final = ("Ashby", "Brook", "Carver", "Dale", "Elms", "Fenwick", "Gale", "Hart", "Ingle", "Joss", "Kerr")


@dataclass(frozen=True)
class SyntheticClinic:
    clinic_id: int
    clinician_id: int
    patient_ids: list[int]


def _next_id(db: Session, model: Any) -> int:
    return int(db.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()) + 1


def _answers(region: str, loss: int) -> dict[str, int]:
    """Twelve item scores summing to 48 - loss: items of the onset region lose points first."""
    order = ORDER[region]
    scores = dict.fromkeys(ITEMS, 4)
    visits = [*order[:3]] * 3 + [*order[:8]] * 2 + [*order] * 4
    remaining = max(0, min(48, loss))
    for item in visits:
        if remaining == 0:
            break
        if scores[item] > 0:
            scores[item] -= 1
            remaining -= 1
    for item in ITEMS:  # anything left (a near-zero total)
        while remaining and scores[item] > 0:
            scores[item] -= 1
            remaining -= 1
    return scores


def _chunked(rows: Sequence[dict[str, Any]], size: int = 5000) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk(db: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunked(rows):
        db.execute(insert(model.__table__), list(chunk))


def _fix_sequences(db: Session, tables: Iterable[str]) -> None:
    if db.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))")
        )


def build_synthetic_clinic(
    db: Session,
    *,
    people: int,
    now: datetime,
    seed: int = 2026,
    years: float = 2.0,
    password_hash: str = "!synthetic-no-sign-in",
    clinic_id: int | None = None,
    clinician_id: int | None = None,
    name_prefix: str = "",
) -> SyntheticClinic:
    """Add ``people`` people with ``years`` of history to a clinic (a new one unless ``clinic_id`` is given),
    in the caller's transaction. Summaries are refreshed at the end."""
    from alscare.actions.clinic_summary import refresh_summaries

    rng = random.Random(seed)
    created = now - timedelta(days=int(365.25 * years) + 30)
    if clinic_id is None:
        clinic = Clinic(name="Synthetic MND Clinic", phone="020 7946 0999", hours="Mon-Fri 9-5", created_at=created)
        db.add(clinic)
        db.flush()
        clinic_id = clinic.id
    if clinician_id is None:
        clinician = User(
            email=f"clinician.{clinic_id}.{seed}@synthetic.alscare.example",
            display_name="Dr Synthetic",
            role="clinician",
            password_hash=password_hash,
            clinic_id=clinic_id,
            totp_enabled=False,
            is_active=True,
            created_at=created,
        )
        db.add(clinician)
        db.flush()
        clinician_id = clinician.id
    pid0, gid0, aid0 = _next_id(db, Patient), _next_id(db, ConsentGrant), _next_id(db, AlsfrsAssessment)
    cid0, alid0, mid0 = _next_id(db, CheckIn), _next_id(db, Alert), _next_id(db, Message)
    uid0 = _next_id(db, User)
    family: list[dict[str, Any]] = []
    patients: list[dict[str, Any]] = []
    grants: list[dict[str, Any]] = []
    assessments: list[dict[str, Any]] = []
    check_ins: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    history_days = int(365.25 * years)
    start = now - timedelta(days=history_days)
    for n in range(people):
        pid = pid0 + n
        region = rng.choice(("bulbar", "upper_limb", "upper_limb", "lower_limb", "lower_limb", "respiratory"))
        slope = min(3.0, max(0.1, rng.lognormvariate(math.log(0.6), 0.5)))  # points/month lost
        months_before = rng.uniform(3, 12)  # symptom onset before the history starts
        onset = (start - timedelta(days=months_before * 30.44)).date()
        birth = date(onset.year - rng.randint(40, 80), rng.randint(1, 12), rng.randint(1, 28))
        name = f"{name_prefix}{rng.choice(_FIRST)} {rng.choice(_LAST)}-{pid:05d}"
        patients.append(
            {
                "id": pid,
                "user_id": None,
                "full_name": name,
                "date_of_birth": birth,
                "sex": rng.choice(("female", "male")),
                "height_cm": round(rng.uniform(155, 190), 0),
                "onset_date": onset,
                "onset_region": region,
                "diagnosis_date": onset + timedelta(days=int(rng.uniform(6, 14) * 30.44)),
                "emergency_number": "112",
                "clinic_id": clinic_id,
                "created_at": start,
                "phone": f"020 7946 {rng.randint(0, 999):04d}",
                "prognosis_opt_in": False,
            }
        )
        grants.append(
            {
                "id": gid0 + len(grants),
                "patient_id": pid,
                "grantee_user_id": None,
                "grantee_clinic_id": clinic_id,
                "scope": "full_record",
                "granted_by_id": clinician_id,
                "granted_at": start,
                "revoked_at": None,
                "revoked_by_id": None,
            }
        )
        # Someone who stopped checking in: history ends 3-10 weeks ago.
        stopped = rng.random() < 0.12
        end = now - timedelta(days=rng.randint(21, 70)) if stopped else now - timedelta(hours=rng.randint(1, 100))

        def loss_at(day: datetime, *, _onset: date = onset, _slope: float = slope) -> int:
            months = (day.date() - _onset).days / 30.44
            return max(0, min(48, round(months * _slope + rng.gauss(0, 0.8))))

        day = start + timedelta(days=rng.randint(0, 20))
        while day <= end:
            answers = _answers(region, loss_at(day))
            assessments.append(
                {
                    "id": aid0 + len(assessments),
                    "patient_id": pid,
                    "assessed_on": day.date(),
                    "administration_mode": rng.choice(("clinician_in_person", "self_report", "clinician_phone")),
                    "answers": answers,
                    "total": sum(answers.values()),
                    "recorded_by_id": clinician_id,
                    "recorded_at": day,
                    "client_id": None,
                }
            )
            day += timedelta(days=rng.randint(35, 63))
        usual = rng.uniform(55, 95)
        day = start + timedelta(days=rng.randint(0, 10), hours=rng.randint(8, 20))
        k = 0
        while day <= end:
            loss = loss_at(day)
            roll = rng.random()
            tier = "emergency" if roll < 0.01 else "contact_team" if roll < 0.06 else "routine"
            cid = cid0 + len(check_ins)
            fvc = round(max(20.0, 100 - loss * 2.0 + rng.gauss(0, 4)), 0) if k % 3 == 0 else None
            answers_ci: dict[str, Any] = {"usual_weight_kg": round(usual, 1)}
            if tier == "emergency":
                answers_ci["breathing_sudden_trouble"] = True
            elif tier == "contact_team":
                answers_ci[rng.choice(("choking_on_food", "fever", "orthopnea"))] = True
            check_ins.append(
                {
                    "id": cid,
                    "patient_id": pid,
                    "client_id": f"synthetic-{cid}",
                    "submitted_by_id": clinician_id,
                    "reporter": "self",
                    "submitted_at": day,
                    "answers": answers_ci,
                    "body_map": {},
                    "weight_kg": round(usual * (1 - loss * 0.003) + rng.gauss(0, 0.4), 1),
                    "fvc_percent": fvc,
                    "snip_cmh2o": None,
                    "spo2_percent": None,
                    "question": None,
                    "tier": tier,
                    "reasons": [],
                }
            )
            if tier != "routine":
                age = now - day
                status = "resolved" if age > timedelta(days=14) else rng.choice(("open", "acknowledged"))
                alerts.append(_alert(alid0 + len(alerts), pid, clinic_id, "check_in", str(cid), tier, day, status,
                                     clinician_id))  # fmt: skip
            k += 1
            day += timedelta(days=rng.randint(10, 18), hours=rng.randint(-3, 3))
        if check_ins and rng.random() < 0.15:
            last = check_ins[-1]
            kind = rng.choice(("niv_assessment_fvc", "gastrostomy_weight_loss"))
            alerts.append(_alert(alid0 + len(alerts), pid, clinic_id, "prompt", f"{last['id']}:{kind}", "prompt",
                                 last["submitted_at"], "open", clinician_id))  # fmt: skip
        if rng.random() < 0.3:
            # A family member (with check-ins shared and a phone number) writes to the clinic.
            uid = uid0 + len(family)
            family.append(
                {
                    "id": uid,
                    "email": f"family.{pid}.{seed}@synthetic.alscare.example",
                    "display_name": f"{rng.choice(_FIRST)} (family of {name.split(' ')[0]})",
                    "role": "caregiver",
                    "password_hash": password_hash,
                    "clinic_id": None,
                    "totp_secret": None,
                    "totp_enabled": False,
                    "totp_last_step": None,
                    "is_active": True,
                    "created_at": start,
                    "phone": f"07700 900{rng.randint(0, 999):03d}",
                }
            )
            grants.append(
                {
                    "id": gid0 + len(grants),
                    "patient_id": pid,
                    "grantee_user_id": uid,
                    "grantee_clinic_id": None,
                    "scope": "checkins",
                    "granted_by_id": clinician_id,
                    "granted_at": start,
                    "revoked_at": None,
                    "revoked_by_id": None,
                }
            )
            asked = end - timedelta(hours=rng.randint(2, 200))
            messages.append(_message(mid0 + len(messages), pid, uid, False, asked))
            if rng.random() < 0.5:
                messages.append(_message(mid0 + len(messages), pid, clinician_id, True, asked + timedelta(hours=3)))
    _bulk(db, User, family)
    _bulk(db, Patient, patients)
    # Bulk inserts skip the models' per-record schedule rows; the reminder task looks at each once, from now.
    _bulk(
        db,
        CheckInSchedule,
        [
            {"patient_id": p["id"], "kind": kind, "interval_days": days, "remind_at": now}
            for p in patients
            for kind, days in DEFAULT_SCHEDULE_DAYS.items()
        ],
    )
    _bulk(db, ConsentGrant, grants)
    _bulk(db, AlsfrsAssessment, assessments)
    _bulk(db, CheckIn, check_ins)
    _bulk(db, Alert, alerts)
    _bulk(db, Message, messages)
    _fix_sequences(db, ("users", "patients", "consent_grants", "alsfrs_assessments", "check_ins", "alerts", "messages"))
    ids = [p["id"] for p in patients]
    refresh_summaries(db, patient_ids=ids, now=now)
    return SyntheticClinic(clinic_id=clinic_id, clinician_id=clinician_id, patient_ids=ids)


def _alert(
    aid: int, pid: int, clinic_id: int, source: str, source_id: str, severity: str, at: datetime, status: str, by: int
) -> dict[str, Any]:
    summaries = {
        "emergency": "Emergency signs reported in a check-in",
        "contact_team": "A check-in asks the team to make contact today",
        "prompt": "Guideline prompt: a discussion may be due",
    }
    acknowledged = status in ("acknowledged", "resolved")
    return {
        "id": aid,
        "patient_id": pid,
        "clinic_id": clinic_id,
        "source": source,
        "source_id": source_id,
        "severity": severity,
        "summary": summaries[severity],
        "status": status,
        "created_at": at,
        "acknowledged_by_id": by if acknowledged else None,
        "acknowledged_at": at + timedelta(minutes=40) if acknowledged else None,
        "resolved_by_id": by if status == "resolved" else None,
        "resolved_at": at + timedelta(hours=5) if status == "resolved" else None,
        "note": "Phoned; advice given." if status == "resolved" else None,
        "escalation_level": 0,
        "escalated_at": None,
    }


def _message(mid: int, pid: int, author: int, from_clinic: bool, at: datetime) -> dict[str, Any]:
    return {
        "id": mid,
        "patient_id": pid,
        "author_id": author,
        "from_clinic": from_clinic,
        "body": "Thank you, we will call you tomorrow." if from_clinic else "Could someone call me about my feeding?",
        "check_in_id": None,
        "created_at": at,
        "read_at": None,
    }


__all__ = ["SyntheticClinic", "build_synthetic_clinic"]
