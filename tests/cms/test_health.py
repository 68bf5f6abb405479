import pytest

from cms import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_services(client, monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: 1 / 0)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ok_when_every_part_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_readyz_is_503_and_names_the_failing_part(client, monkeypatch):
    def database_down() -> None:
        raise ConnectionError("connection refused")

    monkeypatch.setitem(health.READINESS_CHECKS, "database", database_down)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "error: ConnectionError: connection refused"
    assert body["checks"]["cache"] == "ok"
