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
- a raw item whose importer fingerprint (importers/base.py) equals the one stored on its
  row is not parsed at all; a record that was repaired or rejected is parsed every run;
- memory stays flat in the feed's size: reading keeps one small int per existing row (a
  full run reads them all, an incremental run only those its feed names) and spools only
  new or changed records to a temporary file, streamed back in batches when writing;
  unchanged records cost no model instance and no query, and linking and organisation
  lookups touch only the records written in the run; new rows go in with COPY;
- a big full run parses in forked worker processes (`parsing.py`), with the outcome a
  serial read would give;
- every run is a `SyncRun`; every rejected or repaired record a `RecordIssue`.
"""

from __future__ import annotations

import gc
import json
import logging
import tempfile
import time
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
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
from federation.signals import records_changed
from federation.sync import lifecycle as runs
from federation.sync import pool as parsing
from federation.sync import recency
from federation.sync.locks import LockLost, SourceLock, source_lock
from federation.sync.pool import Prepared, sanitized
from federation.sync.pool import origin_id as _origin_id
from federation.sync.statistics import refresh_statistics
from importers.base import (
    FeedMalformed,
    FeedUnavailable,
    Importer,
    ParsedRecord,
    RawItem,
    RecordError,
)

logger = logging.getLogger(__name__)

RECORD_MODELS: dict[str, type[models.Model]] = {
    "organization": Organization,
    "service": Service,
    "channel": Channel,
}
# Order of writes: organisations first, so services and channels can point at them.
KINDS = ("organization", "channel", "service")
BATCH_SIZE = 500
# A spooled record: origin id, content hash, raw fingerprint, data.
Spooled = tuple[str, str, int | None, dict[str, Any]]
LAST_SEEN_PRECISION = timedelta(days=1)


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
    redelivered: bool = False,
) -> SyncRun:
    """Sync one source and return its finished `SyncRun`.

    Raises `SourceUnavailable` (carrying the failed run) when the feed cannot be fetched,
    so a task can retry; `SourceBusy` when a pushed payload finds another run going on.
    A payload already applied by a finished run is not applied again (`runs.py`).
    `transport` is for tests: a mock HTTP transport under the guarded client.
    """
    mode = SyncRun.Mode.FULL if full else SyncRun.Mode.INCREMENTAL
    run = _queued_run(source=source, trigger=trigger, mode=mode, payload=payload)
    if runs.payload_done(run):
        return run
    lock = source_lock(source=source, run=run)
    if not runs.acquire(lock=lock, run=run, redelivered=redelivered):
        if payload is not None:
            raise SourceBusy("another run of this source is in progress", run=run)
        return _finish(run, SyncRun.Outcome.SKIPPED, "another run of this source is in progress")
    try:
        runs.fail_interrupted_runs(source_id=source.pk, current=run)
        run.outcome = SyncRun.Outcome.RUNNING
        run.mode = mode
        run.started_at = timezone.now()
        run.save(update_fields=["outcome", "mode", "started_at"])
        with lock.heartbeat():
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
    feed = Feed(source=source)
    started = time.perf_counter()
    try:
        importer, documents = _importer_for(
            source=source, run=run, full=full, payload=payload, transport=transport
        )
        if full:
            feed.load_existing()
        try:
            with _cyclic_gc_paused():
                feed.read(
                    _items(importer, documents, feed=feed),
                    importer=importer,
                    keep_alive=lock.keep_alive,
                )
        finally:
            importer.http.close()
        logger.info(
            "sync run %s: read in %.1f s; %s unchanged items not parsed",
            run.pk,
            time.perf_counter() - started,
            feed.skipped,
        )
        feed.complete = full and importer.is_complete
        plan = _plan(source=source, run=run, feed=feed)
        if plan.hold_reason:
            _save_issues(run, feed.issues)
            return _finish(run, plan.hold_outcome, plan.hold_reason, counts=feed.counts())
        lock.keep_alive(force=True)
        applying = time.perf_counter()
        with transaction.atomic():
            with _cyclic_gc_paused():
                counts = _apply(source=source, run=run, plan=plan, feed=feed)
            _save_issues(run, feed.issues)
            _advance_source(source=source, run=run, full=feed.complete, payload=payload, feed=feed)
            lock.keep_alive(force=True)  # still this run's lease: only then commit
            _finish(run, SyncRun.Outcome.SUCCEEDED, plan.summary(), counts=counts)
            logger.info("sync run %s: applied in %.1f s", run.pk, time.perf_counter() - applying)
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


# Items (or written rows) between two collections of the young generations while the
# automatic cyclic garbage collector is paused.
GC_EVERY = 500


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Reading a feed makes millions of short-lived JSON containers, freed by reference
    counting; the automatic cyclic collector would keep scanning every document's objects
    while they live (JSON loading measured 3–7× slower in a worker with Django loaded).
    Paused here; `_collect_young` still frees young cycles every `GC_EVERY` items."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _collect_young(count: int) -> None:
    if count % GC_EVERY == 0:
        gc.collect(1)


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
def _queued_run(*, source: Source, trigger: str, mode: str, payload: PushPayload | None) -> SyncRun:
    if payload is not None:
        run = SyncRun.objects.filter(payload=payload).first()
        if run is not None:
            return run
    return SyncRun.objects.create(source=source, trigger=trigger, mode=mode, payload=payload)


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
    *, source: Source, run: SyncRun, full: bool, payload: PushPayload | None, feed: Feed
) -> None:
    changes: dict[str, Any] = {}
    if payload is None:
        changes["watermark"] = recency.next_watermark(
            newest=feed.newest_modified,
            undated=feed.undated,
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
    since = None if full else recency.since(source.watermark)
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
    importer: Importer, documents: Iterable[bytes] | None, *, feed: Feed
) -> Iterator[RawItem | ParsedRecord | RecordError]:
    documents = importer.documents() if documents is None else documents
    if feed.loaded_all and type(importer).parse_raw is not Importer.parse_raw:
        # A full run knows every stored fingerprint up front: big feeds parse in workers.
        yield from parsing.items(importer, documents, existing=feed.existing)
        return
    for document in documents:
        yield from importer.raw_items(document)


# Per-kind value of `Feed.existing` for a withdrawn row: it is rewritten when it reappears.
_WITHDRAWN = -1
_MASK64 = (1 << 64) - 1
# Added to an existing row's value once the feed listed it unchanged.
_SEEN = 1 << 128
# Records looked up at a time in an incremental run, which reads only the rows it lists.
LOOKUP_BATCH = 500


def _short_hash(content_hash: str) -> int:
    """The first 64 bits of a content hash, as a small int: enough to spot a change.
    0 stands for "unknown" and never matches."""
    try:
        return int(content_hash[:16], 16)
    except ValueError:
        return 0


def _existing_entry(content_hash: str, fingerprint: int | None, status: str) -> int:
    """An existing row as one int: 64 bits of its content hash, then its raw fingerprint."""
    if status == RecordStatus.WITHDRAWN:
        return _WITHDRAWN
    return _short_hash(content_hash) | ((fingerprint or 0) & _MASK64) << 64


def _stored_hash(entry: int) -> int:
    return entry & _MASK64


def _stored_fingerprint(entry: int) -> int:
    return (entry >> 64) & _MASK64


class _Spool:
    """One kind's new, changed or reactivated records of a run: their lines in a temporary
    file (orjson, in feed order) and, per origin id, the offset of its last line.

    The index is an open-addressing table of two arrays (8-byte id hash, offset), about
    16 bytes a record instead of a dict's ~150: the origin id itself is only in the spool,
    so a hash match is confirmed against the spooled line (distinct ids may share a hash).
    A dropped record keeps its slot, its offset stored as `-offset - 1`.
    """

    MIN_SLOTS = 1024

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.file: Any = None
        self.live = 0
        self.used = 0
        self.keys = array("Q", bytes(8 * self.MIN_SLOTS))
        self.offsets = array("q", bytes(8 * self.MIN_SLOTS))

    def __len__(self) -> int:
        return self.live

    def __contains__(self, origin_id: str) -> bool:
        slot = self._slot(origin_id)
        return slot >= 0 and self.offsets[slot] >= 0

    def last(self, origin_id: str) -> list[Any] | None:
        """The record as last spooled (origin id, content hash, fingerprint, data), if live."""
        slot = self._slot(origin_id)
        if slot < 0 or self.offsets[slot] < 0:
            return None
        return orjson.loads(self._line(self.offsets[slot]))

    def add(
        self,
        origin_id: str,
        content_hash: str,
        fingerprint: int | None,
        data: dict[str, Any] | bytes,
    ) -> None:
        """Appends a record (`data` as a dict or as its JSON); it replaces an earlier copy."""
        if self.file is None:
            # Closed by `close()` when the run ends.
            self.file = tempfile.TemporaryFile(prefix=f"pesa-sync-{self.kind}-")  # noqa: SIM115
        self.file.seek(0, 2)
        offset = self.file.tell()
        if isinstance(data, bytes):
            self.file.write(orjson.dumps([origin_id, content_hash, fingerprint])[:-1])
            self.file.write(b",")
            self.file.write(data)
            self.file.write(b"]\n")
        else:
            self.file.write(orjson.dumps([origin_id, content_hash, fingerprint, data]))
            self.file.write(b"\n")
        slot = self._slot(origin_id)
        if slot < 0:
            slot = self._free_slot(_id_hash(origin_id))
        if self.offsets[slot] < 0:
            self.live += 1
        self.offsets[slot] = offset

    def pop(self, origin_id: str) -> None:
        """Forgets the record (its lines stay in the file, unread)."""
        slot = self._slot(origin_id)
        if slot >= 0 and self.offsets[slot] >= 0:
            self.offsets[slot] = -self.offsets[slot] - 1
            self.live -= 1

    def origin_ids(self) -> Iterator[str]:
        """The live records' origin ids, in feed order."""
        for offset, line in self._lines():
            origin_id = _spooled_origin_id(line)
            if self._is_live(origin_id, offset):
                yield origin_id

    def records(self, batch_size: int) -> Iterator[list[Spooled]]:
        """The live records, in feed order, `batch_size` at a time."""
        batch: list[Spooled] = []
        for offset, line in self._lines():
            if not self._is_live(_spooled_origin_id(line), offset):
                continue
            origin_id, content_hash, fingerprint, data = orjson.loads(line)
            batch.append((origin_id, content_hash, fingerprint, data))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        if self.file is None or not self.live:
            return
        self.file.flush()
        self.file.seek(0)
        offset = 0
        for line in self.file:
            yield offset, line
            offset += len(line)

    def _line(self, offset: int) -> bytes:
        self.file.flush()
        self.file.seek(offset)
        return self.file.readline()

    def _slot(self, origin_id: str) -> int:
        """The slot of `origin_id` (live or dropped), or -1."""
        key = _id_hash(origin_id)
        mask = len(self.keys) - 1
        slot = key & mask
        while self.keys[slot]:
            if self.keys[slot] == key:
                offset = self.offsets[slot]
                line = self._line(offset if offset >= 0 else -offset - 1)
                if _spooled_origin_id(line) == origin_id:
                    return slot
            slot = (slot + 1) & mask
        return -1

    def _is_live(self, origin_id: str, offset: int) -> bool:
        """Whether the line at `offset` (of `origin_id`) is its record's last copy: no read,
        a slot holding exactly this offset was written for this very line."""
        key = _id_hash(origin_id)
        mask = len(self.keys) - 1
        slot = key & mask
        while self.keys[slot]:
            if self.keys[slot] == key and self.offsets[slot] == offset:
                return True
            slot = (slot + 1) & mask
        return False

    def _free_slot(self, key: int) -> int:
        """A new slot for `key` (its offset set to "dropped" until the caller sets it)."""
        if (self.used + 1) * 3 > len(self.keys) * 2:
            self._grow()
        mask = len(self.keys) - 1
        slot = key & mask
        while self.keys[slot]:
            slot = (slot + 1) & mask
        self.keys[slot] = key
        self.offsets[slot] = -1
        self.used += 1
        return slot

    def _grow(self) -> None:
        keys, offsets = self.keys, self.offsets
        size = len(keys) * 2
        self.keys = array("Q", bytes(8 * size))
        self.offsets = array("q", bytes(8 * size))
        mask = size - 1
        for key, offset in zip(keys, offsets, strict=True):
            if key:
                slot = key & mask
                while self.keys[slot]:
                    slot = (slot + 1) & mask
                self.keys[slot] = key
                self.offsets[slot] = offset


