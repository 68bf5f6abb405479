"""OpenAPI for the public views: the `lang` parameter and problem+json error responses."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from frontend_api.filters.content import CODE_VALUE, TOPIC_VALUE
from frontend_api.filters.services import (
    COUNTY_CODE,
    MAX_CODES,
    MAX_RADIUS_KM,
    MUNICIPALITY_CODE,
    NEAR,
    ORGANIZATION_ID,
    POSTAL_CODE,
    SERVICE_CLASS_CODE,
    TARGET_GROUP_CODE,
)
from frontend_api.language import LANG_PARAM, supported_languages
from frontend_api.parameters import (
    MAX_PAGE,
    MAX_PARAMETER_LENGTH,
    NO_CONTROL_CHARACTERS_PATTERN,
)
from frontend_api.search.query import MAX_QUERY_LENGTH

# A change-log cursor: base64url of "c1:" and 1 to 18 digits (frontend_api/views/changes.py),
# written out per 3-digit group (4 characters) and the 1- or 2-digit tail.
_GROUP = "(?:[MN][DTjz]|O[DT])[AEIMQUYcgk][wxyz0-5]"
_TAIL = "(?:[MN][AQgw]|O[AQ])|(?:[MN][DTjz]|O[DT])[AEIMQUYcgk]"
CURSOR_SCHEMA_PATTERN = f"^YzE6(?:{_GROUP}){{0,5}}(?:{_GROUP}|{_TAIL})$"

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


# What the views enforce on each query parameter, stated in the schema so that a request
# the schema allows is never refused and one it forbids is. Filters treat an empty value as
# "no filter", so their patterns admit "". Applied by `parameter_constraints` below.
_TEXT = r"[^\u0000-\u001F\u007F]"
# One character that is neither space nor control: a search term must hold one.
_VISIBLE = r"[^\s\u0000-\u001F\u007F]"


def _optional(pattern: re.Pattern[str]) -> str:
    """`pattern` (anchored with ^…$) or the empty string."""
    return f"^({pattern.pattern[1:-1]})?$"


def _code_list(pattern: re.Pattern[str]) -> str:
    code = pattern.pattern[1:-1]
    return rf"^(|{code}(,{code}){{0,{MAX_CODES - 1}}})$"


PARAMETER_CONSTRAINTS: dict[str, dict[str, Any]] = {
    "page": {"minimum": 1, "maximum": MAX_PAGE},
    "page_size": {"minimum": 1, "maximum": 100},
    "q": {
        "minLength": 1,
        "maxLength": MAX_QUERY_LENGTH,
        "pattern": rf"^{_TEXT}*{_VISIBLE}{_TEXT}*$",
    },
    "search": {"maxLength": MAX_QUERY_LENGTH},
    # Codes that must also exist (an unknown one is a 400 naming the parameter): the
    # format names the list they come from.
    "municipality": {"pattern": _optional(MUNICIPALITY_CODE), "format": "pesa-municipality"},
    "county": {"pattern": _optional(COUNTY_CODE), "format": "pesa-county"},
    "parent": {"pattern": _optional(COUNTY_CODE), "format": "pesa-county"},
    "postal_code": {"pattern": _optional(POSTAL_CODE), "format": "pesa-postal-code"},
    "organization": {"pattern": _optional(ORGANIZATION_ID)},
    "language": {"pattern": r"^([A-Za-z]{2,3})?$"},
    "audience": {"pattern": _code_list(CODE_VALUE)},
    "life_situation": {"pattern": _code_list(CODE_VALUE)},
    "service_class": {"pattern": _code_list(SERVICE_CLASS_CODE)},
    "topic": {"pattern": _optional(TOPIC_VALUE)},
    "source": {"pattern": r"^([A-Za-z0-9_-]{1,100})?$", "format": "pesa-source"},
    "near": {"pattern": _optional(NEAR)},
    "radius_km": {"minimum": 0, "exclusiveMinimum": True, "maximum": MAX_RADIUS_KM},
    "path": {"minLength": 1},
    "token": {"minLength": 1},
    "since": {"minLength": 1, "pattern": CURSOR_SCHEMA_PATTERN},
    "updated_since": {"minLength": 1},
}
# Where one operation is narrower than the others with the same parameter name.
OPERATION_CONSTRAINTS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/services/", "audience"): {"pattern": _code_list(TARGET_GROUP_CODE)},
    # ChangeEvent.Kind, comma-separated.
    ("/api/v1/changes/", "kind"): {
        "pattern": r"^(article|service|organization)(,(article|service|organization))*$"
    },
}


def parameter_constraints(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: bounds, patterns and lengths of every query
    parameter (see PARAMETER_CONSTRAINTS); every text value is at most
    MAX_PARAMETER_LENGTH characters without control characters (frontend_api/parameters.py)."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter.setdefault("schema", {})
                schema.update(PARAMETER_CONSTRAINTS.get(parameter["name"], {}))
                schema.update(OPERATION_CONSTRAINTS.get((path, parameter["name"]), {}))
                if schema.get("type") == "string" and "enum" not in schema:
                    schema.setdefault("maxLength", MAX_PARAMETER_LENGTH)
                    schema.setdefault("pattern", NO_CONTROL_CHARACTERS_PATTERN)
    return result
