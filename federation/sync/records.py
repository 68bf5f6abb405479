"""What a record is to the sync: its kinds and models, its origin id, its sanitised data and
content hash. Shared by the run and the parsing pool's workers."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson
from django.db import models

from federation.models import Channel, Organization, Service
from importers.cleaning import clean_html

RECORD_MODELS: dict[str, type[models.Model]] = {
    "organization": Organization,
    "service": Service,
    "channel": Channel,
}
# Order of writes: organisations first, so services and channels can point at them.
KINDS = ("organization", "channel", "service")

# What `sanitized` looks for in the HTML fields.
_UNSAFE_HTML = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|input|svg|math)\b|\son\w+\s*=|javascript:",
    re.IGNORECASE,
)
_HTML_FIELDS = ("description",)


def sanitized(data: dict[str, Any], *, issue: Any) -> dict[str, Any]:
    """Defensive repairs the importers should already have made: cheap checks first."""
    if b"\\u0000" in orjson.dumps(data):
        data = _without_nul(data)
        issue("", "NUL bytes removed")
    for name in _HTML_FIELDS:
        texts = data.get(name)
        if isinstance(texts, dict):
            for language, value in list(texts.items()):
                if isinstance(value, str) and _UNSAFE_HTML.search(value):
                    data = {**data, name: {**data[name], language: clean_html(value) or ""}}
                    issue(f"{name}.{language}", "unsafe HTML removed")
    for name in ("url",):
        if data.get(name) and not is_web_url(data[name]):
            issue(name, f"URL {str(data[name])[:80]!r} is not http(s); dropped")
            data = {**data, name: None}
    if isinstance(data.get("urls"), list):
        kept = [
            entry
            for entry in data["urls"]
            if isinstance(entry, dict) and is_web_url(entry.get("url"))
        ]
        if len(kept) != len(data["urls"]):
            issue("urls", "URLs that are not http(s) dropped")
            data = {**data, "urls": kept}
    return data


def is_web_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    lowered = value.strip().lower()
    return lowered.startswith(("http://", "https://")) and len(lowered) > len("https://")


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def origin_id(value: Any) -> str:
    return str(value).replace("\x00", "").strip()


def content_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
