"""From a `Source` to an importer: the registry, the HTTP client and bundled files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from federation.exceptions import FeedRejected
from federation.models import Area, Source
from importers.base import FeedUnavailable, Importer
from importers.http import build_http_client

FILE_SCHEME = "file:"


def importer_formats() -> list[str]:
    from importers.registry import IMPORTERS

    return sorted(IMPORTERS)


def importer_class(format_name: str) -> type[Importer]:
    from importers.registry import get_importer

    try:
        return get_importer(format_name)
    except (KeyError, LookupError, ValueError) as error:
        raise FeedRejected(f"unknown feed format {format_name!r}") from error


def importer_options(*, source: Source) -> dict[str, Any]:
    """The source's own options plus its area scope, expanded to municipality codes."""
    options = dict(source.importer_options or {})
    scope = [str(code) for code in source.area_scope or []]
    if scope and "municipalities" not in options:
        county_level = [code for code in scope if len(code) == 2]
        municipalities = {code for code in scope if len(code) == 3}
        if county_level:
            municipalities.update(
                Area.objects.filter(
                    kind=Area.Kind.MUNICIPALITY, parent__code__in=county_level
                ).values_list("code", flat=True)
            )
        options["municipalities"] = sorted(code for code in municipalities if code)
    options.setdefault("max_seconds", settings.PESA_FEED_RUN_DEADLINE)
    return options


def build_client(*, source: Source, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The guarded client with the source's own headers (credentials stay server-side)."""
    return build_http_client(
        allow_private_addresses=settings.PESA_FEED_ALLOW_PRIVATE_ADDRESSES,
        connect_timeout=settings.PESA_FEED_CONNECT_TIMEOUT,
        read_timeout=settings.PESA_FEED_READ_TIMEOUT,
        headers={str(k): str(v) for k, v in (source.request_headers or {}).items()},
        transport=transport,
    )


def is_file_url(url: str) -> bool:
    return url.startswith(FILE_SCHEME)


def bundled_path(url: str) -> Path:
    """The file or folder a `file:` URL names, refused outside `PESA_FEED_FILE_ROOT`."""
    if not settings.PESA_FEED_ALLOW_FILE_URLS:
        raise FeedUnavailable("file: feed URLs are turned off here (PESA_FEED_ALLOW_FILE_URLS)")
    root = Path(settings.PESA_FEED_FILE_ROOT).resolve()
    relative = url[len(FILE_SCHEME) :].lstrip("/")
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.exists():
        raise FeedUnavailable(f"no bundled feed {relative!r}")
    return path


def bundled_documents(url: str) -> Iterator[bytes]:
    """A bundled file, or every .json/.csv file of a bundled folder in name order."""
    path = bundled_path(url)
    files = (
        sorted(p for p in path.iterdir() if p.suffix in {".json", ".csv"})
        if path.is_dir()
        else [path]
    )
    max_bytes = settings.PESA_FEED_MAX_BYTES
    for file in files:
        if file.stat().st_size > max_bytes:
            raise FeedUnavailable(f"bundled file {file.name} is larger than the size cap")
        yield file.read_bytes()
