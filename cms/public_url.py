"""Absolute URLs of this site, from one configured base (`PESA_PUBLIC_BASE_URL`).

Never from the request: `Host` and `X-Forwarded-*` are whatever the client sends, and a
body built from them would be cached (response cache, CDN) and served to everyone.
"""

from __future__ import annotations

from urllib.parse import urljoin

from django.conf import settings


def public_base_url() -> str:
    """The configured base, without a trailing slash (e.g. `https://pesa.example.fi`)."""
    return settings.PESA_PUBLIC_BASE_URL.rstrip("/")


def public_url(location: str) -> str:
    """`location` (an absolute path such as `/api/v1/articles/?page=2`, or a URL that is
    already absolute, e.g. a media file on a CDN) as an absolute URL."""
    return urljoin(public_base_url() + "/", location)


def public_request_url(request: object) -> str:
    """The request's own path and query under the public base (what
    `request.build_absolute_uri()` would give, minus the client-chosen host and scheme)."""
    return public_url(request.get_full_path())  # type: ignore[attr-defined]