def _id_hash(origin_id: str) -> int:
    """A non-zero 64-bit hash of an origin id (this process's `hash`, cached on the str)."""
    return (hash(origin_id) & _MASK64) or 1


def _spooled_origin_id(line: bytes) -> str:
    """The origin id at the head of a spooled line, without parsing its data: the first
    element is a JSON string of at most 255 characters (6 bytes each when escaped)."""
    head = line[:1600].decode(errors="ignore")
    return json.decoder.scanstring(head, 2)[0]


@dataclass
class Feed:
    """What one run read, per record kind, kept small so memory stays flat in the feed's size.

    `existing` holds one small int per existing row (64 bits of its content hash and its raw
    fingerprint, or `_WITHDRAWN`): a full run loads the whole source first (it must know
    what the feed no longer lists), an incremental run looks up only the rows its feed names,
    a batch at a time. Reading then keeps, per record: nothing more for an unchanged one (a
    bit is set on its existing entry); for a new, changed or reactivated one, its line in a
    per-kind spool file (orjson lines, on disk) where its data waits for the write phase,
    and 16 bytes of that spool's index (`_Spool`).
    A raw item whose fingerprint matches the stored one is not even parsed. Nothing is
    written to the database while reading.
    """

    source: Source
    existing: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in KINDS})
    # True once `existing` holds the whole source (full runs).
    loaded_all: bool = False
    # The new, changed or reactivated records, spooled (the last occurrence wins).
    changed: dict[str, _Spool] = field(default_factory=lambda: {k: _Spool(k) for k in KINDS})
    # Unchanged records whose stored fingerprint is out of date (an importer version bump,
    # a raw change that maps to the same record): origin_id -> new fingerprint.
    refingerprinted: dict[str, dict[str, int | None]] = field(
        default_factory=lambda: {k: {} for k in KINDS}
    )
    # Records the feed marks withdrawn: origin_id -> the feed's timestamp of it ("" if none).
    flagged_withdrawn: dict[str, dict[str, str]] = field(
        default_factory=lambda: {k: {} for k in KINDS}
    )
    # Ids the feed listed but we rejected: never withdrawn for being "missing".
    rejected_ids: set[str] = field(default_factory=set)
    issues: list[RecordIssue] = field(default_factory=list)
    rejected: int = 0
    complete: bool = False
    valid_count: int = 0
    # Raw items not parsed because their fingerprint matched (logged).
    skipped: int = 0
    # The newest timestamp of the parsed records, and how many had none (the watermark).
    newest_modified: datetime | None = None
    undated: int = 0

    def counts(self) -> dict[str, int]:
        return {"rejected": self.rejected}

    def load_existing(self) -> None:
        """Every row of the source (full runs)."""
        for kind in KINDS:
            self.existing[kind] = dict(self._rows(kind, None))
        self.loaded_all = True

    def _rows(self, kind: str, origin_ids: list[str] | None) -> Iterator[tuple[str, int]]:
        rows = RECORD_MODELS[kind].objects.filter(source=self.source)
        if origin_ids is not None:
            rows = rows.filter(origin_id__in=origin_ids)
        for origin_id, content_hash, fingerprint, status in rows.values_list(
            "origin_id", "content_hash", "raw_fingerprint", "status"
        ).iterator(chunk_size=5000):
            yield origin_id, _existing_entry(content_hash, fingerprint, status)

    def _look_up(self, items: list[RawItem | ParsedRecord | RecordError]) -> None:
        """Loads the existing rows of a batch's records that are not known yet."""
        wanted: dict[str, set[str]] = {}
        for item in items:
            if isinstance(item, RecordError) or item.kind not in RECORD_MODELS:
                continue
            origin_id = _origin_id(item.source_id)
            if origin_id not in self.existing[item.kind]:
                wanted.setdefault(item.kind, set()).add(origin_id)
        for kind, origin_ids in wanted.items():
            self.existing[kind].update(self._rows(kind, sorted(origin_ids)))

    def close(self) -> None:
        for spool in self.changed.values():
            spool.close()

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

    def read(
        self,
        items: Iterable[RawItem | ParsedRecord | RecordError],
        *,
        importer: Importer,
        keep_alive: Any,
    ) -> None:
        batch_size = 1 if self.loaded_all else LOOKUP_BATCH
        iterator = iter(items)
        count = 0
        while batch := list(islice(iterator, batch_size)):
            keep_alive()
            if not self.loaded_all:
                self._look_up(batch)
            for item in batch:
                count += 1
                _collect_young(count)
                if isinstance(item, RawItem):
                    self._raw(item, importer)
                elif isinstance(item, RecordError):
                    self._error(item)
                else:
                    self._record(item, fingerprint=None)
        for spool in self.changed.values():
            spool.flush()

    def _raw(self, raw: RawItem, importer: Importer) -> None:
        """An unparsed item: skipped when it is exactly what we hold, otherwise parsed."""
        kind, origin_id = raw.kind, _origin_id(raw.source_id)
        existing = self.existing.get(kind)
        current = existing.get(origin_id) if existing is not None else None
        if (
            current is not None
            and current != _WITHDRAWN
            and _stored_fingerprint(current) == raw.fingerprint & _MASK64
            and raw.fingerprint != 0
            and origin_id not in self.changed[kind]
        ):
            self.skipped += 1
            self.flagged_withdrawn[kind].pop(origin_id, None)
            if current < _SEEN:
                self.valid_count += 1
                existing[origin_id] = current + _SEEN
            return
        if raw.item is parsing.NOT_PARSED:
            # A worker saw the stored fingerprint, but this run spooled an earlier copy.
            self._unchanged_copy(kind, origin_id)
            return
        prepared = raw.item if isinstance(raw.item, Prepared) else None
        record = prepared.record if prepared is not None else importer.parse_raw(raw)
        if isinstance(record, RecordError):
            self._error(record)
        else:
            self._record(record, fingerprint=raw.fingerprint, prepared=prepared)

    def _duplicate(self, kind: str, origin_id: str) -> None:
        self.issue(
            reason=RecordIssue.Reason.DUPLICATE,
            severity=RecordIssue.Severity.WARNING,
            message="the feed lists this id more than once with different content; the last one is kept",
            origin_id=origin_id,
            kind=kind,
        )

    def _unchanged_copy(self, kind: str, origin_id: str) -> None:
        """What `_record` does with a copy of a spooled record that equals the stored row."""
        self._duplicate(kind, origin_id)
        self.flagged_withdrawn[kind].pop(origin_id, None)
        self.changed[kind].pop(origin_id)
        self.refingerprinted[kind].pop(origin_id, None)
        current = self.existing[kind][origin_id]
        if current < _SEEN:
            self.existing[kind][origin_id] = current + _SEEN

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

    def _record(
        self, record: ParsedRecord, *, fingerprint: int | None, prepared: Prepared | None = None
    ) -> None:
        kind, origin_id = record.kind, _origin_id(record.source_id)
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
        modified = self._saw_time(record.data.get("modified"), dated=not record.withdrawn)
        existing, changed = self.existing[kind], self.changed[kind]
        current = existing.get(origin_id)
        seen = current is not None and current >= _SEEN
        if record.withdrawn:
            if origin_id in changed or seen:
                self.valid_count -= 1
            changed.pop(origin_id)
            self.refingerprinted[kind].pop(origin_id, None)
            if seen:
                existing[origin_id] = current - _SEEN
            self.flagged_withdrawn[kind][origin_id] = modified
            return
        sanitizing: list[str] = []
        report = self._issue_for(kind, origin_id, sanitizing)
        data: dict[str, Any] | bytes
        if prepared is not None and prepared.data_json is not None:
            data, record_hash = prepared.data_json, prepared.content_hash
            for field_path, message in prepared.sanitizing:
                report(field_path, message)
        else:
            data = sanitized(record.data, issue=report)
            record_hash = parsing.content_hash(data)
        if record.repairs or sanitizing:
            # Parsed again on every run, so every run reports what was repaired.
            fingerprint = None
        short = _short_hash(record_hash)
        previous: int | None = None
        spooled = changed.last(origin_id)
        if spooled is not None:
            previous = _short_hash(spooled[1])
        elif seen:
            previous = _stored_hash(current)
        if previous is None:
            self.valid_count += 1
        elif previous != short:
            self._duplicate(kind, origin_id)
        self.flagged_withdrawn[kind].pop(origin_id, None)
        unchanged = (
            current is not None and current != _WITHDRAWN and _stored_hash(current) == short != 0
        )
        if unchanged:
            # Unchanged: nothing to keep but a bit on the existing entry (and a new
            # fingerprint when the stored one is out of date).
            changed.pop(origin_id)
            if not seen:
                existing[origin_id] = current + _SEEN
            if _stored_fingerprint(current) != (fingerprint or 0) & _MASK64:
                self.refingerprinted[kind][origin_id] = fingerprint
            else:
                self.refingerprinted[kind].pop(origin_id, None)
            return
        if seen:
            existing[origin_id] = current - _SEEN
        self.refingerprinted[kind].pop(origin_id, None)
        changed.add(origin_id, record_hash, fingerprint, data)

    def _saw_time(self, value: Any, *, dated: bool) -> str:
        """Keeps the newest feed timestamp for the watermark; returns the value as text.
        `dated`: whether the record should have one (a withdrawal may be a bare id)."""
        moment = recency.source_time(value)
        if moment is None:
            self.undated += dated
            return ""
        if self.newest_modified is None or moment > self.newest_modified:
            self.newest_modified = moment
        return str(value)

    def stale(self, kind: str, origin_id: str, message: str) -> None:
        """A record older than our stored copy: not applied, and the owner is told."""
        self.issue(
            reason=RecordIssue.Reason.REJECTED,
            severity=RecordIssue.Severity.ERROR,
            message=message,
            origin_id=origin_id,
            kind=kind,
            field_path="modified",
        )

    def written(self, kind: str, batch_size: int) -> Iterator[list[Spooled]]:
        """The records to write, in feed order, `batch_size` at a time (read from the spool)."""
        return self.changed[kind].records(batch_size)

    def seen_unchanged(self, kind: str) -> Iterator[str]:
        return (oid for oid, value in self.existing[kind].items() if value >= _SEEN)

    def _issue_for(self, kind: str, origin_id: str, reported: list[str]):
        def report(field_path: str, message: str) -> None:
            reported.append(field_path)
            self.issue(
                reason=RecordIssue.Reason.SANITIZED,
                severity=RecordIssue.Severity.WARNING,
                message=message,
                origin_id=origin_id,
                kind=kind,
                field_path=field_path,
            )

        return report


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
    # Records older than our stored copies: not applied (`recency`).
    stale: int = 0

    def summary(self) -> str:
        reactivated = sum(self.reactivate.values())
        parts = ["complete sync" if self.complete else "partial sync"]
        if reactivated:
            parts.append(f"{reactivated} reactivated")
        if self.stale:
            parts.append(f"{self.stale} stale, older than stored, not applied")
        return "; ".join(parts)

    def skip_stale(self, kind: str, current: int | None) -> None:
        self.stale += 1
        if current == _WITHDRAWN:
            self.reactivate[kind] -= 1


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
        if not existing:  # nothing stored (a first run): every spooled record is new
            plan.create[kind] = len(changed)
        for origin_id in changed.origin_ids() if existing else ():
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
        plan.withdraw[kind] = _fresh_withdrawals(
            source=source, kind=kind, origin_ids=gone, plan=plan, feed=feed
        )
    plan.withdraw_reason = (
        "missing from a complete sync" if feed.complete else "marked withdrawn by the feed"
    )

    to_withdraw = sum(len(ids) for ids in plan.withdraw.values())
    if to_withdraw and not feed.loaded_all:
        # An incremental run read only the rows its feed names: count the rest.
        active_total = sum(
            RECORD_MODELS[kind]
            .objects.filter(source=source)
            .exclude(status=RecordStatus.WITHDRAWN)
            .count()
            for kind in KINDS
        )
    if to_withdraw and active_total:
        share = to_withdraw / active_total
        if share * 100 > source.max_withdrawn_percent:
            plan.hold_reason = (
                f"would withdraw {to_withdraw} of {active_total} records ({share:.0%}), more than "
                f"the guard's {source.max_withdrawn_percent} %; nothing changed"
            )
    return plan


