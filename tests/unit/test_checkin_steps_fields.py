"""The stepped check-in asks every check-in field exactly once, emergency signs alone on the first step."""

from __future__ import annotations

from alscare.actions import checkin_steps
from alscare.actions.checkins import EXTRA_FIELDS
from alscare.clinical.triage import CHECK_IN_FIELDS, Tier, triage
from alscare.clinical.triage import CheckIn as TriageCheckIn


def test_every_field_is_on_exactly_one_step() -> None:
    asked = [name for step in checkin_steps.STEPS for name in step.fields]
    assert len(asked) == len(set(asked))
    wanted = {n for n in CHECK_IN_FIELDS if n != "questions"} | set(EXTRA_FIELDS)
    assert set(asked) == wanted


def test_the_first_step_holds_the_urgent_signs_each_needing_help_today_or_now() -> None:
    """Six are emergencies alone; breathless at rest alone is same-day (emergency with blue lips or confusion)."""
    first = checkin_steps.STEPS[0]
    assert first.id == "now" and first.fields == checkin_steps.EMERGENCY_NOW
    tiers = {name: triage(TriageCheckIn.from_mapping({name: True})).tier for name in first.fields}
    assert {n for n, t in tiers.items() if t is not Tier.EMERGENCY} == {"breathless_at_rest"}
    assert tiers["breathless_at_rest"] is Tier.CONTACT_TEAM


def test_emergency_signs_and_numbers_are_never_copied() -> None:
    emergency_fields = {
        n
        for n in CHECK_IN_FIELDS
        if CHECK_IN_FIELDS[n].kind == "bool" and triage(TriageCheckIn.from_mapping({n: True})).tier is Tier.EMERGENCY
    }
    assert emergency_fields <= checkin_steps.NEVER_COPIED
    assert {"weight_kg", "usual_weight_kg"} <= checkin_steps.NEVER_COPIED
