import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def clear_cache():
    """Throttle counters and cached responses live in the cache: every test starts clean."""
    cache.clear()
    yield
    cache.clear()