def _fresh_withdrawals(
    *, source: Source, kind: str, origin_ids: list[str], plan: Plan, feed: Feed
) -> list[str]:
    """`origin_ids` without the withdrawals the feed dates older than our stored copy."""
    flagged = feed.flagged_withdrawn[kind]
    dated = [origin_id for origin_id in origin_ids if flagged.get(origin_id)]
    stale: set[str] = set()
    for chunk in _chunks(dated, 5000):
        rows = RECORD_MODELS[kind].objects.filter(source=source, origin_id__in=chunk)
        for origin_id, stored in rows.values_list("origin_id", "origin_modified"):
            message = recency.stale_message(flagged[origin_id], stored)
            if message:
                feed.stale(kind, origin_id, message)
                stale.add(origin_id)
    plan.stale += len(stale)
    return (
        [origin_id for origin_id in origin_ids if origin_id not in stale] if stale else origin_ids
    )


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
    organizations: dict[str, int] = {}
    # pks as 8-byte machine ints, not a list of int objects (~36 bytes each): a first sync
    # of 200k services writes ~460k rows.
    changes: dict[str, dict[str, array[int]]] = {}
    created_pks: dict[str, array[int]] = {}
    for kind in KINDS:
        model = RECORD_MODELS[kind]
        upserted = array("q")
        created_pks[kind] = array("q")
        fields_to_update = _update_fields(model)
        # Before the rewrites below, which carry their own fingerprint.
        _store_fingerprints(source=source, model=model, fingerprints=feed.refingerprinted[kind])
        for batch in feed.written(kind, BATCH_SIZE):
            if kind != "organization":
                _add_organizations(source=source, organizations=organizations, batch=batch)
            existing = feed.existing[kind]
            known = [origin_id for origin_id, *_rest in batch if origin_id in existing]
            stored = (
                {
                    origin_id: (pk, modified)
                    for origin_id, pk, modified in model.objects.filter(
                        source=source, origin_id__in=known
                    ).values_list("origin_id", "pk", "origin_modified")
                }
                if known
                else {}
            )
            new_rows: list[dict[str, Any]] = []
            changed_rows: list[dict[str, Any]] = []
            for origin_id, content_hash, fingerprint, data in batch:
                pk, stored_modified = stored.get(origin_id, (None, ""))
                stale = pk is not None and recency.stale_message(
                    data.get("modified"), stored_modified
                )
                if stale:
                    feed.stale(kind, origin_id, stale)
                    plan.skip_stale(kind, existing.get(origin_id))
                    continue
                fields = _fields(kind, data, organizations, run)
                if pk is None:
                    new_rows.append(
                        {
                            "source_id": source.pk,
                            "origin_id": origin_id,
                            "content_hash": content_hash,
                            "raw_fingerprint": fingerprint,
                            "status": RecordStatus.ACTIVE,
                            "first_seen_at": now,
                            "last_seen_at": now,
                            "synced_at": now,
                            **fields,
                        }
                    )
                else:
                    changed_rows.append(
                        {
                            "id": pk,
                            "content_hash": content_hash,
                            "raw_fingerprint": fingerprint,
                            "status": RecordStatus.ACTIVE,
                            "withdrawn_at": None,
                            "withdrawn_reason": "",
                            "last_seen_at": now,
                            "synced_at": now,
                            **fields,
                        }
                    )
            new_pks = _insert_records(model=model, source=source, rows=new_rows)
            _update_rows(model, changed_rows, fields_to_update)
            created += len(new_rows)
            updated += len(changed_rows)
            if kind == "service":
                _replace_service_children(
                    [(new_pks[row["origin_id"]], row) for row in new_rows],
                    [(row["id"], row) for row in changed_rows],
                )
            upserted.extend(new_pks[row["origin_id"]] for row in new_rows)
            upserted.extend(row["id"] for row in changed_rows)
            created_pks[kind].extend(new_pks.values())
            gc.collect(1)  # the cyclic collector is paused (`_cyclic_gc_paused`)

        withdrawn_pks = array("q")
        for chunk in _chunks(plan.withdraw[kind], 5000):
            live = model.objects.filter(source=source, origin_id__in=chunk).exclude(
                status=RecordStatus.WITHDRAWN
            )
            rows_now = list(live.values_list("pk", "origin_id"))
            pks_now = [pk for pk, _origin_id in rows_now]
            withdrawn += model.objects.filter(pk__in=pks_now).update(
                status=RecordStatus.WITHDRAWN,
                withdrawn_at=now,
                withdrawn_reason=plan.withdraw_reason,
                synced_at=now,
            )
            _store_withdrawal_times(model, rows_now, feed.flagged_withdrawn[kind])
            withdrawn_pks.extend(sorted(pks_now))
        changes[kind] = {"upserted": upserted, "withdrawn": withdrawn_pks}

    if created or updated:
        _link_services_and_channels(
            source=source,
            services=changes["service"]["upserted"],
            channels=changes["channel"]["upserted"],
            created_services=created_pks["service"],
            created_channels=created_pks["channel"],
        )
        _resolve_organizations(source=source, organizations=changes["organization"]["upserted"])
    _mark_seen(source=source, plan=plan, feed=feed, now=now)
    if created or updated or withdrawn:
        records_changed.send(sender=Source, source=source, run=run, changes=changes)
        written = {
            RECORD_MODELS[kind]: len(pks["upserted"]) + len(pks["withdrawn"])
            for kind, pks in changes.items()
        }
        # After the commit (ANALYZE sees only committed rows); a failure is logged, not
        # raised: the run has succeeded.
        transaction.on_commit(lambda: refresh_statistics(written), robust=True)
    return {
        "created": created,
        "updated": updated,
        "unchanged": plan.unchanged,
        "withdrawn": withdrawn,
        "rejected": plan.rejected + plan.stale,
    }


