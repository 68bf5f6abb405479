import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://pesa@db:5432/pesa",
    "REDIS_URL": "redis://redis:6379/0",
}


def load_production_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean_env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.DATABASES['default']['OPTIONS'])",
        ],
        cwd=ROOT,
        env={**clean_env, **env, "DJANGO_SETTINGS_MODULE": "cms.settings.production"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_production_settings_refuse_to_start_without_required_variable(missing):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}

    result = load_production_settings(env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"needs these environment variables: {missing}" in result.stderr


def test_production_settings_start_with_debug_off_and_secure_cookies():
    result = load_production_settings(PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    # Production's connections carry JIT off and the search's trigram threshold.
    assert result.stdout.strip() == (
        "False True {'options': '-c jit=off -c pg_trgm.word_similarity_threshold=0.4'}"
    )


def test_json_log_formatter_writes_one_parseable_object_per_event():
    import json
    import logging

    from cms.logging import JsonFormatter

    record = logging.makeLogRecord(
        {
            "name": "federation.sync",
            "levelname": "WARNING",
            "msg": "run %s held",
            "args": (7,),
            "source": "ptv-uusimaa",
        }
    )

    line = JsonFormatter().format(record)

    assert json.loads(line) | {"time": None} == {
        "time": None,
        "level": "WARNING",
        "logger": "federation.sync",
        "message": "run 7 held",
        "source": "ptv-uusimaa",
    }
