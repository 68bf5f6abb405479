"""The sync engine: `sync_source` runs one source's importer and applies what changed.

The contract (DESIGN.md, "Sync contract"), as this module keeps it:
- upsert by `(source, origin_id)`; content hashes are diffed in Python and only new,
  changed or reactivated records are written, in bulk; a re-run of the same feed
  writes no record rows;
- a complete full run withdraws (soft) what it no longer lists; an incremental or
  pushed run withdraws only what the feed marks withdrawn; withdrawn records come
  back when they reappear;
- a failed, unparsable or empty feed, or one that would withdraw more than the
  source's guard allows, changes nothing (outcome failed or held);
- all changes of a run are applied in one transaction, under a per-source lock;
- memory stays flat in the feed's size: reading keeps one small int per existing row and
  spools only new or changed records to a temporary file, streamed back in batches when
  writing; unchanged records cost no model instance and no query, and linking and
  organisation lookups touch only the records written in the run;
- every run is a `SyncRun`; every rejected or repaired record a `RecordIssue`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import orjson
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from federation.exceptions import FeedRejected, SourceBusy, SourceUnavailable
from federation.models import (
    Channel,
    Organization,
    PushPayload,
    RecordIssue,
    RecordStatus,
    Service,
    ServiceArea,
    ServiceChannel,
    ServiceCode,
    Source,
    SyncRun,
)
from federation.services.hooks import sync_completed
from federation.services.importing import (
    build_client,
    bundled_documents,
    importer_class,
    importer_options,
    is_file_url,
)
from federation.services.locks import LockLost, SourceLock, source_lock
from federation.signals import records_changed
from importers.base import FeedMalformed, FeedUnavailable, Importer, ParsedRecord, RecordError
from importers.cleaning import clean_html

logger = logging.getLogger(__name__)

RECORD_MODELS: dict[str, type[models.Model]] = {
    "organization": Organization,
    "service": Service,
    "channel": Channel,
}
# Order of writes: organisations first, so services and channels can point at them.
KINDS = ("organization", "channel", "service")
BATCH_SIZE = 500
LAST_SEEN_PRECISION = timedelta(days=1)
_UNSAFE_HTML = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|input|svg|math)\b|\son\w+\s*=|javascript:",
    re.IGNORECASE,
)
_HTML_FIELDS = ("description",)


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------
def sync_source(
    *,
    source: Source,
    trigger: str,
    full: bool = False,
    payload: PushPayload | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SyncRun:
    """Sync one source and return its finished `SyncRun`.

    Raises `SourceUnavailable` (carrying the failed run) when the feed cannot be fetched,
    so a task can retry; `SourceBusy` when a pushed payload finds another run going on.
    `transport` is for tests: a mock HTTP transport under the guarded client.
    """
    mode = SyncRun.Mode.FULL if full else SyncRun.Mode.INCREMENTAL
    run = _queued_run(source=source, trigger=trigger, mode=mode, payload=payload)
    lock = source_lock(source=source)
    if not lock.acquire():
        if payload is not None:
            raise SourceBusy("another run of this source is in progress", run=run)
        return _finish(run, SyncRun.Outcome.SKIPPED, "another run of this source is in progress")
    try:
        _fail_interrupted_runs(source=source, current=run)
        run.outcome = SyncRun.Outcome.RUNNING
        run.mode = mode
        run.started_at = timezone.now()
        run.save(update_fields=["outcome", "mode", "started_at"])
        return _run(
            source=source, run=run, full=full, payload=payload, transport=transport, lock=lock
        )
    finally:
        lock.release()


def _run(
    *,
    source: Source,
    run: SyncRun,
    full: bool,
    payload: PushPayload | None,
    transport: httpx.BaseTransport | None,
    lock: SourceLock,
) -> SyncRun:
    feed = Feed()
    try:
        importer, documents = _importer_for(
            source=source, run=run, full=full, payload=payload, transport=transport
        )
        feed.load_existing(source)
        try:
            feed.read(_items(importer, documents), keep_alive=lock.keep_alive)
        finally:
            importer.http.close()
        feed.complete = full and importer.is_complete
        plan = _plan(source=source, run=run, feed=feed)
        if plan.hold_reason:
            _save_issues(run, feed.issues)
            return _finish(run, plan.hold_outcome, plan.hold_reason, counts=feed.counts())
        lock.keep_alive(force=True)
        with transaction.atomic():
            counts = _apply(source=source, run=run, plan=plan, feed=feed)
            _save_issues(run, feed.issues)
            _advance_source(source=source, run=run, full=feed.complete, payload=payload)
            _finish(run, SyncRun.Outcome.SUCCEEDED, plan.summary(), counts=counts)
            if run.has_changes:
                transaction.on_commit(lambda: sync_completed(run=run))
        return run
    except FeedUnavailable as error:
        _save_issues(run, feed.issues)
        _finish(run, SyncRun.Outcome.FAILED, f"feed unavailable: {error}", counts=feed.counts())
        raise SourceUnavailable(str(error), run=run) from error
    except FeedMalformed as error:
        _save_issues(run, feed.issues)
        return _finish(
            run, SyncRun.Outcome.FAILED, f"feed cannot be read: {error}", counts=feed.counts()
        )
    except (FeedRejected, LockLost) as error:
        return _finish(run, SyncRun.Outcome.FAILED, str(error), counts=feed.counts())
    except Exception as error:
        _finish(run, SyncRun.Outcome.FAILED, f"internal error: {type(error).__name__}: {error}")
        raise
    finally:
        feed.close()


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
def _queued_run(*, source: Source, trigger: str, mode: str, payload: PushPayload | None) -> SyncRun:
    if payload is not None:
        run = SyncRun.objects.filter(payload=payload).first()
        if run is not None:
            return run
    return SyncRun.objects.create(source=source, trigger=trigger, mode=mode, payload=payload)


def _fail_interrupted_runs(*, source: Source, current: SyncRun) -> None:
    """We hold the lock, so any other "running" run of this source died with its worker."""
    SyncRun.objects.filter(source=source, outcome=SyncRun.Outcome.RUNNING).exclude(
        pk=current.pk
    ).update(
        outcome=SyncRun.Outcome.FAILED,
        finished_at=timezone.now(),
        message="interrupted: the worker stopped before the run finished; nothing was applied",
    )


def _finish(
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


def _advance_source(
    *, source: Source, run: SyncRun, full: bool, payload: PushPayload | None
) -> None:
    changes: dict[str, Any] = {}
    if payload is None:
        changes["watermark"] = run.started_at.isoformat()
    else:
        PushPayload.objects.filter(pk=payload.pk).update(processed_at=timezone.now())
    if full:
        changes["last_full_sync_at"] = run.started_at
    if changes:
        Source.objects.filter(pk=source.pk).update(**changes)
        for name, value in changes.items():
            setattr(source, name, value)


# ---------------------------------------------------------------------------
# Reading the feed
# ---------------------------------------------------------------------------
def _importer_for(
    *,
    source: Source,
    run: SyncRun,
    full: bool,
    payload: PushPayload | None,
    transport: httpx.BaseTransport | None,
) -> tuple[Importer, Iterable[bytes] | None]:
    """The importer, plus the documents to parse when they are not fetched from the URL."""
    cls = importer_class(source.format)
    since = None if full or not source.watermark else source.watermark
    http = build_client(source=source, transport=transport)
    importer = cls(url=source.url, http=http, since=since, options=importer_options(source=source))
    if payload is not None:
        return importer, [bytes(payload.body)]
    if source.is_push_only:
        http.close()
        raise FeedRejected("push-only source: nothing to fetch; push a feed to its endpoint")
    if is_file_url(source.url):
        return importer, bundled_documents(source.url)
    return importer, None


def _items(
    importer: Importer, documents: Iterable[bytes] | None
) -> Iterator[ParsedRecord | RecordError]:
    if documents is None:
        yield from importer.records()
        return
    for document in documents:
        yield from importer.parse(document)


# Per-kind value of `Feed.existing` for a withdrawn row: it is rewritten when it reappears.
_WITHDRAWN = -1
# Set on an existing row's value once the feed listed it unchanged.
_SEEN = 1 << 64


def _short_hash(content_hash: str) -> int:
    """The first 64 bits of a content hash, as a small int: enough to spot a change."""
    try:
        return int(content_hash[:16], 16)
    except ValueError:
        return -2  # never equal to a real hash: the row is rewritten


@dataclass
class Feed:
    """What one run read, per record kind, kept small so memory stays flat in the feed's size.

    Before reading, `load_existing` keeps one small int per existing row (the first 64 bits
    of its content hash, or `_WITHDRAWN`). Reading then keeps, per record: nothing more for
    an unchanged one (a bit is set on its existing entry); for a new, changed or reactivated
    one, its offset in a per-kind spool file (orjson lines, on disk) where its data waits
    for the write phase. Nothing is written to the database while reading.
    """

    existing: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in KINDS})
    # origin_id -> offset of its line in the kind's spool (the last occurrence wins).
    changed: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in KINDS})
    flagged_withdrawn: dict[str, set[str]] = field(
        default_factory=lambda: {k: set() for k in KINDS}
    )
    # Ids the feed listed but we rejected: never withdrawn for being "missing".
    rejected_ids: set[str] = field(default_factory=set)
    issues: list[RecordIssue] = field(default_factory=list)
    rejected: int = 0
    complete: bool = False
    valid_count: int = 0
    spools: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"rejected": self.rejected}

    def load_existing(self, source: Source) -> None:
        for kind in KINDS:
            rows = (
                RECORD_MODELS[kind]
                .objects.filter(source=source)
                .values_list("origin_id", "content_hash", "status")
            )
            self.existing[kind] = {
                origin_id: _WITHDRAWN if status == RecordStatus.WITHDRAWN else _short_hash(h)
                for origin_id, h, status in rows.iterator(chunk_size=5000)
            }

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()
        self.spools.clear()

    def issue(self, *, reason: str, severity: str, message: str, origin_id: str | None = None,
              kind: str | None = None, field_path: str | None = None) -> None:  # fmt: skip
        if len(self.issues) >= settings.PESA_SYNC_MAX_ISSUES:
            return
        self.issues.append(
            RecordIssue(
                origin_id=(origin_id or "")[:255],
                record_kind=kind or "",
                reason=reason,
                severity=severity,
                message=message,
                field_path=(field_path or "")[:255],
            )
        )

    def read(self, items: Iterable[ParsedRecord | RecordError], *, keep_alive: Any) -> None:
        for item in items:
            keep_alive()
            if isinstance(item, RecordError):
                self._error(item)
            else:
                self._record(item)
        for spool in self.spools.values():
            spool.flush()

    def _error(self, error: RecordError) -> None:
        if error.severity == "error":
            self.rejected += 1
            if error.source_id:
                self.rejected_ids.add(str(error.source_id))
        if error.source_id is None and error.kind is None and error.severity == "error":
            reason = RecordIssue.Reason.FEED
        elif error.severity == "error":
            reason = RecordIssue.Reason.REJECTED
        else:
            reason = RecordIssue.Reason.REPAIRED
        self.issue(
            reason=reason,
            severity=error.severity,
            message=error.message,
            origin_id=error.source_id,
            kind=error.kind,
            field_path=error.field,
        )

    def _record(self, record: ParsedRecord) -> None:
        kind, origin_id = record.kind, str(record.source_id).replace("\x00", "").strip()
        if kind not in RECORD_MODELS or not origin_id or len(origin_id) > 255:
            self.rejected += 1
            self.issue(
                reason=RecordIssue.Reason.REJECTED,
                severity=RecordIssue.Severity.ERROR,
                message=f"unusable record kind {kind!r} or id (empty or longer than 255 characters)",
                origin_id=origin_id,
                kind=kind,
                field_path="id",
            )
            return
        for repair in record.repairs:
            self._error(repair)
        existing, changed = self.existing[kind], self.changed[kind]
        current = existing.get(origin_id)
        seen = current is not None and current >= _SEEN
        if record.withdrawn:
            if origin_id in changed or seen:
                self.valid_count -= 1
            changed.pop(origin_id, None)
            if seen:
                existing[origin_id] = current - _SEEN
            self.flagged_withdrawn[kind].add(origin_id)
            return
        data = sanitized(record.data, issue=self._issue_for(kind, origin_id))
        content_hash = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
        short = _short_hash(content_hash)
        previous: int | None = None
        if origin_id in changed:
            previous = _short_hash(self._spooled(kind, changed[origin_id])[1])
        elif seen:
            previous = current - _SEEN
        if previous is None:
            self.valid_count += 1
        elif previous != short:
            self.issue(
                reason=RecordIssue.Reason.DUPLICATE,
                severity=RecordIssue.Severity.WARNING,
                message="the feed lists this id more than once with different content; the last one is kept",
                origin_id=origin_id,
                kind=kind,
            )
        self.flagged_withdrawn[kind].discard(origin_id)
        stored = current - _SEEN if seen else current
        if stored is not None and stored == short:
            # Unchanged: nothing to keep but a bit on the existing entry.
            changed.pop(origin_id, None)
            if not seen:
                existing[origin_id] = current + _SEEN
            return
        if seen:
            existing[origin_id] = current - _SEEN
        changed[origin_id] = self._spool(kind, origin_id, content_hash, data)

    def _spool(self, kind: str, origin_id: str, content_hash: str, data: dict[str, Any]) -> int:
        spool = self.spools.get(kind)
        if spool is None:
            # Closed by `close()` when the run ends.
            spool = self.spools[kind] = tempfile.TemporaryFile(prefix=f"pesa-sync-{kind}-")  # noqa: SIM115
        spool.seek(0, 2)
        offset = spool.tell()
        spool.write(orjson.dumps([origin_id, content_hash, data]))
        spool.write(b"\n")
        return offset

    def _spooled(self, kind: str, offset: int) -> list[Any]:
        spool = self.spools[kind]
        spool.flush()
        spool.seek(offset)
        return orjson.loads(spool.readline())

    def written(
        self, kind: str, batch_size: int
    ) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        """The records to write, in feed order, `batch_size` at a time (read from the spool)."""
        changed = self.changed[kind]
        spool = self.spools.get(kind)
        if spool is None or not changed:
            return
        spool.flush()
        spool.seek(0)
        batch: list[tuple[str, str, dict[str, Any]]] = []
        offset = 0
        for line in spool:
            origin_id, content_hash, data = orjson.loads(line)
            if changed.get(origin_id) == offset:
                batch.append((origin_id, content_hash, data))
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            offset += len(line)
        if batch:
            yield batch

    def seen_unchanged(self, kind: str) -> Iterator[str]:
        return (oid for oid, value in self.existing[kind].items() if value >= _SEEN)

    def _issue_for(self, kind: str, origin_id: str):
        def report(field_path: str, message: str) -> None:
            self.issue(
                reason=RecordIssue.Reason.SANITIZED,
                severity=RecordIssue.Severity.WARNING,
                message=message,
                origin_id=origin_id,
                kind=kind,
                field_path=field_path,
            )

        return report


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


# ---------------------------------------------------------------------------
# Planning: diff hashes in Python, decide, guard
# ---------------------------------------------------------------------------
@dataclass
class Plan:
    """Counts and ids decided before anything is written; the data itself stays in the feed."""

    create: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    update: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    reactivate: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    # origin ids of live rows to withdraw
    withdraw: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    withdraw_reason: str = ""
    unchanged: int = 0
    hold_reason: str = ""
    hold_outcome: str = SyncRun.Outcome.HELD
    complete: bool = False
    rejected: int = 0

    def summary(self) -> str:
        reactivated = sum(self.reactivate.values())
        parts = ["complete sync" if self.complete else "partial sync"]
        if reactivated:
            parts.append(f"{reactivated} reactivated")
        return "; ".join(parts)


def _plan(*, source: Source, run: SyncRun, feed: Feed) -> Plan:
    plan = Plan(complete=feed.complete, rejected=feed.rejected)
    nothing = not feed.valid_count and not any(feed.flagged_withdrawn.values())
    if nothing and feed.rejected:
        plan.hold_outcome = SyncRun.Outcome.FAILED
        plan.hold_reason = (
            f"no valid records: all {feed.rejected} records were rejected; nothing changed"
        )
        return plan
    if nothing and (feed.complete or run.trigger == SyncRun.Trigger.PUSH):
        plan.hold_reason = "the feed has no records; nothing changed"
        return plan
    if feed.complete and feed.valid_count < source.min_record_count:
        plan.hold_reason = (
            f"the feed has {feed.valid_count} records, fewer than the guard's minimum of "
            f"{source.min_record_count}; nothing changed"
        )
        return plan

    active_total = 0
    for kind in KINDS:
        existing, changed = feed.existing[kind], feed.changed[kind]
        for origin_id in changed:
            current = existing.get(origin_id)
            if current is None:
                plan.create[kind] += 1
            elif current == _WITHDRAWN:
                plan.reactivate[kind] += 1
            else:
                plan.update[kind] += 1
        flagged = feed.flagged_withdrawn[kind]
        gone: list[str] = []
        for origin_id, value in existing.items():
            if value == _WITHDRAWN:
                continue
            active_total += 1
            if value >= _SEEN:
                plan.unchanged += 1
            elif origin_id in flagged or (
                feed.complete and origin_id not in changed and origin_id not in feed.rejected_ids
            ):
                gone.append(origin_id)
        plan.withdraw[kind] = gone
    plan.withdraw_reason = (
        "missing from a complete sync" if feed.complete else "marked withdrawn by the feed"
    )

    to_withdraw = sum(len(ids) for ids in plan.withdraw.values())
    if to_withdraw and active_total:
        share = to_withdraw / active_total
        if share * 100 > source.max_withdrawn_percent:
            plan.hold_reason = (
                f"would withdraw {to_withdraw} of {active_total} records ({share:.0%}), more than "
                f"the guard's {source.max_withdrawn_percent} %; nothing changed"
            )
    return plan


# ---------------------------------------------------------------------------
# Applying (inside one transaction)
# ---------------------------------------------------------------------------
def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _apply(*, source: Source, run: SyncRun, plan: Plan, feed: Feed) -> dict[str, int]:
    """Writes what the plan decided, streaming the data back from the feed's spool in batches."""
    now = timezone.now()
    created = updated = withdrawn = 0
    organizations: dict[str, int] | None = None
    changes: dict[str, dict[str, list[int]]] = {}
    for kind in KINDS:
        model = RECORD_MODELS[kind]
        upserted: list[int] = []
        fields_to_update = _update_fields(model)
        for batch in feed.written(kind, BATCH_SIZE):
            if kind != "organization" and organizations is None:
                organizations = dict(
                    Organization.objects.filter(source=source).values_list("origin_id", "pk")
                )
            existing = feed.existing[kind]
            known = [origin_id for origin_id, _h, _d in batch if origin_id in existing]
            pks = (
                dict(
                    model.objects.filter(source=source, origin_id__in=known).values_list(
                        "origin_id", "pk"
                    )
                )
                if known
                else {}
            )
            new_rows = []
            changed_rows = []
            for origin_id, content_hash, data in batch:
                fields = _fields(kind, data, organizations, run)
                pk = pks.get(origin_id)
                if pk is None:
                    new_rows.append(
                        model(
                            source=source,
                            origin_id=origin_id,
                            content_hash=content_hash,
                            status=RecordStatus.ACTIVE,
                            first_seen_at=now,
                            last_seen_at=now,
                            synced_at=now,
                            **fields,
                        )
                    )
                else:
                    changed_rows.append(
                        model(
                            pk=pk,
                            source=source,
                            origin_id=origin_id,
                            content_hash=content_hash,
                            status=RecordStatus.ACTIVE,
                            withdrawn_at=None,
                            withdrawn_reason="",
                            last_seen_at=now,
                            synced_at=now,
                            **fields,
                        )
                    )
            model.objects.bulk_create(new_rows, batch_size=BATCH_SIZE)
            if changed_rows:
                model.objects.bulk_update(changed_rows, fields_to_update, batch_size=BATCH_SIZE)
            created += len(new_rows)
            updated += len(changed_rows)
            if kind == "service":
                _replace_service_children(new_rows + changed_rows)
            upserted.extend(row.pk for row in new_rows + changed_rows)

        withdrawn_pks: list[int] = []
        for chunk in _chunks(plan.withdraw[kind], 5000):
            live = model.objects.filter(source=source, origin_id__in=chunk).exclude(
                status=RecordStatus.WITHDRAWN
            )
            pks_now = list(live.values_list("pk", flat=True))
            withdrawn += model.objects.filter(pk__in=pks_now).update(
                status=RecordStatus.WITHDRAWN,
                withdrawn_at=now,
                withdrawn_reason=plan.withdraw_reason,
                synced_at=now,
            )
            withdrawn_pks.extend(sorted(pks_now))
        changes[kind] = {"upserted": upserted, "withdrawn": withdrawn_pks}

    if created or updated:
        _link_services_and_channels(
            source=source,
            services=changes["service"]["upserted"],
            channels=changes["channel"]["upserted"],
        )
        _resolve_organizations(source=source, organizations=changes["organization"]["upserted"])
    _mark_seen(source=source, plan=plan, feed=feed, now=now)
    if created or updated or withdrawn:
        records_changed.send(sender=Source, source=source, run=run, changes=changes)
    return {
        "created": created,
        "updated": updated,
        "unchanged": plan.unchanged,
        "withdrawn": withdrawn,
        "rejected": plan.rejected,
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _fields(
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


def _update_fields(model: type[models.Model]) -> list[str]:
    skip = {"id", "source", "origin_id", "first_seen_at"}
    return [f.name for f in model._meta.concrete_fields if f.name not in skip and not f.primary_key]


def _replace_service_children(services: list[Service]) -> None:
    """Area and code rows of the services written in this run (only those)."""
    if not services:
        return
    pks = [service.pk for service in services]
    ServiceArea.objects.filter(service_id__in=pks).delete()
    ServiceCode.objects.filter(service_id__in=pks).delete()
    areas: list[ServiceArea] = []
    codes: list[ServiceCode] = []
    for service in services:
        seen_areas: set[tuple[str, str]] = set()
        if service.nationwide:
            seen_areas.add((ServiceArea.Kind.NATIONWIDE, ServiceArea.NATIONWIDE))
        seen_areas.update(
            (ServiceArea.Kind.MUNICIPALITY, str(c)[:3]) for c in service.municipality_codes
        )
        seen_areas.update((ServiceArea.Kind.COUNTY, str(c)[:3]) for c in service.county_codes)
        areas.extend(
            ServiceArea(service_id=service.pk, kind=k, code=c) for k, c in sorted(seen_areas)
        )
        seen_codes: set[tuple[str, str]] = set()
        for scheme, values in (
            (ServiceCode.Scheme.TARGET_GROUP, service.target_groups),
            (ServiceCode.Scheme.LIFE_EVENT, service.life_events),
            (ServiceCode.Scheme.SERVICE_CLASS, service.service_classes),
        ):
            seen_codes.update((scheme, str(v)[:20]) for v in values)
        codes.extend(
            ServiceCode(service_id=service.pk, scheme=s, code=c) for s, c in sorted(seen_codes)
        )
    ServiceArea.objects.bulk_create(areas, batch_size=BATCH_SIZE)
    ServiceCode.objects.bulk_create(codes, batch_size=BATCH_SIZE)


LINK_CHUNK = 2000


def _listing(
    model: type[models.Model], field_name: str, source: Source, ids: list[str]
) -> Iterable[tuple[int, str]]:
    """(pk, id) for each of `ids` that a row of the source names in its JSON list `field_name`."""
    if connection.vendor == "postgresql":
        # One pass over the source's rows; `= ANY(array)` is hashed by PostgreSQL (14+).
        meta = model._meta
        column = f"r.{meta.get_field(field_name).column}"
        listed = f"CASE WHEN jsonb_typeof({column}) = 'array' THEN {column} ELSE '[]' END"
        sql = (
            f"SELECT r.{meta.pk.column}, x FROM {meta.db_table} r "  # noqa: S608
            f"CROSS JOIN LATERAL jsonb_array_elements_text({listed}) x "
            f"WHERE r.{meta.get_field('source').column} = %s AND x = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [source.pk, ids])
            return cursor.fetchall()
    wanted = set(ids)
    rows = model.objects.filter(source=source).values_list("pk", field_name)
    return [
        (pk, str(value))
        for pk, values in rows.iterator(chunk_size=2000)
        for value in values or []
        if str(value) in wanted
    ]


def _link_services_and_channels(
    *, source: Source, services: list[int], channels: list[int]
) -> None:
    """Links from both sides of the feed, within the source, for the records written in this
    run only (a link between two unwritten records cannot have changed); only differences
    are written. Works in chunks, so memory does not grow with the source."""
    for service_chunk in _chunks(sorted(services), LINK_CHUNK):
        _relink(source=source, service_pks=service_chunk, channel_pks=[])
    for channel_chunk in _chunks(sorted(channels), LINK_CHUNK):
        _relink(source=source, service_pks=[], channel_pks=channel_chunk)


def _relink(*, source: Source, service_pks: list[int], channel_pks: list[int]) -> None:
    wanted: set[tuple[int, int]] = set()
    if service_pks:
        rows = list(
            Service.objects.filter(pk__in=service_pks).values_list(
                "pk", "origin_id", "channel_origin_ids"
            )
        )
        names = {str(c) for _pk, _oid, ids in rows for c in ids or []}
        channel_map = _pks_of(Channel, source, names)
        for service_pk, _oid, ids in rows:
            wanted.update((service_pk, channel_map[c]) for c in ids or [] if c in channel_map)
        by_origin = {oid: pk for pk, oid, _ids in rows}
        for channel_pk, origin_id in _listing(
            Channel, "service_origin_ids", source, list(by_origin)
        ):
            wanted.add((by_origin[origin_id], channel_pk))
        scope = ServiceChannel.objects.filter(service_id__in=service_pks)
    else:
        rows = list(
            Channel.objects.filter(pk__in=channel_pks).values_list(
                "pk", "origin_id", "service_origin_ids"
            )
        )
        names = {str(s) for _pk, _oid, ids in rows for s in ids or []}
        service_map = _pks_of(Service, source, names)
        for channel_pk, _oid, ids in rows:
            wanted.update((service_map[s], channel_pk) for s in ids or [] if s in service_map)
        by_origin = {oid: pk for pk, oid, _ids in rows}
        for service_pk, origin_id in _listing(
            Service, "channel_origin_ids", source, list(by_origin)
        ):
            wanted.add((service_pk, by_origin[origin_id]))
        scope = ServiceChannel.objects.filter(channel_id__in=channel_pks)
    existing = {
        (service_pk, channel_pk): pk
        for pk, service_pk, channel_pk in scope.values_list("pk", "service_id", "channel_id")
    }
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    if stale:
        ServiceChannel.objects.filter(pk__in=stale).delete()
    ServiceChannel.objects.bulk_create(
        [ServiceChannel(service_id=s, channel_id=c) for s, c in sorted(wanted - set(existing))],
        batch_size=BATCH_SIZE,
    )


def _pks_of(model: type[models.Model], source: Source, origin_ids: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(origin_ids), 5000):
        found.update(
            model.objects.filter(source=source, origin_id__in=chunk).values_list("origin_id", "pk")
        )
    return found


def _resolve_organizations(*, source: Source, organizations: list[int]) -> None:
    """Services and channels written before their organisation arrived get it now (only the
    organisations written in this run can be new to them)."""
    for chunk in _chunks(sorted(organizations), 5000):
        arrived = dict(Organization.objects.filter(pk__in=chunk).values_list("origin_id", "pk"))
        for model in (Service, Channel):
            pending = (
                model.objects.filter(
                    source=source,
                    organization__isnull=True,
                    organization_origin_id__in=list(arrived),
                )
                .values_list("organization_origin_id", flat=True)
                .distinct()
            )
            for origin_id in list(pending):
                model.objects.filter(
                    source=source, organization__isnull=True, organization_origin_id=origin_id
                ).update(organization_id=arrived[origin_id])


def _mark_seen(*, source: Source, plan: Plan, feed: Feed, now: Any) -> None:
    """`last_seen_at` to within a day, so re-running an unchanged feed writes nothing."""
    cutoff = now - LAST_SEEN_PRECISION
    for kind in KINDS:
        model = RECORD_MODELS[kind]
        stale = model.objects.filter(source=source, last_seen_at__lt=cutoff)
        if plan.complete:
            stale.exclude(status=RecordStatus.WITHDRAWN).update(last_seen_at=now)
            continue
        ids = list(feed.seen_unchanged(kind))
        for chunk in _chunks(ids, 5000):
            stale.filter(origin_id__in=chunk).update(last_seen_at=now)


def _save_issues(run: SyncRun, issues: list[RecordIssue]) -> None:
    for issue in issues:
        issue.run = run
    RecordIssue.objects.bulk_create(issues, batch_size=1000)