def _store_withdrawal_times(
    model: type[models.Model], rows: list[tuple[int, str]], flagged: dict[str, str]
) -> None:
    """The feed's timestamp of a withdrawal becomes the row's, so an older copy replayed
    later does not bring the record back (newest wins)."""
    dated = [
        {"id": pk, "origin_modified": flagged[origin_id][:40]}
        for pk, origin_id in rows
        if flagged.get(origin_id)
    ]
    _update_rows(model, dated, ["origin_modified"])


def _add_organizations(
    *, source: Source, organizations: dict[str, int], batch: list[Spooled]
) -> None:
    """The pks of the organisations a batch names that are not in `organizations` yet."""
    wanted = {
        str(data.get("organization_origin_id"))
        for *_rest, data in batch
        if data.get("organization_origin_id")
    } - organizations.keys()
    if wanted:
        organizations.update(
            Organization.objects.filter(source=source, origin_id__in=sorted(wanted)).values_list(
                "origin_id", "pk"
            )
        )


def _store_fingerprints(
    *, source: Source, model: type[models.Model], fingerprints: dict[str, int | None]
) -> None:
    """New fingerprints of unchanged rows: one column, no `synced_at`, no change signal."""
    for chunk in _chunks(list(fingerprints.items()), BATCH_SIZE):
        pks = dict(
            model.objects.filter(
                source=source, origin_id__in=[origin_id for origin_id, _f in chunk]
            ).values_list("origin_id", "pk")
        )
        model.objects.bulk_update(
            [
                model(pk=pks[origin_id], raw_fingerprint=fp)
                for origin_id, fp in chunk
                if origin_id in pks
            ],
            ["raw_fingerprint"],
        )


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


