from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)

API_PREFIX = "/api/v1/"


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
