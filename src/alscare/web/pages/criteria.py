"""The diagnostic criteria worksheet page for clinicians (decision support, never a diagnosis).

It holds no patient data — the clinician ticks findings and sees what the three schemes say — and it uses the
very function behind ``alscare criteria`` (:func:`alscare.clinical.criteria.evaluate`), so page and CLI cannot
disagree. Clinicians only: it is a tool for the person making the diagnosis, not for patients or administrators.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from alscare.actions.errors import PermissionDenied
from alscare.clinical.criteria import FINDINGS, REGIONS, CriteriaInput, CriteriaResult, evaluate
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser
from alscare.web.pages.forms import read_form
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

REGION_WORDS = {
    "bulbar": "Bulbar (head and throat)",
    "cervical": "Cervical (neck and arms)",
    "thoracic": "Thoracic (chest and back)",
    "lumbosacral": "Lumbosacral (legs and lower back)",
}
FINDING_WORDS = {"umn": "UMN signs", "lmn_clinical": "LMN signs on examination", "lmn_emg": "LMN signs on EMG"}
CATEGORY_WORDS = {
    "definite": "Definite",
    "probable": "Probable",
    "probable_laboratory_supported": "Probable, laboratory-supported",
    "possible": "Possible",
    "not_met": "Not met",
}


def _only_clinicians(user: User) -> None:
    if user.role != "clinician":
        raise PermissionDenied("The criteria worksheet is for clinicians.")


def _page(request: Request, db: Db, user: User, checked: set[str], result: CriteriaResult | None) -> Response:
    return render(
        request,
        "criteria.html",
        title="Diagnostic criteria worksheet",
        user=user,
        db=db,
        active="criteria",
        regions=REGIONS,
        findings=FINDINGS,
        region_words=REGION_WORDS,
        finding_words=FINDING_WORDS,
        category_words=CATEGORY_WORDS,
        checked=checked,
        result=result,
    )


@router.get("/clinic/criteria")
def criteria_form(request: Request, user: PageUser, db: Db) -> Response:
    _only_clinicians(user)
    return _page(request, db, user, set(), None)


def worksheet_from_form(form: FormData) -> tuple[set[str], CriteriaInput]:
    """Checkboxes named ``<region>.<finding>``, ``progressive`` and ``other_causes_excluded``: ticked = true."""
    checked = {k for k in form if form.get(k) == "yes"}
    data = {
        "regions": {r: {f: f"{r}.{f}" in checked for f in FINDINGS} for r in REGIONS},
        "progressive": "progressive" in checked,
        "other_causes_excluded": "other_causes_excluded" in checked,
    }
    return checked, CriteriaInput.from_mapping(data)


@router.post("/clinic/criteria")
async def criteria_result(request: Request, user: PageUser, db: Db) -> Response:
    _only_clinicians(user)
    form = await read_form(request)
    checked, worksheet = worksheet_from_form(form)
    return _page(request, db, user, checked, evaluate(worksheet))
