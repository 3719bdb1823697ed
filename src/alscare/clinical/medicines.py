"""Medicines for ALS: a catalogue declared as data, the riluzole liver-test schedule, and care-team prompts.

Why it is built like this
    Facts (doses, schedules, warnings, status) come from ``/work/shared/clinical-reference.md`` §7 and are
    cited per entry; the words people read live in ``wording/medicines.en.toml`` (our own plain words,
    reading grade ≤ 8, checked by a test), so they can be reviewed and translated apart from the logic.
    The catalogue is what the person's medicine list picks from; a free-text name is allowed too, and
    :func:`catalogue_match` recognises brand names in free text, so "Rilutek 50 mg" is still riluzole.

The riluzole schedule
    EU SmPC (Rilutek): ALT monthly for the first 3 months, every 3 months for the rest of year 1, then
    "periodically"; the US label asks for a test before treatment too. alscare schedules a **baseline** on the
    start date, then months 1, 2, 3, then every 3 months from month 6 on. Beyond year 1 the sources say only
    "periodically": continuing every 3 months is alscare's choice (UNCONFIRMED), erring towards testing.
    Each scheduled date owns a window, from a week before it to a week before the next one (a test a few days
    early counts). The baseline window opens a month before the start date (a test just before starting is
    the baseline). A test is *due* from a week before its date to a week after, then *overdue* (the two
    grace weeks are alscare's choice, UNCONFIRMED). Only the window holding ``today`` is judged: a test
    missed long ago is not chased once the next one falls due.

Prompts (for the clinic, never advice to the person)
    ``riluzole_liver_test_due_<date>`` / ``riluzole_liver_test_overdue_<date>`` for a riluzole entry whose
    current window has no test; ``withdrawn_medicine_<catalogue id>`` for a withdrawn medicine still on the
    list. Ids carry the due date (or medicine), so each new due date is a new prompt, and a prompt the clinic
    has dealt with is not raised again for the same date.

Pure: no clock (``today`` is an argument), no database, no web.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal

from alscare.clinical.prompts import Prompt
from alscare.clinical.wording import load_wording

Group = Literal["disease", "cramps", "stiffness", "saliva", "secretions", "pseudobulbar", "mood", "sleep"]
GROUPS: Final[tuple[Group, ...]] = (
    "disease",
    "cramps",
    "stiffness",
    "saliva",
    "secretions",
    "pseudobulbar",
    "mood",
    "sleep",
)
Status = Literal["in_use", "withdrawn", "not_in_eu"]
Monitoring = Literal["riluzole_liver_tests"]

# --- Sources (clinical-reference §7) ----------------------------------------------------------------

SOURCE_RILUZOLE: Final = (
    "Riluzole US label and EU SmPC (Rilutek): 50 mg every 12 h, ≥ 1 h before or 2 h after a meal; ALT "
    "monthly for 3 months, every 3 months for the rest of year 1, periodically thereafter; report febrile "
    "illness (neutropenia); interstitial lung disease; median survival gain about 2–3 months "
    "(clinical-reference §7, High)"
)
SOURCE_EDARAVONE_IV: Final = (
    "Edaravone (Radicava) IV prescribing information: 60 mg over 60 min; cycle 1 daily for 14 days then 14 "
    "off, later cycles 10 of 14 days then 14 off; sodium bisulfite caution; not authorised in the EU "
    "(EMA, Feb 2024) (clinical-reference §7, High)"
)
SOURCE_EDARAVONE_ORAL: Final = (
    "Edaravone oral suspension (Radicava ORS) prescribing information: 105 mg/5 mL in the morning after an "
    "overnight fast, no food for 1 h after; fasting before 8 h after high-fat, 4 h low-fat, 2 h caloric "
    "supplement; by mouth or feeding tube; not authorised in the EU (clinical-reference §7, High)"
)
SOURCE_TOFERSEN: Final = (
    "Tofersen (Qalsody) FDA label (accelerated approval 25 Apr 2023) and EMA EPAR (May 2024): SOD1-ALS only; "
    "100 mg intrathecal, 3 loading doses 14 days apart then every 28 days; warnings myelitis/radiculitis, "
    "papilloedema/raised intracranial pressure, aseptic meningitis (clinical-reference §7, High)"
)
SOURCE_PB_TURSO: Final = (
    "Sodium phenylbutyrate–taurursodiol (Relyvrio/Albrioza; AMX0035): PHOENIX phase 3 missed its endpoints "
    "(Mar 2024); voluntary withdrawal announced 4 Apr 2024, no new patients, existing patients via a "
    "free-drug programme; EU refused; Canada withdrawal by 31 Dec 2024 (clinical-reference §7, High)"
)
SOURCE_CRAMPS: Final = (
    "NICE NG42: quinine first line, baclofen second, then tizanidine, dantrolene or gabapentin; mexiletine "
    "RCTs (Oskarsson, Muscle Nerve 2018;58:42; Weiss, Neurology 2016;86:1474); FDA warns against quinine for "
    "cramps (clinical-reference §7)"
)
SOURCE_STIFFNESS: Final = (
    "NICE NG42: baclofen, tizanidine, dantrolene, gabapentin; specialist referral if severe (clinical-reference §7)"
)
SOURCE_SALIVA: Final = (
    "NICE NG42 and AAN 2009: antimuscarinic trial first (glycopyrrolate if cognitive impairment; "
    "amitriptyline, hyoscine patch, atropine drops), botulinum toxin (NICE type A second line; AAN type B "
    "Level B), salivary-gland radiotherapy (AAN Level C) (clinical-reference §7)"
)
SOURCE_SECRETIONS: Final = (
    "NICE NG42: humidification, saline nebulisers, carbocisteine, review antimuscarinics; AAN 2009: "
    "mechanical insufflation–exsufflation Level C (clinical-reference §7)"
)
SOURCE_PSEUDOBULBAR: Final = (
    "Dextromethorphan 20 mg/quinidine 10 mg label: 1 capsule daily days 1–7, then every 12 h, at most 2 a "
    "day; ECG considerations; AAN Level B; SSRIs/TCAs sometimes used (lower evidence) (clinical-reference §7)"
)
SOURCE_MOOD: Final = (
    "EFNS 2012 good practice: SSRIs or amitriptyline with psychological support; no ALS-specific trial "
    "evidence in the sources read (clinical-reference §7, Medium/UNCONFIRMED)"
)
SOURCE_SLEEP: Final = (
    "UNCONFIRMED: clinical-reference §7 has no row for sleep. The leaflet names only causes listed elsewhere "
    "in the reference (cramps, stiffness, saliva, low mood, §7; nocturnal breathing weakness and morning "
    "headache, §6) and names no medicine"
)
SOURCE_RILUZOLE_SCHEDULE: Final = (
    SOURCE_RILUZOLE + "; baseline test before treatment (US label); every 3 months after year 1 and the "
    "one-week grace either side of a due date are alscare's choices (UNCONFIRMED)"
)
SOURCE_WITHDRAWN_PROMPT: Final = SOURCE_PB_TURSO


@dataclass(frozen=True)
class Medicine:
    """One catalogue entry. ``name`` and the leaflet come from the wording file, keyed by ``id``."""

    id: str
    groups: tuple[Group, ...]
    status: Status
    source: str
    leaflet: str
    # Names the medicine is written under (generic and brands), matched as whole words, case-insensitive.
    synonyms: frozenset[str]
    monitoring: Monitoring | None = None
    unconfirmed: bool = False

    @property
    def name(self) -> str:
        return str(_wording()["medicine"][self.id]["name"])

    @property
    def withdrawn(self) -> bool:
        return self.status == "withdrawn"


def _m(
    id: str,
    groups: tuple[Group, ...],
    source: str,
    leaflet: str,
    synonyms: tuple[str, ...],
    *,
    status: Status = "in_use",
    monitoring: Monitoring | None = None,
    unconfirmed: bool = False,
) -> Medicine:
    return Medicine(id, groups, status, source, leaflet, frozenset(synonyms), monitoring, unconfirmed)


CATALOGUE: Final[tuple[Medicine, ...]] = (
    _m(
        "riluzole",
        ("disease",),
        SOURCE_RILUZOLE,
        "riluzole",
        ("riluzole", "rilutek", "teglutik", "tiglutik", "exservan"),
        monitoring="riluzole_liver_tests",
    ),
    _m(
        "edaravone_iv", ("disease",), SOURCE_EDARAVONE_IV, "edaravone_iv", ("edaravone", "radicava"), status="not_in_eu"
    ),
    _m("edaravone_oral", ("disease",), SOURCE_EDARAVONE_ORAL, "edaravone_oral", (), status="not_in_eu"),
    _m("tofersen", ("disease",), SOURCE_TOFERSEN, "tofersen", ("tofersen", "qalsody")),
    _m(
        "pb_taurursodiol",
        ("disease",),
        SOURCE_PB_TURSO,
        "pb_taurursodiol",
        ("relyvrio", "albrioza", "amx0035", "taurursodiol", "phenylbutyrate"),
        status="withdrawn",
    ),
    _m("quinine", ("cramps",), SOURCE_CRAMPS, "cramps", ("quinine",)),
    _m("baclofen", ("cramps", "stiffness"), SOURCE_STIFFNESS, "stiffness", ("baclofen", "lioresal")),
    _m("tizanidine", ("cramps", "stiffness"), SOURCE_STIFFNESS, "stiffness", ("tizanidine", "zanaflex")),
    _m("dantrolene", ("cramps", "stiffness"), SOURCE_STIFFNESS, "stiffness", ("dantrolene", "dantrium")),
    _m("gabapentin", ("cramps", "stiffness"), SOURCE_STIFFNESS, "stiffness", ("gabapentin", "neurontin")),
    _m("mexiletine", ("cramps",), SOURCE_CRAMPS, "cramps", ("mexiletine",)),
    _m("glycopyrronium", ("saliva",), SOURCE_SALIVA, "saliva", ("glycopyrronium", "glycopyrrolate", "robinul")),
    _m("amitriptyline", ("saliva", "mood"), SOURCE_SALIVA, "saliva", ("amitriptyline",)),
    _m("hyoscine_patch", ("saliva",), SOURCE_SALIVA, "saliva", ("hyoscine", "scopolamine")),
    _m("atropine_drops", ("saliva",), SOURCE_SALIVA, "saliva", ("atropine",)),
    _m("botulinum_toxin", ("saliva",), SOURCE_SALIVA, "saliva", ("botulinum", "botox")),
    _m("carbocisteine", ("secretions",), SOURCE_SECRETIONS, "secretions", ("carbocisteine",)),
    _m("saline_nebuliser", ("secretions",), SOURCE_SECRETIONS, "secretions", ("saline", "nebuliser")),
    _m(
        "dextromethorphan_quinidine",
        ("pseudobulbar",),
        SOURCE_PSEUDOBULBAR,
        "pseudobulbar",
        ("nuedexta", "dextromethorphan"),
    ),
    _m("ssri", ("mood",), SOURCE_MOOD, "mood", ("ssri", "sertraline", "citalopram"), unconfirmed=True),
)
BY_ID: Final[dict[str, Medicine]] = {m.id: m for m in CATALOGUE}

# Leaflets: one per ALS medicine, one per symptom group. The sleep leaflet has no catalogue medicine.
LEAFLET_SOURCES: Final[dict[str, str]] = {
    "riluzole": SOURCE_RILUZOLE,
    "edaravone_iv": SOURCE_EDARAVONE_IV,
    "edaravone_oral": SOURCE_EDARAVONE_ORAL,
    "tofersen": SOURCE_TOFERSEN,
    "pb_taurursodiol": SOURCE_PB_TURSO,
    "cramps": SOURCE_CRAMPS,
    "stiffness": SOURCE_STIFFNESS,
    "saliva": SOURCE_SALIVA,
    "secretions": SOURCE_SECRETIONS,
    "pseudobulbar": SOURCE_PSEUDOBULBAR,
    "mood": SOURCE_MOOD,
    "sleep": SOURCE_SLEEP,
}
GROUP_LEAFLETS: Final[dict[Group, str]] = {
    "cramps": "cramps",
    "stiffness": "stiffness",
    "saliva": "saliva",
    "secretions": "secretions",
    "pseudobulbar": "pseudobulbar",
    "mood": "mood",
    "sleep": "sleep",
}


def _wording() -> dict[str, Any]:
    return load_wording("medicines.en")


@dataclass(frozen=True)
class Leaflet:
    id: str
    title: str
    paragraphs: tuple[str, ...]
    source: str

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def leaflet(leaflet_id: str) -> Leaflet:
    """A leaflet by id (``KeyError`` if there is none)."""
    words = load_wording("medicines.en")["leaflet"][leaflet_id]
    paragraphs = tuple(p.strip() for p in str(words["text"]).strip().split("\n\n") if p.strip())
    return Leaflet(leaflet_id, str(words["title"]), paragraphs, LEAFLET_SOURCES[leaflet_id])


def leaflets() -> list[Leaflet]:
    return [leaflet(i) for i in LEAFLET_SOURCES]


def group_label(group: Group) -> str:
    return str(load_wording("medicines.en")["group"][group])


def status_label(status: Status) -> str:
    return str(load_wording("medicines.en")["status"][status])


_WORD = re.compile(r"[^\W_]+")


def catalogue_match(name: str) -> Medicine | None:
    """The catalogue medicine a free-text name is written as (generic or brand, whole words), if any.

    The two edaravone forms share their names, so free text naming edaravone is the IV form unless it
    says ORS (the oral suspension's brand suffix).
    """
    words = set(_WORD.findall(name.casefold()))
    if "edaravone" in words or "radicava" in words:
        return BY_ID["edaravone_oral" if "ors" in words else "edaravone_iv"]
    for medicine in CATALOGUE:
        if words & medicine.synonyms:
            return medicine
    return None


# --- The riluzole liver-test schedule --------------------------------------------------------------

# Months after the start date at which ALT is due: baseline, monthly for 3 months, then every 3 months.
RILUZOLE_ALT_MONTHS_FIRST_YEAR: Final = (0, 1, 2, 3, 6, 9, 12)
RILUZOLE_ALT_EVERY_MONTHS_AFTER: Final = 3  # alscare's reading of "periodically" after year 1 (UNCONFIRMED)
# A test up to this long before a scheduled date counts for it; a scheduled test is "due" from this long
# before to this long after, then overdue (alscare choices, UNCONFIRMED).
GRACE: Final = timedelta(days=7)
# A test this long before the start date still counts as the baseline (alscare choice, UNCONFIRMED).
BASELINE_LOOKBACK: Final = timedelta(days=31)

LiverTestState = Literal["not_yet", "due", "overdue", "done"]


def add_months(start: date, months: int) -> date:
    """``start`` plus whole calendar months, the day clamped to the month's end (31 Jan + 1 month = 28 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _month_offset(k: int) -> int:
    first = RILUZOLE_ALT_MONTHS_FIRST_YEAR
    if k < len(first):
        return first[k]
    return first[-1] + (k - len(first) + 1) * RILUZOLE_ALT_EVERY_MONTHS_AFTER


def liver_test_dates(started_on: date, *, until: date) -> list[date]:
    """Every scheduled ALT date from ``started_on`` up to and including the first one after ``until``."""
    found: list[date] = []
    k = 0
    while True:
        when = add_months(started_on, _month_offset(k))
        found.append(when)
        if when > until:
            return found
        k += 1


@dataclass(frozen=True)
class LiverTestStatus:
    """Where a riluzole entry stands on ``today``.

    ``due_on`` is the scheduled date of the window holding today (for ``done``: the next scheduled date);
    ``state`` is ``not_yet`` before the first window opens, ``done`` when the current window has a test,
    else ``due`` or ``overdue``.
    """

    state: LiverTestState
    due_on: date
    last_done: date | None


def liver_test_status(started_on: date, tests_done: Sequence[date], *, today: date) -> LiverTestStatus:
    """Judge the riluzole ALT schedule on ``today`` from the start date and the dates of tests done."""
    done = sorted(d for d in tests_done if d <= today)
    last = done[-1] if done else None
    dates = liver_test_dates(started_on, until=today + GRACE)
    opens = [started_on - BASELINE_LOOKBACK] + [d - GRACE for d in dates[1:]]
    if today < opens[0]:
        return LiverTestStatus("not_yet", dates[0], last)
    i = max(j for j, o in enumerate(opens) if o <= today)
    window_end = opens[i + 1] if i + 1 < len(opens) else None
    in_window = any(opens[i] <= d and (window_end is None or d < window_end) for d in done)
    if in_window:
        return LiverTestStatus("done", dates[i + 1], last)
    if i == 0 and today < started_on - GRACE:
        return LiverTestStatus("not_yet", dates[0], last)
    return LiverTestStatus("overdue" if today > dates[i] + GRACE else "due", dates[i], last)


# --- Prompts for the clinic ------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedMedicine:
    """A medicine on a person's list, as the core sees it (the storage row translated)."""

    name: str
    catalogue_id: str | None
    started_on: date | None
    stopped_on: date | None
    liver_tests_done: tuple[date, ...] = ()

    def medicine(self) -> Medicine | None:
        if self.catalogue_id is not None:
            return BY_ID.get(self.catalogue_id)
        return catalogue_match(self.name)

    def taken_on(self, day: date) -> bool:
        started = self.started_on is None or self.started_on <= day
        return started and (self.stopped_on is None or self.stopped_on > day)


def _prompt_message(key: str, **values: str) -> str:
    return str(load_wording("medicines.en")["prompt"][key]["message"]).format(**values)


def medicine_prompts_for(listed: Sequence[ListedMedicine], *, today: date) -> list[Prompt]:
    """Prompts for the care team from a medicine list on ``today`` (see the module docstring)."""
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for entry in listed:
        if not entry.taken_on(today):
            continue
        medicine = entry.medicine()
        if medicine is None:
            continue
        if medicine.withdrawn:
            pid = f"withdrawn_medicine_{medicine.id}"
            if pid not in seen:
                prompts.append(Prompt(pid, _prompt_message("withdrawn_medicine", name=medicine.name), SOURCE_PB_TURSO))
        elif medicine.monitoring == "riluzole_liver_tests" and entry.started_on is not None:
            status = liver_test_status(entry.started_on, entry.liver_tests_done, today=today)
            if status.state in ("due", "overdue"):
                key = f"riluzole_liver_test_{status.state}"
                pid = f"{key}_{status.due_on.isoformat()}"
                if pid not in seen:
                    message = _prompt_message(key, due=status.due_on.isoformat())
                    prompts.append(Prompt(pid, message, SOURCE_RILUZOLE_SCHEDULE))
        seen.update(p.id for p in prompts)
    return prompts
