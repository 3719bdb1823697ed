"""The security modules stay pure: no web or database code, no clock, no environment.

Time and secrets are always arguments, so every rule here can be tested at any instant with any key.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import alscare.security

PACKAGE_DIR = Path(alscare.security.__file__).parent
MODULES = sorted(PACKAGE_DIR.glob("*.py"))

BANNED_IMPORTS = {"fastapi", "starlette", "sqlalchemy", "time", "os"}
# Reading the clock or the environment: datetime.now(), date.today(), time.time(), os.environ, getenv.
BANNED_ATTRIBUTES = {"now", "utcnow", "today", "monotonic", "perf_counter", "environ", "getenv"}


def test_the_package_has_its_modules() -> None:
    names = {path.stem for path in MODULES}
    assert {"passwords", "totp", "tokens", "ratelimit", "hashchain"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offences: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported = [node.module]
        else:
            continue
        offences += [f"line {node.lineno}: import {m}" for m in imported if m.split(".")[0] in BANNED_IMPORTS]
        if isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
            offences.append(f"line {node.lineno}: .{node.attr}")
    assert offences == []
