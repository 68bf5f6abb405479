"""The sync engine's layout (federation/sync/): one entry point, one owner of the packed
stored-row layout, shared by the run and the parsing pool, and modules of readable size."""

from __future__ import annotations

from pathlib import Path

import pytest

import federation.sync
from federation.models import RecordStatus
from federation.sync import orchestration, pool
from federation.sync.stored_index import StoredIndex
from importers.base import RawItem

HASH = "89abcdef01234567" + "f" * 48
FINGERPRINT = (1 << 64) - 3  # uses the top bit: the layout must keep all 64


def test_sync_source_is_the_package_entry_point():
    assert federation.sync.sync_source is orchestration.sync_source
    assert federation.sync.__all__ == ["sync_source"]


def test_a_stored_entry_keeps_the_short_hash_and_the_fingerprint_apart():
    entry = StoredIndex.entry(HASH, FINGERPRINT, RecordStatus.ACTIVE)

    assert StoredIndex.stored_hash(entry) == int(HASH[:16], 16)
    assert StoredIndex.stored_fingerprint(entry) == FINGERPRINT
    assert StoredIndex.stored_fingerprint(entry + StoredIndex.SEEN) == FINGERPRINT
    assert StoredIndex.entry(HASH, FINGERPRINT, RecordStatus.WITHDRAWN) == StoredIndex.WITHDRAWN
    assert StoredIndex.short_hash("not hex") == 0


@pytest.mark.parametrize(
    ("status", "fingerprint", "seen", "skipped"),
    [
        (RecordStatus.ACTIVE, FINGERPRINT, False, True),
        (RecordStatus.ACTIVE, FINGERPRINT, True, True),
        (RecordStatus.ACTIVE, FINGERPRINT - 1, False, False),
        (RecordStatus.ACTIVE, 0, False, False),
        (RecordStatus.WITHDRAWN, FINGERPRINT, False, False),
        (None, FINGERPRINT, False, False),
    ],
)
def test_the_parsing_pool_skips_exactly_the_items_the_stored_index_holds(
    status, fingerprint, seen, skipped
):
    stored = StoredIndex()
    if status is not None:
        entry = StoredIndex.entry(HASH, FINGERPRINT, status)
        stored["service"]["s-1"] = entry + StoredIndex.SEEN if seen else entry
    raw = RawItem(kind="service", source_id=" s-1 ", fingerprint=fingerprint, item=None)

    assert pool.unchanged(stored, raw) is skipped
    assert StoredIndex.holds_fingerprint(stored["service"].get("s-1"), fingerprint) is skipped


def test_no_module_of_the_sync_engine_passes_400_lines():
    package = Path(federation.sync.__file__).parent
    lengths = {path.name: len(path.read_text().splitlines()) for path in package.glob("*.py")}

    assert {name: n for name, n in lengths.items() if n > 400} == {}
