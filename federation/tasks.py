"""Queue adapters for the sync engine. IDs and primitives in (JSON), one service call each.

Retries: fetch errors (`SourceUnavailable`, `FeedUnavailable`) with capped exponential
backoff and jitter. A push that finds its source busy retries at a steady pace for longer
than the longest run plus the lease timeout, so a dead run's lease lapses (or is swept)
before it gives up. Runs are idempotent and a payload is applied once, so `acks_late`
redelivery is safe: a task whose worker child dies is requeued at once
(`reject_on_worker_lost`) and takes over its dead attempt's lease. The time limits stay
below the broker's visibility timeout (settings).
"""

from __future__ import annotations

import math

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from federation.exceptions import SourceBusy, SourceUnavailable
from federation.models import PushPayload, Source, SyncRun
from federation.services import enqueue_due_sources
from federation.sync import sync_source
from federation.sync.lifecycle import fail_stale_runs
from importers.base import FeedUnavailable

# Seconds between two tries of a push whose source is busy.
BUSY_RETRY_EVERY = 30


def busy_retries() -> int:
    """Enough tries to outlast the longest run (its time limit) and a lapsing lease."""
    window = settings.CELERY_TASK_TIME_LIMIT + 2 * settings.PESA_SYNC_HEARTBEAT_TIMEOUT
    return math.ceil(window / BUSY_RETRY_EVERY)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(SourceUnavailable, FeedUnavailable),
    dont_autoretry_for=(SourceBusy,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
)
def sync_source_task(
    self,
    source_id: int,
    full: bool = False,
    trigger: str = "schedule",
    payload_id: int | None = None,
) -> int | None:
    """Takes IDs: runs in a worker. Returns the run id."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return None
    payload = PushPayload.objects.filter(pk=payload_id).first() if payload_id else None
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    try:
        return sync_source(
            source=source, trigger=trigger, full=full, payload=payload, redelivered=redelivered
        ).pk
    except SourceBusy as busy:
        # Eager (demo: one process) a retry would run at once, in this very call stack.
        if self.request.is_eager or self.request.retries >= busy_retries():
            SyncRun.objects.filter(pk=busy.run.pk, outcome=SyncRun.Outcome.QUEUED).update(
                outcome=SyncRun.Outcome.FAILED,
                finished_at=timezone.now(),
                message=f"source busy for {busy_retries() * BUSY_RETRY_EVERY} s: push not applied",
            )
            raise
        raise self.retry(exc=busy, countdown=BUSY_RETRY_EVERY, max_retries=busy_retries()) from busy


@shared_task(acks_late=True)
def enqueue_due_sources_task() -> list[int]:
    """Beat sends this every minute; due sources are queued after commit."""
    return enqueue_due_sources()


@shared_task(acks_late=True)
def fail_stale_runs_task() -> list[int]:
    """Beat sends this every 30 s: runs whose worker died are failed, their sources freed."""
    return fail_stale_runs()
