"""PDF documents (visit summary, care wishes, emergency card, printouts) drawn from the same Jinja templates
as the pages, by WeasyPrint.

Why WeasyPrint: it turns HTML and CSS into PDF in-process with no browser and no network, so a document
says exactly what its page says. It needs Debian's Pango (``libpango-1.0-0``), which ``scripts/test.sh``
installs. Templates for print live beside the others and name ``pdf_base.html``-style print CSS themselves;
remote URLs are refused so that a document can never make the server fetch anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alscare.web.render import TEMPLATES

_STATIC = Path(__file__).with_name("static")


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: only our own static files, never the network."""
    prefix = "file://"
    if url.startswith(prefix):
        path = Path(url[len(prefix) :]).resolve()
        if path.is_relative_to(_STATIC.resolve()) and path.is_file():
            return {"string": path.read_bytes(), "mime_type": None}
    raise ValueError(f"PDF documents may not fetch {url!r}")


def render_pdf(template: str, **context: Any) -> bytes:
    """Render ``template`` with ``context`` and return the PDF's bytes."""
    from weasyprint import HTML  # imported here: loading Pango costs time the pages do not need

    html = TEMPLATES.get_template(template).render(**context)
    document = HTML(string=html, base_url=_STATIC.as_uri() + "/", url_fetcher=_no_fetch)
    return bytes(document.write_pdf())
