"""Queue adapters for the sync engine. IDs and primitives in (JSON), one service call each.

Retries: only fetch errors (`SourceUnavailable`, `FeedUnavailable`) and a push that
finds its source busy, with capped exponential backoff and jitter. Runs are
idempotent (a repeat of the same feed is a no-op), so `acks_late` redelivery is safe;
the time limits stay below the broker's visibility timeout (settings).
"""

from __future__ import annotations

from celery import shared_task

from federation.exceptions import SourceUnavailable
from federation.models import PushPayload, Source
from federation.services import enqueue_due_sources, sync_source
from importers.base import FeedUnavailable


@shared_task(
    acks_late=True,
    autoretry_for=(SourceUnavailable, FeedUnavailable),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
)
def sync_source_task(
    source_id: int, full: bool = False, trigger: str = "schedule", payload_id: int | None = None
) -> int | None:
    """Takes IDs: runs in a worker. Returns the run id."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return None
    payload = PushPayload.objects.filter(pk=payload_id).first() if payload_id else None
    return sync_source(source=source, trigger=trigger, full=full, payload=payload).pk


@shared_task(acks_late=True)
def enqueue_due_sources_task() -> list[int]:
    """Beat sends this every minute; due sources are queued after commit."""
    return enqueue_due_sources()
