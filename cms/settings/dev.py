"""Local development and `make demo`: debug on; the embedded PostgreSQL and eager Celery
unless told otherwise (base.py)."""

from .base import *  # noqa: F403

# ---------------------------------------------------------------------------
# Debugging
# ---------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)  # noqa: F405
ALLOWED_HOSTS = ["*"]

# ---------------------------------------------------------------------------
# Federation: local feeds and the bundled demo samples
# ---------------------------------------------------------------------------
PESA_FEED_ALLOW_PRIVATE_ADDRESSES = True
PESA_FEED_ALLOW_FILE_URLS = True
