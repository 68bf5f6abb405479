"""The response cache: rendered bytes in the Django cache (Redis), zero SQL on a hit.

A key is the full path (query parameters sorted) + the negotiated language; each entry
carries the content generation it was rendered under. `bump_content_generation()`
retires every cached response at once (an entry of an older generation is a miss);
publishing, unpublishing and each sync that changed something call it. A lookup reads
the generation and the entry in one round trip (`get_many`, one MGET on Redis).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import set_response_etag

GENERATION_KEY = "pesa:api:content-generation"
KEY_PREFIX = "pesa:api:response"
# Headers a cached response must replay besides its body.
CACHED_HEADERS = ("Content-Type", "Content-Language", "Pesa-Language-Fallback", "ETag")


def content_generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # Start from the clock, not 1: if the key is evicted or Redis restarts, old
        # entries (keyed by an older generation) must not come back to life.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        generation = cache.get(GENERATION_KEY)
    return int(generation)


def bump_content_generation() -> int:
    """Invalidates every cached API response, in O(1). Safe to call from any process."""
    content_generation()
    try:
        return cache.incr(GENERATION_KEY)
    except ValueError:  # evicted between the two calls
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        return content_generation()


def response_cache_key(request: HttpRequest, *, lang: str) -> str:
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    raw = f"{request.path}?{query}|{lang}".encode()
    return f"{KEY_PREFIX}:{hashlib.sha256(raw).hexdigest()}"


def lookup(key: str) -> tuple[HttpResponse | None, int]:
    """The cached response for `key` if it is of the current generation, and that generation.

    The generation comes back so the response rendered after a miss is stored under the
    generation read *before* rendering: if content changes meanwhile, it is already stale.
    """
    return from_found(key, cache.get_many(lookup_keys(key)))


def lookup_keys(key: str) -> list[str]:
    """What a lookup reads: the generation and the entry (callers may batch the read)."""
    return [GENERATION_KEY, key]


def from_found(key: str, found: dict[str, Any]) -> tuple[HttpResponse | None, int]:
    """`lookup`'s answer from the values of `lookup_keys(key)` read elsewhere."""
    generation = found.get(GENERATION_KEY)
    if generation is None:
        return None, content_generation()
    entry = found.get(key)
    if entry is None or entry.get("generation") != generation:
        return None, int(generation)
    return _response(entry), int(generation)


def _response(entry: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(entry["content"], status=entry["status"])
    for name, value in entry["headers"].items():
        response[name] = value
    response["X-Cache"] = "HIT"
    return response


def store_response(key: str, response: HttpResponse, *, generation: int) -> None:
    """Stores the rendered response with its ETag (Django's: the body's MD5), so a hit is
    answered without hashing the body again."""
    if not response.has_header("ETag"):
        set_response_etag(response)
    entry: dict[str, Any] = {
        "generation": generation,
        "status": response.status_code,
        "content": response.content,
        "headers": {name: response[name] for name in CACHED_HEADERS if response.has_header(name)},
    }
    cache.set(key, entry, timeout=settings.PESA_API_RESPONSE_CACHE_TIMEOUT)
