"""Wording for the clinical instruments, kept as data apart from the scoring logic.

Why: item texts and answer labels change for reasons (plain-language review, translation, licensing) that
have nothing to do with how an instrument is scored, so they live in TOML files beside this module, keyed
by item id and score, and the scoring modules only read them. This follows the camcops practice of keeping
questionnaire strings in data files (see /work/shared/style.md).

Files are named ``<instrument>.<language>.toml`` (for example ``alsfrs_r.en.toml``) and are shipped as
package data, so they are read through :mod:`importlib.resources` rather than from a file-system path.
"""

from __future__ import annotations

import copy
import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["load_wording"]

# Only plain names: the name becomes part of a resource path, so nothing that could climb out of this package.
_NAME = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")


@cache
def _parsed(name: str) -> dict[str, Any]:
    """Read and parse one wording file once per process; the text never changes while we run."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"wording name {name!r} must look like 'alsfrs_r.en'")
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_wording(name: str) -> dict[str, Any]:
    """Return the parsed wording file ``<name>.toml`` (for example ``load_wording("alsfrs_r.en")``).

    The file is parsed once and cached; each caller gets its own deep copy, so a caller that edits the
    result (say, to fill a template) cannot change what the next caller sees.
    """
    return copy.deepcopy(_parsed(name))