def _insert_records(
    *, model: type[models.Model], source: Source, rows: list[dict[str, Any]]
) -> dict[str, int]:
    """Inserts new record rows and returns {origin_id: pk}."""
    if not rows:
        return {}
    if connection.vendor == "postgresql":
        # Ids drawn from the table's own sequence first, so the rows need no lookup after
        # the COPY (at 200k that lookup was an index probe per row on a cold index).
        ids = _next_ids(model, len(rows))
        rows = [{**row, "id": pk} for row, pk in zip(rows, ids, strict=True)]
        _insert_rows(model, rows)
        return {row["origin_id"]: row["id"] for row in rows}
    _insert_rows(model, rows)
    return dict(
        model.objects.filter(
            source=source, origin_id__in=[row["origin_id"] for row in rows]
        ).values_list("origin_id", "pk")
    )


def _next_ids(model: type[models.Model], count: int) -> list[int]:
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """New rows (values by field attname; missing ones take the field's default; the pk
    only when every row has one) with one COPY on PostgreSQL: Django's bulk INSERT there
    binds UNNEST arrays client-side and escapes every JSON text of them with a regex, which
    was most of a full sync's time."""
    if not rows:
        return
    with_ids = "id" in rows[0]
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
        return
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = []
            for name, default in defaults.items():
                value = row.get(name, default)
                if name in json_fields and value is not None:
                    value = orjson.dumps(value).decode()
                values.append(value)
            copy.write_row(values)


