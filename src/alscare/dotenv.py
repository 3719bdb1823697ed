"""Read a ``.env`` file of ``KEY=VALUE`` lines into the environment, the environment winning.

Clinics keep their settings in ``.env`` beside the data (``.env.example`` lists them). The format is the
small common subset: one ``KEY=VALUE`` per line, ``#`` comments and blank lines ignored, an optional
``export`` prefix, and values optionally in matching single or double quotes (taken literally: no escapes,
no ``$VAR`` expansion). No dependency is needed for that.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from pathlib import Path

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


class DotenvError(ValueError):
    """A line of the file is not ``KEY=VALUE``."""


def parse_dotenv(text: str, *, source: str = ".env") -> dict[str, str]:
    """The variables a ``.env`` text sets; DotenvError naming the line for anything else."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise DotenvError(f"{source} line {number} is not KEY=VALUE")
        key, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def load_dotenv(path: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Set variables from ``path`` that the environment does not already have; returns the names set."""
    env = os.environ if environ is None else environ
    if not path.is_file():
        return []
    added = []
    for key, value in parse_dotenv(path.read_text(encoding="utf-8"), source=str(path)).items():
        if key not in env:
            env[key] = value
            added.append(key)
    return added
