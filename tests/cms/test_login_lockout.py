"""Brute force on the admin login, under the production settings module.

`cms.settings.production` refuses to load without its environment, so the fixture gives it
one and applies every setting it decides, except the services the test run provides
(database, cache, broker, static storage, logging).
"""

import importlib.util
import sys

import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.django_db

TEST_RUN_OWNS = {"DATABASES", "CACHES", "STORAGES", "LOGGING", "REDIS_URL"}
LOGIN = "/admin/login/"
PASSWORD = "the-right-password-9"


def production_module(monkeypatch, **environment):
    monkeypatch.setenv("SECRET_KEY", "production-test-secret-key-long-enough-0123456789")
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unused")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("ALLOWED_HOSTS", "testserver")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # Both modules run afresh, so base.py reads this environment too.
    monkeypatch.setitem(sys.modules, "cms.settings.base", fresh_module("cms.settings.base"))
    return fresh_module("cms.settings.production")


def fresh_module(name):
    spec = importlib.util.find_spec(name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def production_settings(monkeypatch, **environment):
    module = production_module(monkeypatch, **environment)
    differing = {
        name: getattr(module, name)
        for name in dir(module)
        if name.isupper()
        and name not in TEST_RUN_OWNS
        and not name.startswith("CELERY_")
        and getattr(settings, name, object()) != getattr(module, name)
    }
    return override_settings(**differing)


@pytest.fixture
def production(monkeypatch):
    with production_settings(monkeypatch):
        yield


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser("editor", "editor@pesa.fi", PASSWORD)


def log_in(client, password, **headers):
    return client.post(
        LOGIN,
        {"username": "editor", "password": password},
        secure=True,
        REMOTE_ADDR=headers.pop("remote_addr", "198.51.100.7"),
        **headers,
    )


def is_logged_in(client):
    return client.get("/admin/", secure=True).status_code == 200


def test_production_settings_refuse_to_start_without_their_environment(monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.find_spec("cms.settings.production")

    with pytest.raises(Exception, match="SECRET_KEY, DATABASE_URL, REDIS_URL"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_right_password_works_before_any_failure(production, editor, client):
    response = log_in(client, PASSWORD)

    assert response.status_code == 302
    assert is_logged_in(client)


def test_fifty_wrong_passwords_then_the_right_one_stays_locked_out(production, editor, client):
    answers = [log_in(client, f"wrong-{attempt}").status_code for attempt in range(50)]

    response = log_in(client, PASSWORD)

    assert answers[:4] == [200] * 4  # the form again, with its error
    assert set(answers[4:]) == {429}  # the fifth failure locks
    assert response.status_code == 429
    assert not is_logged_in(client)


def test_lockout_answer_is_a_clear_page_not_a_server_error(production, editor, client):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"wrong-{attempt}")

    response = log_in(client, PASSWORD)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "Too many failed login attempts" in response.content.decode()


def test_lockout_is_for_the_username_from_that_address_only(production, editor, client):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"wrong-{attempt}", remote_addr="203.0.113.66")

    response = log_in(client, PASSWORD, remote_addr="198.51.100.7")

    assert response.status_code == 302
    assert is_logged_in(client)


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(production, editor, client):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"wrong-{attempt}", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")

    response = log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200")

    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_locked_not_the_proxy(
    monkeypatch, editor, client
):
    with production_settings(monkeypatch, PESA_API_NUM_PROXIES="1"):
        for attempt in range(settings.AXES_FAILURE_LIMIT):
            log_in(
                client,
                f"wrong-{attempt}",
                remote_addr="10.0.0.2",
                HTTP_X_FORWARDED_FOR="203.0.113.9",
            )
        locked = log_in(
            client, PASSWORD, remote_addr="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9"
        )
        other_client = log_in(
            client, PASSWORD, remote_addr="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.10"
        )

    assert locked.status_code == 429
    assert other_client.status_code == 302


def test_the_lock_lifts_after_the_cool_off(production, editor, client):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"wrong-{attempt}")

    with override_settings(AXES_COOLOFF_TIME=lambda request: __import__("datetime").timedelta(0)):
        response = log_in(client, PASSWORD)

    assert response.status_code == 302
