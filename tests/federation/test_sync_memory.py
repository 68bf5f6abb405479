"""Memory of a run stays flat in the feed's size: what reading keeps per record, and the
spool index that replaced a dict of origin ids (exact even when ids share a hash)."""

import tracemalloc

import pytest

from federation.models import RecordIssue, Service, SyncRun
from federation.sync import spool as spool_module
from federation.sync.reading import FeedRead
from federation.sync.spool import Spool
from importers.base import ParsedRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def colliding_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every origin id hashes alike: only the spooled lines can tell them apart."""
    monkeypatch.setattr(spool_module, "id_hash", lambda origin_id: 7)


def statuses(source):
    return dict(Service.objects.filter(source=source).values_list("origin_id", "status"))


def test_reading_a_first_full_feed_keeps_a_few_bytes_per_new_record(source):
    feed = FeedRead(source=source)
    feed.loaded_all = True  # a first full run: nothing stored, nothing to look up
    count = 20_000
    records = (
        ParsedRecord(kind="service", source_id=f"service-{n:08d}", data={"name": {"fi": f"P {n}"}})
        for n in range(count)
    )
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        feed.read(records, importer=None, keep_alive=lambda: None)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        feed.close()

    assert len(feed.changed["service"]) == count
    # A dict of origin ids to offsets kept about 150 bytes a record.
    assert kept / count < 48


def test_the_spool_keeps_the_last_copy_of_each_record_in_feed_order(colliding_ids):
    spool = Spool("service")
    try:
        spool.add("a", "h1", None, {"n": 1})
        spool.add("b", "h2", 5, b'{"n":2}')
        spool.add("a", "h3", None, {"n": 3})
        spool.add("c", "h4", None, {"n": 4})
        spool.pop("c")
        spool.add("d", "h5", None, {"n": 5})
        spool.pop("d")
        spool.add("d", "h6", None, {"n": 6})

        assert ("a" in spool, "c" in spool, "x" in spool) == (True, False, False)
        assert len(spool) == 3
        assert spool.last("a") == ["a", "h3", None, {"n": 3}]
        assert spool.last("c") is None
        assert list(spool.origin_ids()) == ["b", "a", "d"]
        assert [record for batch in spool.records(2) for record in batch] == [
            ("b", "h2", 5, {"n": 2}),
            ("a", "h3", None, {"n": 3}),
            ("d", "h6", None, {"n": 6}),
        ]
    finally:
        spool.close()


def test_the_spool_index_grows_past_its_first_table():
    spool = Spool("channel")
    ids = [f"channel-{n}" for n in range(3 * Spool.MIN_SLOTS)]
    try:
        for origin_id in ids:
            spool.add(origin_id, "h", None, {})
        for origin_id in ids[::2]:
            spool.pop(origin_id)

        assert len(spool) == len(ids) // 2
        assert list(spool.origin_ids()) == ids[1::2]
    finally:
        spool.close()


def test_a_sync_with_colliding_id_hashes_keeps_duplicates_and_withdrawals_exact(
    source, feed, sync, colliding_ids
):
    feed.services(*"abdefghijk")
    sync(source)
    feed.items = [
        {"id": "a", "name": "Palvelu a"},
        {"id": "a", "withdrawn": True},
        {"id": "b", "withdrawn": True},
        {"id": "b", "name": "Uusi b"},
        {"id": "c", "name": "C"},
        {"id": "c", "name": "C2"},
        {"id": "d", "name": "Uusi d"},
        {"id": "d", "name": "Palvelu d"},
    ]

    run = sync(source, full=False)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert {k: v for k, v in statuses(source).items() if k in "abcd"} == {
        "a": "withdrawn",
        "b": "active",
        "c": "active",
        "d": "active",
    }
    assert (run.created, run.updated, run.withdrawn) == (1, 1, 1)
    assert Service.objects.get(origin_id="b").name == {"fi": "Uusi b"}
    assert Service.objects.get(origin_id="c").name == {"fi": "C2"}
    assert Service.objects.get(origin_id="d").name == {"fi": "Palvelu d"}
    duplicates = run.issues.filter(reason=RecordIssue.Reason.DUPLICATE)
    assert set(duplicates.values_list("origin_id", flat=True)) == {"c", "d"}


def test_a_complete_sync_with_colliding_id_hashes_withdraws_only_what_is_missing(
    source, feed, sync, colliding_ids
):
    feed.services(*"abcdefghij")
    sync(source)
    feed.services(*"abcdefghi", "k", b="Uusi b")

    run = sync(source)

    assert (run.created, run.updated, run.unchanged, run.withdrawn) == (1, 1, 8, 1)
    assert statuses(source)["j"] == "withdrawn"
    assert Service.objects.get(origin_id="b").name == {"fi": "Uusi b"}
