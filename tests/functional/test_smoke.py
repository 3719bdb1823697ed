"""The app starts on each database and answers its health check."""

from fastapi.testclient import TestClient


def test_healthz_reports_database_reachable(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"  # the checks themselves: test_scaledb_health.py
