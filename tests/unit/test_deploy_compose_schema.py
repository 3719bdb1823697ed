"""compose.yaml against the Compose Specification's own JSON schema (issue 14: "the compose file validated
against its schema"), next to the structure check of our own in test_deploy_files.py.

The schema comes from a package, never from the network at run time of the app: Debian's ``docker-compose``
package and PyPI's ``docker-compose`` 1.29.2 both ship it as ``compose/config/compose_spec.json`` (the newest
copy either registry carries; Compose v2 embeds it in a Go binary). The test reads the Debian copy when that
package is installed, else fetches the PyPI wheel (without its dependencies) through pip's ordinary
configuration, and skips, saying why, when neither is reachable.

That copy dates from May 2021 and predates the top-level ``name`` key (added to the specification later that
year), so ``name`` is checked here by the pattern the specification gives it and the rest against the schema.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_COPY = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")
IN_WHEEL = "compose/config/compose_spec.json"


@pytest.fixture(scope="module")
def compose_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if DEBIAN_COPY.is_file():
        schema: dict[str, Any] = json.loads(DEBIAN_COPY.read_text())
        return schema
    folder = tmp_path_factory.mktemp("compose-schema")
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(folder), "docker-compose==1.29.2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    wheels = list(folder.glob("docker_compose-*.whl"))
    if fetched.returncode != 0 or not wheels:
        pytest.skip(f"no copy of the Compose schema: not {DEBIAN_COPY}, nor the PyPI wheel ({fetched.stderr[-200:]})")
    schema = json.loads(zipfile.ZipFile(wheels[0]).read(IN_WHEEL))
    return schema


def _validator(schema: dict[str, Any]) -> Any:
    # The file names draft 2019-09 by an older spelling of its address, which jsonschema no longer looks up.
    assert "draft/2019-09" in schema["$schema"]
    return jsonschema.Draft201909Validator(schema)


def test_compose_file_is_valid_against_the_compose_specification(compose_schema: dict[str, Any]) -> None:
    assert compose_schema.get("title") == "Compose Specification"
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    name = doc.pop("name", None)
    # The specification's project-name rule: lowercase letters, digits, dashes and underscores.
    assert name is None or re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name), name
    problems = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in _validator(compose_schema).iter_errors(doc)]
    assert problems == []


def test_the_schema_check_catches_a_mistake(compose_schema: dict[str, Any]) -> None:
    """A misspelt service key and a wrong type are refused, so the check above can fail."""
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    doc.pop("name", None)
    service = next(iter(doc["services"]))
    for change in ({"restart_polcy": "always"}, {"ports": "8000:8000"}):
        broken = copy.deepcopy(doc)
        broken["services"][service].update(change)
        assert list(_validator(compose_schema).iter_errors(broken)), change