def _copy_value(value: Any, *, json: bool) -> Any:
    return orjson.dumps(value).decode() if json and value is not None else value


def _update_rows(model: type[models.Model], rows: list[dict[str, Any]], names: list[str]) -> None:
    """Rewrites the fields `names` of existing rows (values by attname, "id" included). On
    PostgreSQL: COPY into a temporary table, then one UPDATE … FROM (Django's bulk_update
    builds a CASE per field and row: seconds for a few hundred rows)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update([model(**row) for row in rows], names, batch_size=BATCH_SIZE)
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    table = quote(model._meta.db_table)
    # One staging table per model and set of columns (a withdrawal rewrites one column).
    columns_key = zlib.crc32(",".join(names).encode())
    staging = quote(f"pesa_sync_{model._meta.db_table}_{columns_key:08x}")
    columns = [quote(f.column) for f in fields]
    with connection.cursor() as cursor:
        # Dropped when the run's transaction ends; emptied for each batch.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT id, {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {staging}")
        with cursor.cursor.copy(f"COPY {staging} (id, {', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        row["id"],
                        *(
                            _copy_value(
                                row.get(f.attname, f.get_default()),
                                json=isinstance(f, models.JSONField),
                            )
                            for f in fields
                        ),
                    ]
                )
        assignments = ", ".join(f"{column} = s.{column}" for column in columns)
        cursor.execute(
            f"UPDATE {table} t SET {assignments} FROM {staging} s WHERE t.id = s.id"  # noqa: S608
        )


def _replace_service_children(
    services: list[tuple[int, dict[str, Any]]], rewritten: list[tuple[int, dict[str, Any]]]
) -> None:
    """Area and code rows of the services written in this run (only those; a service
    created in this run has none yet). Each service is (pk, its field values). A rewritten
    service keeps the rows it still wants: most changes (a description) touch none."""
    areas: list[tuple[int, str, str]] = []
    codes: list[tuple[int, str, str]] = []
    for pk, service in (*services, *rewritten):
        seen_areas: set[tuple[str, str]] = set()
        if service["nationwide"]:
            seen_areas.add((ServiceArea.Kind.NATIONWIDE, ServiceArea.NATIONWIDE))
        seen_areas.update(
            (ServiceArea.Kind.MUNICIPALITY, str(c)[:3]) for c in service["municipality_codes"]
        )
        seen_areas.update((ServiceArea.Kind.COUNTY, str(c)[:3]) for c in service["county_codes"])
        areas.extend((pk, k, c) for k, c in sorted(seen_areas))
        seen_codes: set[tuple[str, str]] = set()
        for scheme, values in (
            (ServiceCode.Scheme.TARGET_GROUP, service["target_groups"]),
            (ServiceCode.Scheme.LIFE_EVENT, service["life_events"]),
            (ServiceCode.Scheme.SERVICE_CLASS, service["service_classes"]),
        ):
            seen_codes.update((scheme, str(v)[:20]) for v in values)
        codes.extend((pk, s, c) for s, c in sorted(seen_codes))
    rewritten_pks = [pk for pk, _fields in rewritten]
    for model, wanted, names in (
        (ServiceArea, areas, ("service_id", "kind", "code")),
        (ServiceCode, codes, ("service_id", "scheme", "code")),
    ):
        if rewritten_pks:
            current = {
                tuple(row[1:]): row[0]
                for row in model.objects.filter(service_id__in=rewritten_pks).values_list(
                    "pk", *names
                )
            }
            wanted_keys = set(wanted)
            stale = [pk for key, pk in current.items() if key not in wanted_keys]
            if stale:
                model.objects.filter(pk__in=stale).delete()
            wanted = [key for key in wanted if key not in current]
        _insert_rows(model, [dict(zip(names, key, strict=True)) for key in wanted])


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


@dataclass(frozen=True)
class _LinkSide:
    """One side of the service–channel links: its records name the other side's records."""

    model: type[models.Model]
    listed_field: str  # JSON list of the other side's origin ids
    link_field: str  # this side's column in ServiceChannel


