from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import AnonRateThrottle


class AnonymousIpThrottle(AnonRateThrottle):
    """Per client IP (behind PESA_API_NUM_PROXIES proxies), rate PESA_API_THROTTLE_RATE.

    A fixed-window counter: one Redis round trip a request (INCR + EXPIRE in a pipeline)
    where DRF's sliding window reads and rewrites the client's whole history list (two
    round trips and a pickled list that grows with the rate). A client may get up to twice
    the rate across a window boundary, which is enough against abuse. Reads the setting
    per request, so it can change without a restart; a rate of None switches it off.
    """

    scope = "anon"

    def get_rate(self) -> str | None:
        return settings.PESA_API_THROTTLE_RATE

    def get_cache_key(self, request: Any, view: Any) -> str:
        # The public API authenticates nobody: every client is counted by its address.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Any, view: Any) -> bool:
        verdict = getattr(request, "pesa_throttle_verdict", None)
        if verdict is not None:  # counted once already, by ApiResponseCacheMiddleware
            self.now, self.window_ends_at, allowed = verdict
            return allowed
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        ident = self.get_cache_key(request, view)
        now = time.time()
        window = int(now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        self.now = now
        count = _count(f"{ident}:{window}", timeout=self.duration + 1)
        allowed = count <= self.num_requests
        self.verdict = (self.now, self.window_ends_at, allowed)
        return allowed

    def wait(self) -> float:
        return max(1, math.ceil(self.window_ends_at - self.now))


def _count(key: str, *, timeout: int) -> int:
    """This window's request count for `key`, after counting this one."""
    cache = caches["default"]
    redis_client = getattr(cache, "redis_client", None)
    if redis_client is not None:
        full_key = cache.make_and_validate_key(key)
        pipeline = redis_client().pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, timeout, nx=True)
        count, _ = pipeline.execute()
        return int(count)
    # Other backends (local memory in development and tests): add, then increment.
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=timeout)
        return 1
