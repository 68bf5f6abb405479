import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.integration


def test_readyz_reaches_real_postgres_redis_cache_and_broker(client, db, broker_mode):
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
        }
    }
    with override_settings(CACHES=redis_cache, CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_readyz_names_an_unreachable_broker(client, db, broker_mode):
    from tests.integration.conftest import use_broker

    use_broker("redis://127.0.0.1:1/0")  # broker_mode points it back afterwards
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error:")
