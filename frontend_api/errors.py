"""Django-level error views: problem+json under /api/, Django's own pages elsewhere.

Wire them in the root urlconf (cms/urls.py):
    handler400 = "frontend_api.errors.handler400"  # and 403, 404, 500 likewise
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, ResolverMatch, resolve
from django.views import defaults

from frontend_api.problems import problem_response

API_PATH_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIX)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return problem_response(400, detail="The request could not be understood.")
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return problem_response(403)
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return problem_response(
            404, detail="No API resource at this address. See /api/v1/docs/.", path=request.path
        )
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        # Deliberately says nothing about the failure; it is in the server log.
        return problem_response(500, detail="Something went wrong on our side.")
    return defaults.server_error(request)


def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every address under /api/ that no API route takes: a 404 problem for any method.

    Routed last under /api/ so such paths never reach the site's page tree (and its
    trailing-slash redirects); a path that is an API route once a slash is added is still
    redirected there, as CommonMiddleware would.
    """
    path = request.path_info
    if settings.APPEND_SLASH and not path.endswith("/"):
        match = _resolve(path + "/")
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return handler404(request)


def _resolve(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None
