"""The medicines catalogue, the riluzole liver-test schedule and the medicine prompts.

Schedule: riluzole EU SmPC (Rilutek) — ALT monthly for the first 3 months, every 3 months for the rest of
year 1, periodically thereafter; US label — test before treatment (clinical-reference §7). alscare's choices
(baseline window, one-week grace, every 3 months after year 1) are in ``alscare.clinical.medicines``.
"""

from __future__ import annotations

from datetime import date

import pytest
import textstat

from alscare.clinical.medicines import (
    BY_ID,
    CATALOGUE,
    GROUPS,
    LEAFLET_SOURCES,
    ListedMedicine,
    add_months,
    catalogue_match,
    group_label,
    leaflet,
    leaflets,
    liver_test_dates,
    liver_test_status,
    medicine_prompts_for,
)

START = date(2026, 1, 15)
D = date.fromisoformat

# today, tests done (dates), expected state, expected due date. Scheduled: 15 Jan (baseline), 15 Feb, 15 Mar,
# 15 Apr, then 15 Jul, 15 Oct, 15 Jan 2027, then every 3 months (15 Apr 2027 …).
SCHEDULE_TABLE = [
    ("2025-12-01", "", "not_yet", "2026-01-15"),  # more than a month before starting
    ("2026-01-05", "", "not_yet", "2026-01-15"),  # baseline window open, but not yet within a week
    ("2026-01-10", "", "due", "2026-01-15"),  # a week before starting: the baseline is due
    ("2026-01-15", "", "due", "2026-01-15"),
    ("2026-01-22", "", "due", "2026-01-15"),  # last day of grace
    ("2026-01-23", "", "overdue", "2026-01-15"),
    ("2026-01-15", "2025-12-20", "done", "2026-02-15"),  # a test just before starting is the baseline
    ("2026-02-07", "2026-01-14", "done", "2026-02-15"),  # month-1 window opens on 8 Feb
    ("2026-02-08", "2026-01-14", "due", "2026-02-15"),
    ("2026-02-23", "2026-01-14", "overdue", "2026-02-15"),
    ("2026-02-23", "2026-01-14 2026-02-12", "done", "2026-03-15"),  # three days early counts
    ("2026-03-20", "2026-01-14 2026-02-12", "due", "2026-03-15"),
    ("2026-04-20", "2026-01-14 2026-02-12 2026-03-16 2026-04-14", "done", "2026-07-15"),
    ("2026-06-30", "2026-01-14 2026-02-12 2026-03-16 2026-04-14", "done", "2026-07-15"),
    ("2026-07-08", "2026-01-14 2026-02-12 2026-03-16 2026-04-14", "due", "2026-07-15"),  # every 3 months now
    ("2026-07-30", "2026-04-14", "overdue", "2026-07-15"),
    ("2026-10-25", "2026-04-14", "overdue", "2026-10-15"),  # a missed July test is not chased in October
    ("2027-01-10", "2026-10-15", "due", "2027-01-15"),  # end of year 1
    ("2027-04-25", "2027-01-15", "overdue", "2027-04-15"),  # after year 1: every 3 months (alscare)
    ("2026-02-23", "2026-03-01", "overdue", "2026-02-15"),  # a test dated after today is ignored
]


@pytest.mark.parametrize(("today", "done", "state", "due"), SCHEDULE_TABLE)
def test_riluzole_liver_test_schedule(today: str, done: str, state: str, due: str) -> None:
    status = liver_test_status(START, [D(d) for d in done.split()], today=D(today))
    assert (status.state, status.due_on) == (state, D(due))


def test_schedule_dates_monthly_then_three_monthly() -> None:
    assert liver_test_dates(START, until=D("2027-04-01")) == [
        D(d)
        for d in (
            [
                "2026-01-15",
                "2026-02-15",
                "2026-03-15",
                "2026-04-15",
                "2026-07-15",
                "2026-10-15",
                "2027-01-15",
                "2027-04-15",
            ]
        )
    ]


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(D("2026-01-31"), 1) == D("2026-02-28")
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29")
    assert add_months(D("2026-11-30"), 3) == D("2027-02-28")


def test_last_done_is_reported() -> None:
    assert liver_test_status(START, [D("2026-01-14"), D("2026-02-16")], today=D("2026-02-20")).last_done == D(
        "2026-02-16"
    )


def _riluzole(started: str | None, tests: str = "", stopped: str | None = None) -> ListedMedicine:
    return ListedMedicine(
        "Riluzole 50 mg",
        "riluzole",
        D(started) if started else None,
        D(stopped) if stopped else None,
        tuple(D(d) for d in tests.split()),
    )


