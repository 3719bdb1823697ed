"""A person's record as loaded for the FHIR layer: the rows, and which parts of the record they cover.

The FHIR translation (``alscare.fhir.export``) reads only what is here and never touches the database, so
what a viewer may see is decided once, by the loader (``alscare.actions.fhir_export``), and a part that was
not loaded cannot leak into a Bundle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from alscare.storage.models import Alert, AlsfrsAssessment, CheckIn, Clinic, ConsentGrant, Patient, User
from alscare.storage.models.care_wishes import CareWishesVersion
from alscare.storage.models.medicines import MedicineEntry
from alscare.storage.models.rehabilitation import RehabProgramme


class Part(StrEnum):
    """Parts of a record a Bundle can carry; each follows one consent scope (``alscare.access``)."""

    PROFILE_DETAILS = "profile_details"  # date of birth, sex, height, phone, onset, diagnosis
    CHECKINS = "checkins"  # ALSFRS-R, check-ins and their measurements, alerts, rehabilitation
    MEDICINES = "medicines"
    CARE_WISHES = "care_wishes"
    SHARING = "sharing"  # the sharing grants (Consent)


ALL_PARTS: frozenset[Part] = frozenset(Part)


@dataclass
class PersonRecord:
    """Everything one Bundle is made from. Lists are in the order they are exported (oldest first)."""

    patient: Patient
    parts: frozenset[Part]
    clinics: dict[int, Clinic] = field(default_factory=dict)
    # Everyone named in the record (who recorded, who was granted, who assigned), by user id.
    people: dict[int, User] = field(default_factory=dict)
    assessments: list[AlsfrsAssessment] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    medicines: list[MedicineEntry] = field(default_factory=list)
    grants: list[ConsentGrant] = field(default_factory=list)
    care_wishes: list[CareWishesVersion] = field(default_factory=list)
    programmes: list[RehabProgramme] = field(default_factory=list)
