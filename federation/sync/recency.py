"""Which copy of a record is newer, and from when an incremental pull asks, by the feed's clock.

Newest wins: a feed record whose own timestamp (`modified`, HSDS `last_modified`) is older
than the one stored with our copy is not applied; pushes arrive out of order and may be
replayed. Equal timestamps are applied (a feed may change content without moving its
clock), and a record or a row without a readable timestamp is applied as before.

Watermarks: the next incremental pull asks from the newest timestamp the feed itself gave,
minus `PESA_SYNC_WATERMARK_OVERLAP`, never from our own clock alone (skew, and records
committed at the feed while it was being read, would otherwise be lost for good). What the
overlap reads again is unchanged and skipped by its fingerprint or content hash.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings


def source_time(value: Any) -> datetime | None:
    """A feed timestamp (ISO 8601) as an aware datetime; naive ones are taken as UTC.
    None when there is none or it cannot be read: such a record is never "stale"."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def stale_message(incoming: Any, stored: Any) -> str | None:
    """The record issue's message when a feed record is older than our stored copy, else None."""
    new, old = source_time(incoming), source_time(stored)
    if new is None or old is None or new >= old:
        return None
    return (
        f"stale, older than stored: the feed's timestamp {incoming} is before {stored}, "
        "the one of the stored copy; not applied"
    )


def next_watermark(
    *, newest: datetime | None, undated: int, previous: str, started_at: datetime
) -> str:
    """The watermark after a successful pull: the newest timestamp among the records it
    parsed, never ahead of our own start (a feed clock ahead of ours, or a date in 2099,
    must not make the next pull skip what comes in meanwhile). With no timestamp parsed, a
    feed that gave records without any (`undated`) gets the run's start, as a feed without
    timestamps must; otherwise (nothing came, or only records skipped unparsed: stored
    copies, no newer than the previous watermark) the previous watermark is kept."""
    if newest is not None:
        return min(newest, started_at).astimezone(UTC).isoformat()
    if previous and not undated:
        return previous
    return started_at.isoformat()


def since(watermark: str) -> str | None:
    """What an incremental pull asks for: the watermark minus the overlap window."""
    if not watermark:
        return None
    moment = source_time(watermark)
    if moment is None:
        return watermark
    overlap = timedelta(seconds=settings.PESA_SYNC_WATERMARK_OVERLAP)
    return (moment - overlap).astimezone(UTC).isoformat()
