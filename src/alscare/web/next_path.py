"""Where to go after signing in: a ``next`` path carried through /signin and the two-step code, safely.

Only a relative path on this site is accepted — never a scheme, a host, a protocol-relative ``//host`` or a
backslash form browsers treat as one (``/\\host``) — so a link in an email cannot be turned into an open
redirect. Anything else is dropped and the person lands on their home page, as before.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote, urlsplit

NEXT_MAX_CHARS: Final = 500
# Pages that a signed-out visitor is brought back to after signing in: the ones notification emails link to.
# (Other pages send a signed-out visitor to plain /signin, as before; /signin?next= works for any safe path.)
RETURN_AFTER_SIGN_IN: Final = ("/clinic/alerts/",)
_NOT_AGAIN: Final = ("/signin", "/signout", "/signup")


def safe_next(value: object) -> str | None:
    """``value`` if it is a path on this site worth returning to, else None."""
    if not isinstance(value, str) or not value or len(value) > NEXT_MAX_CHARS:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):  # spaces, tabs, CR/LF, other controls
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    if parts.path.startswith(_NOT_AGAIN):
        return None
    return value


def with_next(path: str, next_path: str | None) -> str:
    """``path`` with ``?next=`` added when there is a safe place to return to."""
    return f"{path}?next={quote(next_path, safe='/')}" if next_path else path
