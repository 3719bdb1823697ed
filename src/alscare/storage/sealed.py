"""The column type that seals secrets at rest (see ``alscare.security.secretbox``)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from alscare.security.secretbox import has_key, is_sealed, open_sealed, seal


class SealedString(TypeDecorator[str]):
    """A string column stored sealed; reads return the plaintext (legacy plaintext rows included).

    With no key registered in the process (a bare script or unit test) values are stored as they are, marked
    by the absence of the prefix, and sealed on their next write once a key is registered.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or is_sealed(value) or not has_key():
            return value
        return seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else open_sealed(value)
