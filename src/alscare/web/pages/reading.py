"""The reading and switch settings page (``/account/reading``): text size, high contrast, switches, speech."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions import reading
from alscare.actions.errors import InvalidInput
from alscare.web.deps import Db, PageUser
from alscare.web.pages.forms import read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

SIZE_LABELS = {100: "Normal", 125: "Large", 150: "Larger", 200: "Largest (twice the normal size)"}
SCANNING_LABELS = {
    "off": "I do not use switches",
    "one": "One switch: the Space key. Answers light up in turn; press to choose.",
    "two": "Two switches: Space moves to the next answer, Enter chooses it.",
}


def _page(
    request: Request, db: Db, user: PageUser, values: reading.Reading, errors: dict[str, str] | None = None
) -> Response:
    return render(
        request,
        "reading.html",
        title="Reading and switch settings",
        user=user,
        db=db,
        active="account",
        errors=errors,
        values=values,
        sizes=[(str(s), SIZE_LABELS[s]) for s in reading.TEXT_SIZES],
        scanning_modes=list(SCANNING_LABELS.items()),
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/account/reading")
def reading_page(request: Request, user: PageUser, db: Db) -> Response:
    return _page(request, db, user, reading.reading_of(db, user.id))


@router.post("/account/reading")
async def save_reading(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    try:
        values = reading.parse_reading(
            text_size=text(form, "text_size", max_length=5),
            high_contrast=form.get("high_contrast") == "yes",
            scanning=text(form, "scanning", max_length=5),
            scan_seconds=text(form, "scan_seconds", max_length=10) or "1.5",
            read_aloud=form.get("read_aloud") == "yes",
        )
    except InvalidInput as e:
        return _page(request, db, user, reading.reading_of(db, user.id), errors={e.field: e.message})
    reading.save_reading(db, user_id=user.id, reading=values, now=request.app.state.ctx.clock())
    db.commit()
    return RedirectResponse("/account/reading?saved=1", status_code=303)
