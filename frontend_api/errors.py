"""Django-level error views: problem+json under /api/, Django's own pages elsewhere.

Wire them in the root urlconf (cms/urls.py):
    handler400 = "frontend_api.errors.handler400"  # and 403, 404, 500 likewise
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
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
