"""OpenAPI for the public views: the `lang` parameter and problem+json error responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from frontend_api.language import LANG_PARAM, supported_languages

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
        "allowed_parameters": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["type", "title", "status"],
}
PROBLEM_STATUSES = {"400": "Invalid request", "404": "Not found", "429": "Too many requests"}


class PesaAutoSchema(AutoSchema):
    def get_override_parameters(self) -> list[Any]:
        return [
            *super().get_override_parameters(),
            OpenApiParameter(
                LANG_PARAM,
                str,
                enum=supported_languages(),
                description="Response language; otherwise Accept-Language, then fallbacks.",
            ),
        ]

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        # Whatever a view declares for an error, the body is a problem (problems.py).
        for status, response in responses.items():
            if str(status)[:1] in ("4", "5") and isinstance(response, dict):
                response["content"] = {"application/problem+json": {"schema": PROBLEM_SCHEMA}}
        for status, description in PROBLEM_STATUSES.items():
            responses.setdefault(
                status,
                {
                    "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
                    "description": description,
                },
            )
        return responses


def public_api_only(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular preprocessing hook: the schema describes /api/v1/ only, not admin APIs."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