def test_prompt_for_a_due_liver_test_names_the_date() -> None:
    (prompt,) = medicine_prompts_for([_riluzole("2026-01-15", "2026-01-14")], today=D("2026-02-10"))
    assert prompt.id == "riluzole_liver_test_due_2026-02-15"
    assert "2026-02-15" in prompt.message and "ALT" in prompt.message
    assert "clinical-reference §7" in prompt.source


def test_prompt_for_an_overdue_liver_test() -> None:
    (prompt,) = medicine_prompts_for([_riluzole("2026-01-15", "2026-01-14")], today=D("2026-03-01"))
    assert prompt.id == "riluzole_liver_test_overdue_2026-02-15"


@pytest.mark.parametrize(
    "entry",
    [
        _riluzole("2026-01-15", "2026-01-14 2026-02-14"),  # done
        _riluzole("2026-01-15", "", stopped="2026-02-01"),  # stopped
        _riluzole(None),  # no start date: the schedule cannot be placed (the page asks for one)
        _riluzole("2026-06-01"),  # starts later
    ],
)
def test_no_liver_prompt(entry: ListedMedicine) -> None:
    assert medicine_prompts_for([entry], today=D("2026-02-20")) == []


def test_withdrawn_medicine_on_the_list_raises_a_prompt() -> None:
    entries = [
        ListedMedicine("Relyvrio", None, D("2023-03-01"), None),  # free text, recognised by brand
        ListedMedicine("Baclofen 10 mg", "baclofen", D("2025-01-01"), None),
    ]
    (prompt,) = medicine_prompts_for(entries, today=D("2026-02-20"))
    assert prompt.id == "withdrawn_medicine_pb_taurursodiol"
    assert "withdrawn" in prompt.message and "2024" in prompt.message


def test_withdrawn_medicine_stopped_raises_nothing() -> None:
    entry = ListedMedicine("x", "pb_taurursodiol", D("2023-03-01"), D("2024-06-01"))
    assert medicine_prompts_for([entry], today=D("2026-02-20")) == []


def test_withdrawn_is_marked_in_the_catalogue() -> None:
    assert BY_ID["pb_taurursodiol"].withdrawn
    assert [m.id for m in CATALOGUE if m.withdrawn] == ["pb_taurursodiol"]
    assert BY_ID["edaravone_iv"].status == BY_ID["edaravone_oral"].status == "not_in_eu"
    assert "withdrawn" in leaflet("pb_taurursodiol").title.lower()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rilutek 50 mg", "riluzole"),
        ("riluzole oral suspension", "riluzole"),
        ("Radicava", "edaravone_iv"),
        ("Radicava ORS", "edaravone_oral"),
        ("Qalsody", "tofersen"),
        ("glycopyrrolate", "glycopyrronium"),
        ("paracetamol", None),
    ],
)
def test_catalogue_match_knows_brand_names(text: str, expected: str | None) -> None:
    found = catalogue_match(text)
    assert (found.id if found else None) == expected


def test_every_entry_has_a_name_source_and_leaflet() -> None:
    for medicine in CATALOGUE:
        assert medicine.name
        assert "clinical-reference §7" in medicine.source
        assert medicine.leaflet in LEAFLET_SOURCES
        assert all(g in GROUPS for g in medicine.groups)
    assert all(group_label(g) for g in GROUPS)
    # Every symptom group of §7 named in the issue has at least one leaflet; sleep is marked UNCONFIRMED.
    assert set(LEAFLET_SOURCES) >= {"cramps", "stiffness", "saliva", "secretions", "pseudobulbar", "mood", "sleep"}
    assert "UNCONFIRMED" in LEAFLET_SOURCES["sleep"] and "UNCONFIRMED" in LEAFLET_SOURCES["mood"]


@pytest.mark.parametrize("item", leaflets(), ids=lambda lf: lf.id)
def test_leaflets_read_at_grade_8_or_below(item: object) -> None:
    from alscare.clinical.medicines import Leaflet

    assert isinstance(item, Leaflet)
    assert textstat.flesch_kincaid_grade(item.text) <= 8.0


def test_leaflets_carry_the_facts() -> None:
    rilu = leaflet("riluzole").text
    assert "50 mg" in rilu and "every month for the first three months" in rilu and "every three months" in rilu
    assert "fever" in rilu and "short of breath" in rilu
    assert "lumbar puncture" in leaflet("tofersen").text and "SOD1" in leaflet("tofersen").text
    assert "April 2024" in leaflet("pb_taurursodiol").text and "do not stop" in leaflet("pb_taurursodiol").text
