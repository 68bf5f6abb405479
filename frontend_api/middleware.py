from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)

from cms.cache import count_and_get_many
from frontend_api import caching
from frontend_api.language import UnsupportedLanguage, negotiate_language
from frontend_api.problems import PROBLEM_CONTENT_TYPE, problem_response
from frontend_api.throttling import AnonymousIpThrottle

API_PREFIX = "/api/v1/"
API_ROOT = "/api/"
# What a problem says for a status no view described (the body never leaks the error).
PROBLEM_DETAILS = {
    404: "No API resource at this address. See /api/v1/docs/.",
    405: "This method is not allowed here.",
    500: "Something went wrong on our side.",
}


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


class ApiProblemMiddleware:
    """Every error under /api/ is problem+json, whoever answered it and in DEBUG too.

    DRF views and the error handlers (frontend_api/errors.py) answer problems already;
    this catches the rest: Django's DEBUG pages (technical 404 and 500), a 400 for a
    disallowed Host, anything a middleware answers before a view runs. Outermost, so a
    500 raised anywhere below is seen here as the response Django made of it.
    """

    KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith(API_ROOT):
            return response
        content_type = response.get("Content-Type", "").split(";", 1)[0].strip()
        renderer = getattr(response, "accepted_renderer", None)
        rendered_as_json = renderer is None or getattr(renderer, "format", "json") == "json"
        if content_type in (PROBLEM_CONTENT_TYPE, "application/json") and rendered_as_json:
            return response
        data = getattr(response, "data", None)
        if isinstance(data, dict) and data.get("status") == response.status_code:
            # A problem a view rendered in its own format (the schema view's YAML).
            problem = problem_response(**data)
        else:
            detail = PROBLEM_DETAILS.get(response.status_code)
            problem = problem_response(response.status_code, detail=detail)
        for name in self.KEPT_HEADERS:
            if response.has_header(name):
                problem[name] = response[name]
        if not problem.has_header("Cache-Control"):
            patch_cache_control(problem, no_store=True)
        return problem


class ApiEnglishMiddleware:
    """Error messages under /api/ in English, whatever Accept-Language asks for.

    Sits right after LocaleMiddleware, which activates the request's language for the
    admin and the site. The API negotiates its content language itself
    (frontend_api/language.py) and uses no Django translation but the messages of DRF and
    django-filter, which its problem documents promise in English.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_ROOT):
            return self.get_response(request)
        with translation.override("en"):
            return self.get_response(request)
