"""Test settings: PostgreSQL always (base.py: DATABASE_URL's server, else the embedded one);
Redis where it answers, local memory where not.

`tests/conftest.py` reads `PESA_TEST_SERVICES` to run or skip the integration
tests, and fails the run under CI when a service is missing.
"""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES


def _redis_answers(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        return False
    return True


# ---------------------------------------------------------------------------
# Services: real ones when reachable
# ---------------------------------------------------------------------------
TEST_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PESA_TEST_SERVICES = {"redis": _redis_answers(TEST_REDIS_URL)}

DATABASES["default"]["CONN_MAX_AGE"] = 0
# One test database per pytest process, so parallel runs on one server never collide.
DATABASES["default"]["TEST"] = {
    "NAME": os.environ.get("PESA_TEST_DB_NAME", f"test_pesa_{os.getpid()}")
}

REDIS_URL = TEST_REDIS_URL if PESA_TEST_SERVICES["redis"] else ""
# Unit tests stay isolated: local-memory cache, eager Celery. Integration tests
# switch Celery to the Redis broker and start a worker (tests/integration/conftest.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", TEST_REDIS_URL.rsplit("/", 1)[0] + "/14")
CELERY_TASK_ALWAYS_EAGER = True

# ---------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}

# ---------------------------------------------------------------------------
# Federation: tests serve feeds from 127.0.0.1 and bundled files
# ---------------------------------------------------------------------------
PESA_FEED_ALLOW_PRIVATE_ADDRESSES = True
PESA_FEED_ALLOW_FILE_URLS = True

# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
# Off so one test's cached response never answers another's request; the tests of the
# response cache (tests/frontend_api/) switch it on. Throttling stays on, with room to spare.
PESA_API_RESPONSE_CACHE = False
PESA_API_THROTTLE_RATE = "100000/minute"
# Absolute URLs in bodies name the test client's default host, as a deployment names its own.
PESA_PUBLIC_BASE_URL = "http://testserver"
