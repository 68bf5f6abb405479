"""Readiness checks: can this process reach the database, the cache and the broker?"""

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from cms.celery import app as celery_app


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    cache.set("pesa:readyz", "ok", timeout=10)
    if cache.get("pesa:readyz") != "ok":
        raise RuntimeError("cache did not return the value just written")


def check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # Embedded mode: tasks run in-process, there is no broker to reach.
    with celery_app.connection_for_write() as connection_:
        connection_.ensure_connection(max_retries=1, timeout=2)


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_readiness_checks() -> dict[str, str]:
    """Runs every check; the value is "ok" or the error, so an operator sees what failed."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as error:
            results[name] = f"error: {type(error).__name__}: {error}"
        else:
            results[name] = "ok"
    return results
