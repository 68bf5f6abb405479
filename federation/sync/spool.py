"""A run's new, changed or reactivated records of one kind, on disk until they are written."""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Iterator
from typing import Any

import orjson

# A spooled record: origin id, content hash, raw fingerprint, data.
Spooled = tuple[str, str, int | None, dict[str, Any]]
# The index's keys are 8-byte unsigned ints (array "Q").
KEY_MASK = (1 << 64) - 1


class Spool:
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
            slot = self._free_slot(id_hash(origin_id))
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
            origin_id = spooled_origin_id(line)
            if self._is_live(origin_id, offset):
                yield origin_id

    def records(self, batch_size: int) -> Iterator[list[Spooled]]:
        """The live records, in feed order, `batch_size` at a time."""
        batch: list[Spooled] = []
        for offset, line in self._lines():
            if not self._is_live(spooled_origin_id(line), offset):
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
        key = id_hash(origin_id)
        mask = len(self.keys) - 1
        slot = key & mask
        while self.keys[slot]:
            if self.keys[slot] == key:
                offset = self.offsets[slot]
                line = self._line(offset if offset >= 0 else -offset - 1)
                if spooled_origin_id(line) == origin_id:
                    return slot
            slot = (slot + 1) & mask
        return -1

    def _is_live(self, origin_id: str, offset: int) -> bool:
        """Whether the line at `offset` (of `origin_id`) is its record's last copy: no read,
        a slot holding exactly this offset was written for this very line."""
        key = id_hash(origin_id)
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


def id_hash(origin_id: str) -> int:
    """A non-zero 64-bit hash of an origin id (this process's `hash`, cached on the str)."""
    return (hash(origin_id) & KEY_MASK) or 1


def spooled_origin_id(line: bytes) -> str:
    """The origin id at the head of a spooled line, without parsing its data: the first
    element is a JSON string of at most 255 characters (6 bytes each when escaped)."""
    head = line[:1600].decode(errors="ignore")
    return json.decoder.scanstring(head, 2)[0]
