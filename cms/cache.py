"""Redis cache backend that keeps one client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` object on every cache call
(about 0.1–0.2 ms on this kind of machine), which is most of a cached API answer's own
cost. A `redis.Redis` over a pool is thread-safe and the pool reconnects after a fork, so
one per pool is enough.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class PesaRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient

    def redis_client(self) -> Any:
        """The raw client (tests clean up their keys with it)."""
        return self._cache.get_client(write=True)

    def count_and_get_many(self, counter: str, timeout: int, keys: list[str]) -> tuple[int, dict]:
        counter_key = self.make_and_validate_key(counter)
        full_keys = {self.make_and_validate_key(key): key for key in keys}
        pipeline = self.redis_client().pipeline(transaction=False)
        pipeline.incr(counter_key)
        pipeline.expire(counter_key, timeout, nx=True)
        if full_keys:
            pipeline.mget(list(full_keys))
        count, _expiry, *rest = pipeline.execute()
        loads = self._cache._serializer.loads
        values = rest[0] if rest else []
        found = {
            key: loads(value)
            for key, value in zip(full_keys.values(), values, strict=True)
            if value is not None
        }
        return int(count), found


def count_and_get_many(cache: Any, counter: str, timeout: int, keys: list[str]) -> tuple[int, dict]:
    """Counts one hit on `counter` (which expires `timeout` s after its first hit) and reads
    `keys`: one Redis round trip on `PesaRedisCache`, a few calls on other backends.

    The public API does both on every request (the throttle and the response cache).
    """
    if isinstance(cache, PesaRedisCache):
        return cache.count_and_get_many(counter, timeout, keys)
    if cache.add(counter, 1, timeout=timeout):
        count = 1
    else:
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between the two calls
            cache.add(counter, 1, timeout=timeout)
            count = 1
    return count, cache.get_many(keys) if keys else {}
