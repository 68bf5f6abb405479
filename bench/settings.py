"""Settings for the benchmarks (`make bench`): production-like, on the bench's own database.

PostgreSQL database `pesa_bench` (created and dropped by `bench.run`, never the dev or a
test database), Redis cache in its own logical database, DEBUG off, eager Celery. The
baselines (Wagtail API v2, a plain DRF viewset, a Django "hello") are mounted here only,
by `bench.urls`.
"""

import os

BENCH_DB_NAME = os.environ.get("PESA_BENCH_DB", "pesa_bench")
BENCH_PG = {
    "host": os.environ.get("PESA_BENCH_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("PESA_BENCH_PG_PORT", "5432")),
    "user": os.environ.get("PESA_BENCH_PG_USER", "postgres"),
}
# Named before base.py runs, which would otherwise start the embedded PostgreSQL.
os.environ.setdefault(
    "DATABASE_URL",
    f"postgres://{BENCH_PG['user']}@{BENCH_PG['host']}:{BENCH_PG['port']}/{BENCH_DB_NAME}",
)

from cms.settings.base import *  # noqa: E402, F403
from cms.settings.base import (  # noqa: E402
    BASE_DIR,
    INSTALLED_APPS,
    POSTGRES_OPTIONS,
    REST_FRAMEWORK,
)

# Redis logical database 12: the tests use 0 and 14, so flushing it never touches theirs.
BENCH_REDIS_URL = os.environ.get("PESA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

# ---------------------------------------------------------------------------
# Core: production-like
# ---------------------------------------------------------------------------
DEBUG = False
SECRET_KEY = "bench-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "wagtail.api.v2", "bench.baselines"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": BENCH_DB_NAME,
        "USER": BENCH_PG["user"],
        "HOST": BENCH_PG["host"],
        "PORT": BENCH_PG["port"],
        # As production.py: persistent connections with health checks.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": dict(POSTGRES_OPTIONS),
    }
}
REDIS_URL = BENCH_REDIS_URL
CACHES = {
    "default": {
        "BACKEND": "cms.cache.PesaRedisCache",
        "LOCATION": BENCH_REDIS_URL,
        "KEY_PREFIX": "pesa",
        "TIMEOUT": 300,
    }
}

# ---------------------------------------------------------------------------
# Celery: tasks run in the process that queues them
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True

# ---------------------------------------------------------------------------
# Public API: production defaults, with the client IP taken from X-Forwarded-For so the
# load generator can spread its requests over many clients (as a CDN's would be) and the
# per-IP throttle stays on the measured path without refusing the load.
# ---------------------------------------------------------------------------
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": 1}
PESA_API_RESPONSE_CACHE = os.environ.get("PESA_API_RESPONSE_CACHE", "true").lower() == "true"

# ---------------------------------------------------------------------------
# Federation: generated feeds come through a mock transport or bundled files
# ---------------------------------------------------------------------------
PESA_FEED_ALLOW_FILE_URLS = True
PESA_FEED_FILE_ROOT = BASE_DIR / "var" / "bench" / "feeds"
PESA_FEED_RUN_DEADLINE = 3600

# ---------------------------------------------------------------------------
# Wagtail's own search index (the admin's page search) is not on any measured path: the
# bench loads its article set without updating it (it cost ~60 % of the load's time).
# The public API's search index (frontend_api.search) is built as usual.
# ---------------------------------------------------------------------------
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}
}

# ---------------------------------------------------------------------------
# Quiet: one line per sync run would drown the table
# ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
MEDIA_ROOT = BASE_DIR / "var" / "bench" / "media"