_SERVICES = _LinkSide(model=Service, listed_field="channel_origin_ids", link_field="service_id")
_CHANNELS = _LinkSide(model=Channel, listed_field="service_origin_ids", link_field="channel_id")


def _link_services_and_channels(
    *,
    source: Source,
    services: Sequence[int],
    channels: Sequence[int],
    created_services: Sequence[int],
    created_channels: Sequence[int],
) -> None:
    """Links from both sides of the feed, within the source, for the records written in this
    run only (a link between two unwritten records cannot have changed); only differences
    are written. Works in chunks, so memory does not grow with the source.

    A link is wanted when either record names the other. The written records' own lists
    and the rows at the other end of their current links show all but one case: an unwritten
    record naming a record created in this run, which one pass per side looks up."""
    for side, other, written, other_written, created in (
        (_SERVICES, _CHANNELS, services, channels, created_services),
        (_CHANNELS, _SERVICES, channels, services, created_channels),
    ):
        named_by_unwritten = _named_by_unwritten(
            source=source, side=side, other=other, created=created, other_written=other_written
        )
        for chunk in _chunks(sorted(written), LINK_CHUNK):
            _relink(source=source, side=side, other=other, pks=chunk, named_by=named_by_unwritten)


def _named_by_unwritten(
    *,
    source: Source,
    side: _LinkSide,
    other: _LinkSide,
    created: Sequence[int],
    other_written: Sequence[int],
) -> dict[int, set[int]]:
    """{pk of a record created in this run: pks of unwritten `other` records naming it}."""
    found: dict[int, set[int]] = {}
    if not created:
        return found
    if other.model.objects.filter(source=source).count() <= len(other_written):
        return found  # every record of the other side was written: their own lists suffice
    skip = set(other_written)
    for chunk in _chunks(sorted(created), 5000):
        pk_of = dict(side.model.objects.filter(pk__in=chunk).values_list("origin_id", "pk"))
        for other_pk, origin_id in _listing(other.model, other.listed_field, source, list(pk_of)):
            if other_pk not in skip:
                found.setdefault(pk_of[origin_id], set()).add(other_pk)
    return found


