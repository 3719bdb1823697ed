"""Code systems, canonical URLs and codes used in alscare's FHIR resources, declared as data.

Where a standard code is confirmed (docs/sources.md, "FHIR export"), it is used: LOINC 29463-7 for body
weight (given by issue 13), LOINC 82953-1 for the ALSFRS-R total (clinical-reference §1, LOINC table) and
LOINC 2708-6 with 59408-5 for oxygen saturation by pulse oximetry (HL7 FHIR R4B oxygen saturation profile).
Everything else uses alscare's own code systems below, under one stable base URL, so a receiving system can
tell our codes from standard ones and map them later. A code here never changes meaning; new ones are added.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# One base for every alscare-defined URL (canonical URLs, code systems, extensions). Stable across releases.
BASE: Final = "https://alscare.example/fhir"

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
CONSENT_SCOPE: Final = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_POLICY: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONTACT_RELATIONSHIP: Final = "http://terminology.hl7.org/CodeSystem/v2-0131"

# alscare's own code systems.
OBSERVATION_CODES: Final = f"{BASE}/CodeSystem/observation"
ADMINISTRATION_MODE: Final = f"{BASE}/CodeSystem/administration-mode"
ALSFRS_R_ANSWER: Final = f"{BASE}/CodeSystem/alsfrs-r-answer"
CONSENT_SCOPES: Final = f"{BASE}/CodeSystem/consent-scope"
ALERT_CODES: Final = f"{BASE}/CodeSystem/alert"
MEDICINE_CATALOGUE: Final = f"{BASE}/CodeSystem/medicine"
EXERCISE_CODES: Final = f"{BASE}/CodeSystem/exercise"
CONDITION_CODES: Final = f"{BASE}/CodeSystem/condition"
DOCUMENT_TYPES: Final = f"{BASE}/CodeSystem/document-type"
TRIAGE_TIER: Final = f"{BASE}/CodeSystem/triage-tier"
GRANTEE_ROLE: Final = f"{BASE}/CodeSystem/grantee-role"

# Extensions (alscare-defined).
EXT_ADMINISTRATION_MODE: Final = f"{BASE}/StructureDefinition/administration-mode"
EXT_ONSET_REGION: Final = f"{BASE}/StructureDefinition/onset-region"
EXT_DIAGNOSIS_DATE: Final = f"{BASE}/StructureDefinition/diagnosis-date"
EXT_TRIAGE_TIER: Final = f"{BASE}/StructureDefinition/triage-tier"
EXT_PRESCRIBER: Final = f"{BASE}/StructureDefinition/prescriber"
EXT_ALERT_STATUS: Final = f"{BASE}/StructureDefinition/alert-status"
EXT_AUTHOR_CAPACITY: Final = f"{BASE}/StructureDefinition/author-capacity"

# Questionnaires: one canonical URL each, one version per change of wording or items.
ALSFRS_R_QUESTIONNAIRE: Final = f"{BASE}/Questionnaire/alsfrs-r"
ALSFRS_R_VERSION: Final = "1"
CHECK_IN_QUESTIONNAIRE: Final = f"{BASE}/Questionnaire/symptom-check-in"
CHECK_IN_VERSION: Final = "1"

LOINC_BODY_WEIGHT: Final = "29463-7"
LOINC_ALSFRS_R_TOTAL: Final = "82953-1"
LOINC_SPO2: Final = "2708-6"
LOINC_SPO2_PULSE_OXIMETRY: Final = "59408-5"


@dataclass(frozen=True)
class Measure:
    """A measurement on a check-in: the column it comes from, its codes, its display and its UCUM unit."""

    column: str
    codings: tuple[tuple[str, str, str], ...]
    display: str
    unit: str
    unit_code: str
    category: str


MEASURES: Final = (
    Measure("weight_kg", ((LOINC, LOINC_BODY_WEIGHT, "Body weight"),), "Body weight", "kg", "kg", "vital-signs"),
    Measure(
        "fvc_percent",
        ((OBSERVATION_CODES, "fvc-percent-predicted", "Forced vital capacity, % of predicted"),),
        "Forced vital capacity, % of predicted",
        "%",
        "%",
        "exam",
    ),
    Measure(
        "snip_cmh2o",
        ((OBSERVATION_CODES, "snip", "Sniff nasal inspiratory pressure"),),
        "Sniff nasal inspiratory pressure",
        "cmH2O",
        "cm[H2O]",
        "exam",
    ),
    Measure(
        "spo2_percent",
        (
            (LOINC, LOINC_SPO2, "Oxygen saturation in Arterial blood"),
            (LOINC, LOINC_SPO2_PULSE_OXIMETRY, "Oxygen saturation in Arterial blood by Pulse oximetry"),
        ),
        "Oxygen saturation (pulse oximetry)",
        "%",
        "%",
        "vital-signs",
    ),
)

# ALSFRS-R total and domain subscores (Bakker et al., J Neurol 2017 for the domain split).
ALSFRS_R_TOTAL_CODINGS: Final = (
    (LOINC, LOINC_ALSFRS_R_TOTAL, "Total score [ALSFRS-R]"),
    (OBSERVATION_CODES, "alsfrs-r-total", "ALSFRS-R total score"),
)
DOMAIN_CODES: Final = MappingProxyType(
    {
        "bulbar": ("alsfrs-r-bulbar", "ALSFRS-R bulbar subscore"),
        "fine_motor": ("alsfrs-r-fine-motor", "ALSFRS-R fine motor subscore"),
        "gross_motor": ("alsfrs-r-gross-motor", "ALSFRS-R gross motor subscore"),
        "respiratory": ("alsfrs-r-respiratory", "ALSFRS-R respiratory subscore"),
    }
)
