"""Errors raised by the clinical core.

Every refusal names the field at fault, so that the CLI, the web forms and the API can all tell the
person exactly what to fix, in the same words.
"""

from __future__ import annotations


class InvalidInput(ValueError):
    """Input the clinical core refuses; ``field`` is the dotted name of the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
