"""Push ingest: a feed owner POSTs an HSDS 3.0 JSON feed to its source.

`POST /api/v1/sources/{slug}/feed` with `Authorization: Bearer <token>`. The body is
stored before the 202 answer and processed by a worker; the answer names the queued
run. Errors are RFC 9457 problem details. No cookies or sessions: the token is all.
"""

from __future__ import annotations

import orjson
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from federation.exceptions import PushRejected
from federation.services import authenticate_push, receive_push
from frontend_api.throttling import AnonymousIpThrottle, PushTokenThrottle

JSON_TYPES = ("application/json",)
PROBLEM_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    413: "Content too large",
    415: "Unsupported media type",
}


def problem(status: int, detail: str) -> HttpResponse:
    body = {
        "type": "about:blank",
        "title": PROBLEM_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    response = HttpResponse(
        orjson.dumps(body), status=status, content_type="application/problem+json"
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="pesa-push"'
    return response


def bearer_token(request: Request) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class SourceFeedPushView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonymousIpThrottle, PushTokenThrottle]

    @extend_schema(
        operation_id="push_source_feed",
        summary="Push a feed (HSDS 3.0 JSON) to a source",
        request={"application/json": {"type": "object"}},
        responses={
            202: OpenApiResponse(description="Stored and queued; body has `run_id`."),
            401: OpenApiResponse(description="Missing, invalid or revoked token."),
            403: OpenApiResponse(description="The token belongs to another source."),
            413: OpenApiResponse(description="Body larger than PESA_PUSH_MAX_BYTES."),
            415: OpenApiResponse(description="Not application/json."),
            429: OpenApiResponse(
                description="More pushes with this token than PESA_PUSH_THROTTLE_RATE; "
                "`Retry-After` says when to try again."
            ),
        },
    )
    def post(self, request: Request, slug: str) -> HttpResponse:
        try:
            source = authenticate_push(slug=slug, token=bearer_token(request))
        except PushRejected as error:
            return problem(error.status, str(error))
        content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type not in JSON_TYPES and not content_type.endswith("+json"):
            return problem(415, "send the feed as application/json")
        limit = settings.PESA_PUSH_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > limit:
            return problem(413, f"the feed may be at most {limit} bytes")
        # Read the stream directly: request.body would stop at DATA_UPLOAD_MAX_MEMORY_SIZE.
        body = request._request.read(limit + 1)
        if len(body) > limit:
            return problem(413, f"the feed may be at most {limit} bytes")
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as error:
            return problem(400, f"the body is not JSON: {error}")
        run = receive_push(source=source, body=body, content_type=content_type)
        return HttpResponse(
            orjson.dumps({"run_id": run.pk, "status": run.outcome, "source": source.slug}),
            status=202,
            content_type="application/json",
        )
