"""FHIR R4 (R4B models) in and out of alscare: a thin layer that translates loaded records to and from a Bundle.

``export`` builds a Bundle from a ``record.PersonRecord``; ``questionnaires`` describes the ALSFRS-R and the
symptom check-in; ``codes`` holds every code system and URL. Database access lives in ``alscare.actions``.
"""
