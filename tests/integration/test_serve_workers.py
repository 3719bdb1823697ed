"""``alscare serve --workers 2`` as a clinic runs it: a subprocess on a free loopback port that answers
/healthz, then stops on SIGTERM within a bounded time. Also the operator-facing edges of the CLI: a bad
setting is one line (no traceback, exit 2), ``.env`` is read with the environment winning, and a first start
on an empty database says what to do next."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from alscare.dotenv import DotenvError, load_dotenv, parse_dotenv

ALSCARE = [sys.executable, "-c", "from alscare.cli import main; main()"]
_UNSET = (
    "ALSCARE_DATABASE_URL",
    "ALSCARE_COOKIE_SECURE",
    "ALSCARE_SMTP_HOST",
    "ALSCARE_OUTBOX_DIR",
    "ALSCARE_BASE_URL",
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    # No `alscare worker` runs beside these servers: /healthz leaves the worker's heartbeat out.
    env.update(
        {
            "ALSCARE_DATA_DIR": str(tmp_path / "data"),
            "ALSCARE_SECRET_KEY": "k" * 48,
            "ALSCARE_WORKER_STALE_SECONDS": "0",
            **extra,
        }
    )
    return env


def test_serve_with_two_workers_answers_and_stops(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*ALSCARE, "serve", "--workers", "2", "--port", str(port)],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status is None:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    status = response.status
            except OSError:
                time.sleep(0.25)
        assert status == 200, log.read_text(errors="replace")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    text = log.read_text(errors="replace")
    # Two worker processes were started by uvicorn's supervisor, and no delivery thread in them.
    assert text.count("Started server process") == 2, text
    assert "run `alscare worker` as its own process" in text
    # The first start on an empty database tells the operator what to do next.
    assert "alscare clinic create" in text


def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [*ALSCARE, "migrate-db"],
        cwd=tmp_path,
        env=_env(tmp_path, ALSCARE_SECRET_KEY="short"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "ALSCARE_SECRET_KEY" in lines[0] and ".env.example" in lines[0]
    assert "Traceback" not in done.stderr


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# settings\nALSCARE_SESSION_HOURS=nope\nexport ALSCARE_LOCALE='en-US'\n\nALSCARE_SECRET_KEY=\""
        + "e" * 40
        + '"\n'
    )
    env = _env(tmp_path)
    del env["ALSCARE_SECRET_KEY"]
    done = subprocess.run([*ALSCARE, "migrate-db"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    # The .env file was read: its bad session hours are reported by name.
    assert done.returncode == 2
    assert "ALSCARE_SESSION_HOURS" in done.stderr
    env["ALSCARE_SESSION_HOURS"] = "8"  # the environment wins over .env
    done = subprocess.run([*ALSCARE, "migrate-db"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_dotenv_parser() -> None:
    assert parse_dotenv("A=1\n# c\n\nexport B = two words \nC='x # y'\nD=z # note\nE=\n") == {
        "A": "1",
        "B": "two words",
        "C": "x # y",
        "D": "z",
        "E": "",
    }
    with pytest.raises(DotenvError, match="line 2"):
        parse_dotenv("A=1\nnot a setting\n")
    env = {"A": "kept"}
    assert load_dotenv(Path("/nonexistent/.env"), env) == []
    assert env == {"A": "kept"}
