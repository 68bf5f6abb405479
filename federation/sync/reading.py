"""Reading a feed: what one run read, diffed record by record against what is stored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.conf import settings

from federation.models import RecordIssue, Source
from federation.sync import recency
from federation.sync.gc_pause import collect_young
from federation.sync.pool import NOT_PARSED, Prepared
from federation.sync.records import KINDS, RECORD_MODELS, content_hash, sanitized
from federation.sync.records import origin_id as _origin_id
from federation.sync.spool import Spool, Spooled
from federation.sync.stored_index import StoredIndex
from importers.base import Importer, ParsedRecord, RawItem, RecordError

# Records looked up at a time in an incremental run, which reads only the rows it lists.
LOOKUP_BATCH = 500
# The stored index's layout as module globals: the read loop looks them up once per item,
# and a global is a cheaper lookup than a class attribute.
_SEEN = StoredIndex.SEEN
_WITHDRAWN = StoredIndex.WITHDRAWN
_MASK64 = StoredIndex.MASK64
_short_hash = StoredIndex.short_hash
_stored_hash = StoredIndex.stored_hash
_stored_fingerprint = StoredIndex.stored_fingerprint
_holds_fingerprint = StoredIndex.holds_fingerprint


@dataclass
class FeedRead:
    """What one run read from its source's feed, per record kind, kept small so memory stays
    flat in the feed's size (the source's feed is the document; this is the run's reading of it).

    `existing` is the index of the stored rows (`StoredIndex`, one small int per row): a full
    run loads the whole source first (it must know what the feed no longer lists), an
    incremental run looks up only the rows its feed names, a batch at a time. Reading then
    keeps, per record: nothing more for an unchanged one (a bit is set on its existing
    entry); for a new, changed or reactivated one, its line in a per-kind spool file (orjson
    lines, on disk) where its data waits for the write phase, and 16 bytes of that spool's
    index (`Spool`).
    A raw item whose fingerprint matches the stored one is not even parsed. Nothing is
    written to the database while reading.
    """

    source: Source
    existing: StoredIndex = field(default_factory=StoredIndex)
    # True once `existing` holds the whole source (full runs).
    loaded_all: bool = False
    # The new, changed or reactivated records, spooled (the last occurrence wins).
    changed: dict[str, Spool] = field(default_factory=lambda: {k: Spool(k) for k in KINDS})
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
        self.existing.load_all(self.source)
        self.loaded_all = True

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
                self.existing.look_up(self.source, batch)
            for item in batch:
                count += 1
                collect_young(count)
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
        if _holds_fingerprint(current, raw.fingerprint) and (origin_id not in self.changed[kind]):
            self.skipped += 1
            self.flagged_withdrawn[kind].pop(origin_id, None)
            if current < _SEEN:
                self.valid_count += 1
                existing[origin_id] = current + _SEEN
            return
        if raw.item is NOT_PARSED:
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
            record_hash = content_hash(data)
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
        report = self._issue_for(
            kind,
            origin_id,
            [],
            reason=RecordIssue.Reason.REJECTED,
            severity=RecordIssue.Severity.ERROR,
        )
        report("modified", message)

    def written(self, kind: str, batch_size: int) -> Iterator[list[Spooled]]:
        """The records to write, in feed order, `batch_size` at a time (read from the spool)."""
        return self.changed[kind].records(batch_size)

    def _issue_for(
        self,
        kind: str,
        origin_id: str,
        reported: list[str],
        *,
        reason: str = RecordIssue.Reason.SANITIZED,
        severity: str = RecordIssue.Severity.WARNING,
    ):
        """A function that records an issue of a field of this record (by default: sanitised)
        and notes the field in `reported`."""

        def report(field_path: str, message: str) -> None:
            reported.append(field_path)
            self.issue(reason=reason, severity=severity, message=message,
                       origin_id=origin_id, kind=kind, field_path=field_path)  # fmt: skip

        return report
