"""The index of a source's stored records that a run diffs against: one small int per row.

A run keeps no model instance of a stored row, only its entry here. A full run loads the
whole source first (it must know what the feed no longer lists); an incremental run looks
up only the rows its feed names, a batch at a time. The parsing pool's forked workers read
the same entries (`pool.unchanged`); `StoredIndex` alone knows how an entry is packed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from federation.models import RecordStatus, Source
from federation.sync.records import KINDS, RECORD_MODELS
from federation.sync.records import origin_id as _origin_id
from importers.base import ParsedRecord, RawItem, RecordError


class StoredIndex(dict[str, dict[str, int]]):
    """Per record kind, origin id -> the row's entry: the first 64 bits of its content hash,
    its raw fingerprint in the next 64, plus `SEEN` once the feed listed it unchanged; or
    `WITHDRAWN` for a withdrawn row. This class owns that layout."""

    __slots__ = ()

    # The entry of a withdrawn row: it is rewritten when the record reappears.
    WITHDRAWN = -1
    MASK64 = (1 << 64) - 1
    # Added to an entry once the feed listed its row unchanged.
    SEEN = 1 << 128

    def __init__(self) -> None:
        super().__init__({kind: {} for kind in KINDS})

    @staticmethod
    def short_hash(content_hash: str) -> int:
        """The first 64 bits of a content hash, as a small int: enough to spot a change.
        0 stands for "unknown" and never matches."""
        try:
            return int(content_hash[:16], 16)
        except ValueError:
            return 0

    @staticmethod
    def entry(content_hash: str, fingerprint: int | None, status: str) -> int:
        """A stored row as one int: 64 bits of its content hash, then its raw fingerprint."""
        if status == RecordStatus.WITHDRAWN:
            return _WITHDRAWN
        return _short_hash(content_hash) | ((fingerprint or 0) & _MASK64) << 64

    @staticmethod
    def stored_hash(entry: int) -> int:
        return entry & _MASK64

    @staticmethod
    def stored_fingerprint(entry: int) -> int:
        return (entry >> 64) & _MASK64

    @staticmethod
    def holds_fingerprint(entry: int | None, fingerprint: int) -> bool:
        """True when `entry` is a live row stored with this (non-zero) raw fingerprint:
        parsing its item again would change nothing."""
        return (
            entry is not None
            and entry != _WITHDRAWN
            and (entry >> 64) & _MASK64 == fingerprint & _MASK64
            and fingerprint != 0
        )

    def load_all(self, source: Source) -> None:
        """Every row of the source (full runs)."""
        for kind in KINDS:
            self[kind] = dict(self._rows(source, kind, None))

    def look_up(
        self, source: Source, items: Iterable[RawItem | ParsedRecord | RecordError]
    ) -> None:
        """Loads the stored rows of a batch's records that are not known yet."""
        wanted: dict[str, set[str]] = {}
        for item in items:
            if isinstance(item, RecordError) or item.kind not in RECORD_MODELS:
                continue
            origin_id = _origin_id(item.source_id)
            if origin_id not in self[item.kind]:
                wanted.setdefault(item.kind, set()).add(origin_id)
        for kind, origin_ids in wanted.items():
            self[kind].update(self._rows(source, kind, sorted(origin_ids)))

    def seen_unchanged(self, kind: str) -> Iterator[str]:
        """The origin ids of `kind` the feed listed unchanged."""
        return (oid for oid, value in self[kind].items() if value >= self.SEEN)

    def _rows(
        self, source: Source, kind: str, origin_ids: list[str] | None
    ) -> Iterator[tuple[str, int]]:
        rows = RECORD_MODELS[kind].objects.filter(source=source)
        if origin_ids is not None:
            rows = rows.filter(origin_id__in=origin_ids)
        for origin_id, content_hash, fingerprint, status in rows.values_list(
            "origin_id", "content_hash", "raw_fingerprint", "status"
        ).iterator(chunk_size=5000):
            yield origin_id, self.entry(content_hash, fingerprint, status)


# Module globals for the methods above, which run once per feed item: a global is a cheaper
# lookup than a class attribute. The layout itself is the class's.
_WITHDRAWN = StoredIndex.WITHDRAWN
_MASK64 = StoredIndex.MASK64
_short_hash = StoredIndex.short_hash
