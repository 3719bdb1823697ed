"""Errors actions raise; the web layer turns them into 404/403/422 answers with the same words."""

from __future__ import annotations

from alscare.clinical.errors import InvalidInput


class NotFound(LookupError):
    """No such thing — or the actor may not know it exists (deliberately the same answer)."""


class PermissionDenied(PermissionError):
    """The actor is known to be able to see the thing but may not do this to it."""


__all__ = ["InvalidInput", "NotFound", "PermissionDenied"]
