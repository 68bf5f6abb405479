"""Run lifecycle: a run is queued, takes its source's lease, finishes (or is found
interrupted), and a successful pull advances the source's watermark.

A run is alive while it holds its source's lease (locks.py). A "running" run without it
died with its worker: `fail_stale_runs` (beat, every 30 s) and the next run of the
source mark it failed, so no source stays stuck for longer than the lease timeout plus
one sweep. A push payload is applied exactly once: its one run is reused by a
redelivered task, and a payload whose run has finished is never applied again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from federation.models import PushPayload, RecordIssue, Source, SyncRun
from federation.sync import recency
from federation.sync.locks import SourceLock, source_lock

if TYPE_CHECKING:
    from federation.sync.reading import FeedRead

logger = logging.getLogger(__name__)

INTERRUPTED = "interrupted: worker lost before the run finished; nothing of it was applied"
# A payload's run in one of these states has done its work: a redelivery must not redo it.
DONE = (SyncRun.Outcome.SUCCEEDED, SyncRun.Outcome.HELD, SyncRun.Outcome.SKIPPED)


def is_interrupted(run: SyncRun) -> bool:
    return run.outcome == SyncRun.Outcome.FAILED and run.message.startswith("interrupted")


def payload_done(run: SyncRun) -> bool:
    """True when the payload of `run` was already applied (or judged) by a finished run:
    only a queued, still running (dead) or interrupted run of a payload may run again."""
    if run.payload_id is None:
        return False
    if run.payload is not None and run.payload.processed_at is not None:
        return True
    return run.outcome in DONE or (
        run.outcome == SyncRun.Outcome.FAILED and not is_interrupted(run)
    )


def acquire(*, lock: SourceLock, run: SyncRun, redelivered: bool) -> bool:
    """Takes the source's lease for `run`. A redelivered task whose earlier attempt still
    holds it takes it over at once: Celery redelivers only once that attempt's worker is
    gone (`task_reject_on_worker_lost`, or the visibility timeout past the time limit)."""
    if lock.acquire():
        return True
    if redelivered and run.outcome == SyncRun.Outcome.RUNNING and lock.take_over():
        logger.warning("sync run %s: redelivered; took over the dead attempt's lease", run.pk)
        return True
    return False


def fail_interrupted_runs(*, source_id: int, current: SyncRun) -> int:
    """The caller holds the lease: any other "running" run of the source is dead."""
    return (
        SyncRun.objects.filter(source_id=source_id, outcome=SyncRun.Outcome.RUNNING)
        .exclude(pk=current.pk)
        .update(outcome=SyncRun.Outcome.FAILED, finished_at=timezone.now(), message=INTERRUPTED)
    )


def fail_stale_runs() -> list[int]:
    """Fails every "running" run that no longer holds its source's lease (its worker died
    and the lease lapsed). The source is then free for the next run. Returns their ids."""
    failed = []
    running = SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING).select_related("source")
    for run in running:
        if source_lock(source=run.source).owner() == run.pk:
            continue  # alive: it renews its lease
        # started_at in the filter: a redelivered attempt that restarted it meanwhile wins.
        if (
            SyncRun.objects.filter(
                pk=run.pk, outcome=SyncRun.Outcome.RUNNING, started_at=run.started_at
            ).update(
                outcome=SyncRun.Outcome.FAILED, finished_at=timezone.now(), message=INTERRUPTED
            )
            == 1
        ):
            logger.warning("sync run %s of %s: %s", run.pk, run.source.slug, INTERRUPTED)
            failed.append(run.pk)
    return failed


def queued_run(*, source: Source, trigger: str, mode: str, payload: PushPayload | None) -> SyncRun:
    if payload is not None:
        run = SyncRun.objects.filter(payload=payload).first()
        if run is not None:
            return run
    return SyncRun.objects.create(source=source, trigger=trigger, mode=mode, payload=payload)


def finish_run(
    run: SyncRun, outcome: str, message: str, *, counts: dict[str, int] | None = None
) -> SyncRun:
    run.outcome = outcome
    run.message = message[:2000]
    run.finished_at = timezone.now()
    for name, value in (counts or {}).items():
        setattr(run, name, value)
    run.save()
    logger.info("sync run %s of %s: %s %s", run.pk, run.source.slug, outcome, message)
    return run


def advance_source(
    *, source: Source, run: SyncRun, full: bool, payload: PushPayload | None, feed_read: FeedRead
) -> None:
    changes: dict[str, Any] = {}
    if payload is None:
        changes["watermark"] = recency.next_watermark(
            newest=feed_read.newest_modified,
            undated=feed_read.undated,
            previous=source.watermark,
            started_at=run.started_at,
        )
    else:
        PushPayload.objects.filter(pk=payload.pk).update(processed_at=timezone.now())
    if full:
        changes["last_full_sync_at"] = run.started_at
    if changes:
        Source.objects.filter(pk=source.pk).update(**changes)
        for name, value in changes.items():
            setattr(source, name, value)


def save_issues(run: SyncRun, issues: list[RecordIssue]) -> None:
    for issue in issues:
        issue.run = run
    RecordIssue.objects.bulk_create(issues, batch_size=1000)
