"""A record's columns, from its sanitised data."""

from __future__ import annotations

from typing import Any

from django.db import models

from federation.models import SyncRun
from federation.sync.records import RECORD_MODELS


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def record_fields(
    kind: str, data: dict[str, Any], organizations: dict[str, int] | None, run: SyncRun
) -> dict[str, Any]:
    common = {
        "name": data.get("name") or {},
        "description": data.get("description") or {},
        "origin_modified": _text(data.get("modified"))[:40],
    }
    if kind == "organization":
        fields = {
            **common,
            "origin_url": "",
            "provider_kind": _text(data.get("provider_kind")),
            "business_id": _text(data.get("business_id")),
            "url": _text(data.get("url")),
            "email": _text(data.get("email")),
            "phone": _text(data.get("phone")),
            "municipality_code": _text(data.get("municipality_code")),
            "parent_origin_id": _text(data.get("parent_origin_id")),
        }
    elif kind == "service":
        org_origin = _text(data.get("organization_origin_id"))
        fields = {
            **common,
            "origin_url": _text(data.get("url")),
            "summary": data.get("summary") or {},
            "organization_origin_id": org_origin,
            "organization_id": (organizations or {}).get(org_origin),
            "languages": list(data.get("languages") or []),
            "target_groups": list(data.get("target_groups") or []),
            "life_events": list(data.get("life_events") or []),
            "service_classes": list(data.get("service_classes") or []),
            "nationwide": bool(data.get("nationwide")),
            "municipality_codes": list(data.get("municipality_codes") or []),
            "county_codes": list(data.get("county_codes") or []),
            "channel_origin_ids": [str(x) for x in data.get("channel_origin_ids") or []],
        }
    else:
        org_origin = _text(data.get("organization_origin_id"))
        addresses = list(data.get("addresses") or [])
        first_code = next(
            (a.get("municipality_code") for a in addresses if a.get("municipality_code")), ""
        )
        point = next(
            ((a["latitude"], a["longitude"]) for a in addresses
             if a.get("latitude") is not None and a.get("longitude") is not None),
            (None, None),
        )  # fmt: skip
        fields = {
            **common,
            "origin_url": _text(data.get("url")),
            "kind": _text(data.get("kind")),
            "organization_origin_id": org_origin,
            "organization_id": (organizations or {}).get(org_origin),
            "service_origin_ids": [str(x) for x in data.get("service_origin_ids") or []],
            "phones": list(data.get("phones") or []),
            "emails": list(data.get("emails") or []),
            "urls": list(data.get("urls") or []),
            "addresses": addresses,
            "opening_hours": list(data.get("opening_hours") or []),
            "languages": list(data.get("languages") or []),
            "accessibility": data.get("accessibility") or {},
            "municipality_code": _text(first_code),
            "latitude": point[0],
            "longitude": point[1],
        }
    return _fit(RECORD_MODELS[kind], fields)


def _fit(model: type[models.Model], fields: dict[str, Any]) -> dict[str, Any]:
    """Text longer than its column is cut, so one odd value cannot fail the whole run."""
    for name, value in fields.items():
        if isinstance(value, str):
            max_length = model._meta.get_field(name).max_length
            if max_length and len(value) > max_length:
                fields[name] = value[:max_length]
    return fields


def rewritten_fields(model: type[models.Model]) -> list[str]:
    skip = {"id", "source", "origin_id", "first_seen_at"}
    return [f.name for f in model._meta.concrete_fields if f.name not in skip and not f.primary_key]
