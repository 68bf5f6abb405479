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
        for status, description in PROBLEM_STATUSES.items():
            responses.setdefault(
                status,
                {
                    "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
                    "description": description,
                },
            )
        return responses
