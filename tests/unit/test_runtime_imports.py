"""`pip install alscare` without the dev extras must work: no module under src/alscare imports a package that
only the dev extras install (test tools, textstat, numpy, ...). Checked statically over every import,
including those inside functions, and by importing every module in a fresh interpreter that cannot see the
dev-only packages."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "alscare"

# Import names of the runtime dependencies in pyproject.toml, and of what they bring with them.
RUNTIME = {
    "typer", "click", "fastapi", "starlette", "pydantic", "uvicorn", "jinja2", "multipart", "python_multipart",
    "sqlalchemy", "alembic", "argon2", "pyotp", "segno", "psycopg", "httpx", "httpcore", "weasyprint", "markupsafe",
    "alscare", "fhir", "openpyxl", "anyio",
}  # fmt: skip
DEV_ONLY = {
    "pytest", "hypothesis", "ruff", "mypy", "schemathesis", "playwright", "aiosmtpd", "textstat", "numpy", "yaml",
    "hadolint", "jsonschema",
}  # fmt: skip


def _imported_top_levels() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_is_stdlib_or_a_runtime_dependency() -> None:
    stray = {
        name: sorted(files)
        for name, files in _imported_top_levels().items()
        if name not in sys.stdlib_module_names and name not in RUNTIME
    }
    assert stray == {}, f"imports that `pip install alscare` does not provide: {stray}"


def test_dev_only_packages_are_really_only_in_the_dev_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"]).lower()
    for name in ("pytest", "textstat", "numpy", "playwright", "schemathesis", "hypothesis"):
        assert name not in runtime
        assert any(d.lower().startswith(name) for d in project["optional-dependencies"]["dev"])


def test_every_module_imports_without_the_dev_packages() -> None:
    blocker = (
        "import sys, importlib, pkgutil\n"
        f"BLOCKED = {sorted(DEV_ONLY)!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ImportError(f'dev-only package imported at run time: {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import alscare\n"
        "for info in pkgutil.walk_packages(alscare.__path__, 'alscare.'):\n"
        "    if '.migrations.versions.' in info.name or info.name.endswith('migrations.env'):\n"
        "        continue\n"
        "    importlib.import_module(info.name)\n"
        "from alscare.web.app import create_app\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
