from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from cms.cache import count_and_get_many


class AnonymousIpThrottle(AnonRateThrottle):
    """Per client IP (behind PESA_API_NUM_PROXIES proxies), rate PESA_API_THROTTLE_RATE.

    A fixed-window counter: one Redis round trip a request (INCR + EXPIRE in a pipeline,
    shared with the response-cache read in `ApiResponseCacheMiddleware`) where DRF's
    sliding window reads and rewrites the client's whole history list. A client may get up
    to twice the rate across a window boundary, which is enough against abuse. Reads the
    setting per request, so it can change without a restart; a rate of None switches it off.
    """

    scope = "anon"

    def get_rate(self) -> str | None:
        return settings.PESA_API_THROTTLE_RATE

    def get_cache_key(self, request: Any, view: Any) -> str:
        # The public API authenticates nobody: every client is counted by its address.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def window(self, request: Any) -> tuple[str, int] | None:
        """This request's counter key and its lifetime, or None when throttling is off."""
        self.rate = self.get_rate()
        if self.rate is None:
            return None
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.now = time.time()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        return f"{self.get_cache_key(request, None)}:{window}", self.duration + 1

    def decide(self, count: int) -> bool:
        """Whether the request that made the window's count `count` may pass."""
        allowed = count <= self.num_requests
        self.verdict = (self.now, self.window_ends_at, allowed)
        return allowed

    def allow_request(self, request: Any, view: Any) -> bool:
        verdict = getattr(request, "pesa_throttle_verdict", None)
        if verdict is not None:  # counted once already, by ApiResponseCacheMiddleware
            self.now, self.window_ends_at, allowed = verdict
            return allowed
        counter = self.window(request)
        if counter is None:
            return True
        count, _ = count_and_get_many(caches["default"], *counter, [])
        return self.decide(count)

    def wait(self) -> float:
        return max(1, math.ceil(self.window_ends_at - self.now))


class PushTokenThrottle(SimpleRateThrottle):
    """Per push token, rate PESA_PUSH_THROTTLE_RATE: a burst of pushes gets 429 + Retry-After.

    Keyed on a hash of the bearer token (never the token itself); a request without one is
    left to the per-address throttle and answered 401 by the view. A rate of None turns it off.
    """

    scope = "push"

    def get_rate(self) -> str | None:
        return settings.PESA_PUSH_THROTTLE_RATE

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        ident = hashlib.sha256(token.strip().encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}
