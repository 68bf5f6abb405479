from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)

from cms.cache import count_and_get_many
from frontend_api import caching
from frontend_api.language import UnsupportedLanguage, negotiate_language
from frontend_api.throttling import AnonymousIpThrottle

API_PREFIX = "/api/v1/"


class ApiResponseCacheMiddleware:
    """Answers a cached API read before sessions, auth, URL resolution and DRF run.

    A cached entry exists only for a request a view answered 200 (strict parameters passed,
    the view caches), keyed by path, sorted query and negotiated language, so a hit needs
    none of the view's work. The request is still counted by the throttle (once: the view
    reuses the verdict), and a throttled or missed request goes on down the stack as
    before, carrying the key and generation so the view does not look them up again.
    Sits after CORS and inside `ApiHttpCachingMiddleware` (ETag, 304, Cache-Control).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.PESA_API_RESPONSE_CACHE
            and request.method in ("GET", "HEAD")
            and request.path.startswith(API_PREFIX)
        ):
            hit = self._cached(request)
            if hit is not None:
                return hit
        return self.get_response(request)

    def _cached(self, request: HttpRequest) -> HttpResponse | None:
        try:
            lang = negotiate_language(request).requested
        except UnsupportedLanguage:
            return None  # the view answers the 400
        key = caching.response_cache_key(request, lang=lang)
        throttle = AnonymousIpThrottle()
        counter = throttle.window(request)
        if counter is None:
            response, generation = caching.lookup(key)
        else:  # count the request and read the cache in one round trip
            count, found = count_and_get_many(caches["default"], *counter, caching.lookup_keys(key))
            allowed = throttle.decide(count)
            request.pesa_throttle_verdict = throttle.verdict
            if not allowed:
                return None  # the view answers the 429
            response, generation = caching.from_found(key, found)
        request.pesa_cache_lookup = (key, generation)
        return response


class ApiHttpCachingMiddleware:
    """HTTP caching for every read under /api/v1/: ETag, 304, Cache-Control and Vary.

    A 200 to GET/HEAD gets `Cache-Control: public, max-age=PESA_API_CACHE_MAX_AGE` unless
    the view set its own (preview sets `private, no-store`); errors get `no-store`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX):
            return response
        patch_vary_headers(response, ("Accept-Language",))
        if request.method not in ("GET", "HEAD"):
            return response
        if response.status_code != 200:
            if not response.has_header("Cache-Control"):
                patch_cache_control(response, no_store=True)
            return response
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, public=True, max_age=settings.PESA_API_CACHE_MAX_AGE)
        if response.streaming:
            return response
        if not response.has_header("ETag"):
            set_response_etag(response)
        return get_conditional_response(request, etag=response["ETag"], response=response)
