"""Local development and `make demo`: debug on, SQLite and eager Celery unless told otherwise."""

from .base import *  # noqa: F403

# ---------------------------------------------------------------------------
# Debugging
# ---------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)  # noqa: F405
ALLOWED_HOSTS = ["*"]
