"""Learn: articles in plain words (/learn, /learn/{article_id}, /learn?q=…).

Open to everyone, signed in or not: the articles hold no patient data, and someone newly told they have ALS,
or their family, should be able to read them before they have an account. A signed-in person sees the usual
navigation; the emergency number is shown to everyone (the person's own, or the server's default).

Which associations "where to find help" lists first follows the server's locale (``settings.locale``):
patients have no locale of their own yet. Articles are data (``alscare/content/texts/articles``) rendered
through Jinja's escaping only: no HTML from content ever reaches the page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from alscare.actions.errors import NotFound
from alscare.content import articles
from alscare.storage.models import User
from alscare.web.deps import Db, app_context, optional_user
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

CONTENT_LOCALE = "en"  # the only language written so far


def _emergency_number(request: Request, user: User | None) -> str | None:
    """For signed-out readers and clinic staff render() shows none; articles always show one."""
    if user is not None and user.role in ("patient", "caregiver"):
        return None  # render() finds the person's own number
    return app_context(request).settings.default_emergency_number


@router.get("/learn")
def learn_index(request: Request, db: Db, user: User | None = Depends(optional_user), q: str | None = None) -> Response:
    query = (q or "").strip()[: articles.SEARCH_MAX_CHARS]
    results = articles.search(query, CONTENT_LOCALE) if query else None
    return render(
        request,
        "learn_index.html",
        title=f"Search results for {query}" if query else "Learn about ALS",
        user=user,
        db=db,
        active="learn",
        query=query,
        results=results,
        all_articles=articles.all_articles(CONTENT_LOCALE),
        emergency_number=_emergency_number(request, user),
    )


@router.get("/learn/{article_id}")
def learn_article(request: Request, article_id: str, db: Db, user: User | None = Depends(optional_user)) -> Response:
    found = articles.article(article_id, CONTENT_LOCALE)
    if found is None:
        raise NotFound("There is no article with that name.")
    locale = app_context(request).settings.locale
    local, international, others = articles.associations_for(locale)
    return render(
        request,
        "learn_article.html",
        title=found.title,
        user=user,
        db=db,
        active="learn",
        article=found,
        show_associations=found.id == "where-to-find-help",
        local=local,
        international=international,
        others=others,
        country=articles.country_of(locale),
        emergency_number=_emergency_number(request, user),
    )
