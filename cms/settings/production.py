"""Production: refuses to start without the secrets and services it depends on."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

# ---------------------------------------------------------------------------
# Required environment: checked before base.py, which would otherwise start an
# embedded PostgreSQL for a missing DATABASE_URL (cms/database.py).
# ---------------------------------------------------------------------------
_ENV_FILE = Path(__file__).resolve().parents[2] / ".env"
if _ENV_FILE.exists():
    environ.Env.read_env(_ENV_FILE)
_missing = [
    name for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if not os.environ.get(name)
]
if _missing:
    raise ImproperlyConfigured(
        "cms.settings.production needs these environment variables: "
        + ", ".join(_missing)
        + ". See .env.example."
    )

from .base import *  # noqa: E402, F403
from .base import LOGGING, env  # noqa: E402

SECRET_KEY = env.str("SECRET_KEY")
REDIS_URL = env.str("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "cms.cache.PesaRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "pesa",
        "TIMEOUT": 300,
    }
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False

# ---------------------------------------------------------------------------
# Security
# ---------------------------------------------------------------------------
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

# ---------------------------------------------------------------------------
# Static files and logs
# ---------------------------------------------------------------------------
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
LOGGING["handlers"]["stdout"]["formatter"] = "json"
