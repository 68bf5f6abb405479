"""RFC 9457 problem details: every API error is `application/problem+json`.

`problem_response()` is for code that answers an error itself (the push endpoint,
Django-level 404/500); `exception_handler` turns every DRF exception into one.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from frontend_api.renderers import dumps

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Headers DRF's own handler sets that a problem response must keep.
_KEPT_HEADERS = ("Retry-After", "WWW-Authenticate", "Allow")


def problem_payload(
    status: int, title: str | None = None, detail: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The problem object: `type`, `title`, `status`, `detail` and any extension members."""
    payload: dict[str, Any] = {
        "type": extra.pop("type", "about:blank"),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    # Always a detail: clients show it, and RFC 9457 readers expect one on every error.
    payload["detail"] = str(detail) if detail else HTTPStatus(status).description
    payload.update(extra)
    return payload


def problem_response(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    """A finished problem+json response; works from DRF and from plain Django views alike."""
    response = HttpResponse(
        dumps(problem_payload(status, title, detail, **extra)),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class InvalidQueryParameters(exceptions.ValidationError):
    """400 for unknown or invalid query parameters.

    `extra` names what is allowed (`allowed_parameters`, `allowed_values`) and ends up
    in the problem body beside `errors`.
    """

    def __init__(self, *, detail: str, errors: dict[str, Any], **extra: Any) -> None:
        super().__init__(errors)
        self.problem_detail = detail
        self.extra = extra


def _detail_text(detail: Any) -> str | None:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and len(detail) == 1 and isinstance(detail[0], str):
        return detail[0]
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, then reshaped as a problem. Unexpected errors still propagate (→ 500)."""
    if isinstance(exc, RequestDataTooBig):
        exc = exceptions.APIException(str(exc))
        exc.status_code = 413
    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    status = response.status_code
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidQueryParameters):
        detail = exc.problem_detail
        extra["errors"] = response.data
        extra.update(exc.extra)
    elif isinstance(exc, exceptions.ValidationError):
        detail = "The request is not valid."
        extra["errors"] = response.data
    elif isinstance(response.data, dict):
        detail = _detail_text(response.data.get("detail"))
    else:
        detail = _detail_text(response.data)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after"] = int(response.headers.get("Retry-After", 0))
    if isinstance(exc, exceptions.MethodNotAllowed):
        view = context.get("view")
        extra["allowed_methods"] = list(getattr(view, "allowed_methods", []))

    problem = Response(
        problem_payload(status, None, detail, **extra),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name in _KEPT_HEADERS:
        if name in response.headers:
            problem[name] = response.headers[name]
    return problem