def _relink(
    *,
    source: Source,
    side: _LinkSide,
    other: _LinkSide,
    pks: list[int],
    named_by: dict[int, set[int]],
) -> None:
    rows = list(
        side.model.objects.filter(pk__in=pks).values_list("pk", "origin_id", side.listed_field)
    )
    names = {str(name) for _pk, _oid, listed in rows for name in listed or []}
    other_pks = _pks_of(other.model, source, names)
    wanted: set[tuple[int, int]] = set()  # (this side's pk, the other side's pk)
    for pk, _oid, listed in rows:
        wanted.update((pk, other_pks[str(name)]) for name in listed or [] if str(name) in other_pks)
        wanted.update((pk, other_pk) for other_pk in named_by.get(pk, ()))
    existing = {
        (mine, theirs): link_pk
        for link_pk, mine, theirs in ServiceChannel.objects.filter(
            **{f"{side.link_field}__in": pks}
        ).values_list("pk", side.link_field, other.link_field)
    }
    doubtful = {theirs for mine, theirs in existing if (mine, theirs) not in wanted}
    if doubtful:
        # A current link this side no longer names stays if the other end still names it.
        origin_of = {pk: origin_id for pk, origin_id, _listed in rows}
        naming = dict(
            other.model.objects.filter(pk__in=sorted(doubtful)).values_list(
                "pk", other.listed_field
            )
        )
        for mine, theirs in existing:
            listed = naming.get(theirs)
            if (
                (mine, theirs) not in wanted
                and isinstance(listed, list)
                and origin_of[mine] in {str(name) for name in listed}
            ):
                wanted.add((mine, theirs))
    stale = [link_pk for pair, link_pk in existing.items() if pair not in wanted]
    if stale:
        ServiceChannel.objects.filter(pk__in=stale).delete()
    missing = sorted(wanted - set(existing))
    _insert_rows(
        ServiceChannel,
        [{side.link_field: mine, other.link_field: theirs} for mine, theirs in missing],
    )


def _pks_of(model: type[models.Model], source: Source, origin_ids: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(origin_ids), 5000):
        found.update(
            model.objects.filter(source=source, origin_id__in=chunk).values_list("origin_id", "pk")
        )
    return found


def _resolve_organizations(*, source: Source, organizations: Sequence[int]) -> None:
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
