"""Skipping unchanged raw items: what the sync engine parses when an importer fingerprints
its items (importers/base.py, `raw_items` / `parse_raw`), and what it must still parse."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from federation.models import Service, ServiceChannel, SyncRun
from federation.sync import sync_source
from importers.base import ParsedRecord, RawItem, RecordError
from tests.factories.federation import SourceFactory
from tests.federation.conftest import FingerprintedListImporter

pytestmark = pytest.mark.django_db

FORMAT = "test-fingerprinted"
RECORD_TABLES = ("federation_service", "federation_organization", "federation_channel")


class FingerprintingImporter(FingerprintedListImporter):
    """The fingerprinted test list format; `parsed` names every item parsed."""

    format = FORMAT
    parsed: list[str] = []

    def parse_raw(self, raw: RawItem) -> ParsedRecord | RecordError:
        self.parsed.append(raw.item["id"])
        return super().parse_raw(raw)


@pytest.fixture
def importer(monkeypatch: pytest.MonkeyPatch) -> type[FingerprintingImporter]:
    from importers import registry

    monkeypatch.setitem(registry.IMPORTERS, FORMAT, FingerprintingImporter)
    monkeypatch.setattr(FingerprintingImporter, "parsed", [])
    return FingerprintingImporter


@pytest.fixture
def source(importer):
    return SourceFactory(format=FORMAT, url="https://feeds.example.org/services.json")


def row_versions():
    """PostgreSQL's xmin changes whenever a row is written."""
    with connection.cursor() as cursor:
        return {
            table: cursor.execute(f"SELECT id, xmin::text FROM {table} ORDER BY id").fetchall()  # noqa: S608
            for table in RECORD_TABLES
        }


def services(*ids: str, **names: str) -> list[dict[str, Any]]:
    return [{"id": i, "name": names.get(i, f"Palvelu {i}")} for i in ids]


def test_an_unchanged_item_is_not_parsed_and_nothing_is_written(source, feed, sync, importer):
    feed.items = services("a", "b", "c")
    sync(source)
    versions = row_versions()
    importer.parsed.clear()

    run = sync(source)

    assert importer.parsed == []
    assert (run.outcome, run.created, run.updated, run.unchanged) == ("succeeded", 0, 0, 3)
    assert row_versions() == versions, "no record row was rewritten"


def test_only_the_changed_item_is_parsed(source, feed, sync, importer):
    feed.items = services("a", "b", "c")
    sync(source)
    importer.parsed.clear()

    feed.items = services("a", "b", "c", b="Uusi nimi")
    run = sync(source)

    assert importer.parsed == ["b"]
    assert (run.created, run.updated, run.unchanged) == (0, 1, 2)
    assert Service.objects.get(origin_id="b").name == {"fi": "Uusi nimi"}


def test_an_importer_version_bump_parses_every_item_again_and_rewrites_nothing_else(
    source, feed, sync, importer, monkeypatch
):
    feed.items = services("a", "b")
    sync(source)
    before = dict(Service.objects.values_list("origin_id", "raw_fingerprint"))
    synced_at = dict(Service.objects.values_list("origin_id", "synced_at"))
    importer.parsed.clear()

    monkeypatch.setattr(importer, "version", importer.version + 1)
    run = sync(source)

    assert sorted(importer.parsed) == ["a", "b"]
    assert (run.created, run.updated, run.unchanged) == (0, 0, 2)
    after = dict(Service.objects.values_list("origin_id", "raw_fingerprint"))
    assert all(after[oid] != before[oid] for oid in before), "new fingerprints are stored"
    assert dict(Service.objects.values_list("origin_id", "synced_at")) == synced_at
    importer.parsed.clear()
    sync(source)
    assert importer.parsed == [], "the next run skips again"


def test_a_record_rejected_last_time_is_parsed_again(source, feed, sync, importer):
    feed.items = [*services("a", "b"), {"id": "c", "invalid": "missing name"}]
    first = sync(source)
    assert first.rejected == 1
    importer.parsed.clear()

    run = sync(source)

    assert importer.parsed == ["c"]
    assert run.issues.filter(origin_id="c", severity="error", message="missing name").exists()


def test_a_record_whose_new_version_was_rejected_is_retried_and_keeps_what_we_hold(
    source, feed, sync, importer
):
    feed.items = services("a", "b")
    sync(source)
    feed.items = [*services("a"), {"id": "b", "invalid": "missing name"}]
    sync(source)
    importer.parsed.clear()

    run = sync(source)

    assert importer.parsed == ["b"]
    assert (run.rejected, run.withdrawn) == (1, 0)
    assert Service.objects.get(origin_id="b").name == {"fi": "Palvelu b"}


def test_a_repaired_record_is_parsed_and_reported_on_every_run(source, feed, sync, importer):
    feed.items = [*services("a"), {"id": "b", "data": {"name": {"fi": "B"}, "url": "ftp://x"}}]
    sync(source)
    importer.parsed.clear()

    run = sync(source)

    assert importer.parsed == ["b"]
    assert run.issues.filter(origin_id="b", reason="sanitized", field_path="url").exists()
    assert (run.updated, run.unchanged) == (0, 2)


def test_a_withdrawn_record_that_reappears_unchanged_is_parsed_and_reactivated(
    source, feed, sync, importer
):
    feed.items = services(*"abcdefghij")
    sync(source)
    feed.items = services(*"abcdefghi")
    sync(source)
    importer.parsed.clear()

    feed.items = services(*"abcdefghij")
    run = sync(source)

    assert importer.parsed == ["j"]
    assert (run.updated, run.unchanged) == (1, 9)
    assert Service.objects.get(origin_id="j").status == "active"


def test_an_unchanged_item_listed_as_withdrawn_is_withdrawn(source, feed, sync, importer):
    feed.items = services(*"abcdefghij")
    sync(source)

    feed.items = [{"id": "b", "withdrawn": True}]
    run = sync(source, full=False)

    assert run.withdrawn == 1
    assert Service.objects.get(origin_id="b").status == "withdrawn"


def test_an_unchanged_full_re_run_touches_the_record_tables_six_times(source, feed, sync, importer):
    feed.items = services(*(f"s{i}" for i in range(300)))
    sync(source)

    with CaptureQueriesContext(connection) as queries:
        run = sync(source)

    assert run.unchanged == 300
    record_queries = [
        q["sql"]
        for q in queries.captured_queries
        if any(f'"{t}"' in q["sql"] for t in RECORD_TABLES)
    ]
    # Per kind: one read of the source's rows, one `last_seen_at` refresh (that finds none).
    assert len(record_queries) == 6, "\n".join(sql[:100] for sql in record_queries)


def test_an_incremental_run_reads_only_the_rows_its_feed_names(source, feed, sync, importer):
    feed.items = services(*(f"s{i}" for i in range(300)))
    sync(source)

    feed.items = services("s1", "s2", "new", s1="Muutettu")
    with CaptureQueriesContext(connection) as queries:
        run = sync(source, full=False)

    assert (run.created, run.updated, run.unchanged) == (1, 1, 1)
    record_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("SELECT", "DECLARE"))
        and '"federation_service"."content_hash"' in q["sql"]
    ]
    assert record_reads, "the rows the feed names are read"
    assert all("IN (" in sql for sql in record_reads), "and only those"


# ---------------------------------------------------------------------------
# PTV end to end: connection-only changes do not move `modified`
# ---------------------------------------------------------------------------
PTV_API = "https://ptv.example/api/v11"
SERVICE_ID = "00000000-0000-4000-8000-000000000001"
CHANNEL_IDS = ["00000000-0000-4000-8000-0000000000c1", "00000000-0000-4000-8000-0000000000c2"]


def ptv_service(channel_ids: list[str]) -> dict[str, Any]:
    return {
        "id": SERVICE_ID,
        "type": "Service",
        "serviceNames": [{"language": "fi", "value": "Neuvola", "type": "Name"}],
        "languages": ["fi"],
        "areaType": "Nationwide",
        "serviceChannels": [{"serviceChannel": {"id": c}} for c in channel_ids],
        "publishingStatus": "Published",
        "modified": "2026-11-01T10:00:00",
    }


def ptv_channel(channel_id: str) -> dict[str, Any]:
    return {
        "id": channel_id,
        "serviceChannelType": "WebPage",
        "serviceChannelNames": [{"language": "fi", "value": "Verkkosivu", "type": "Name"}],
        "publishingStatus": "Published",
        "modified": "2026-11-01T10:00:00",
    }


class PtvApi:
    """The id list and `list?guids=` steps of PTV v11, for the records in `records`."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {"Organization": []}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        entity, *rest = request.url.path.split("/api/v11/", 1)[1].split("/")
        records = self.records.get(entity, [])
        if rest == ["list"]:
            wanted = request.url.params["guids"].split(",")
            return httpx.Response(200, json=[r for r in records if r["id"] in wanted])
        items = [{"id": r["id"], "name": ""} for r in records]
        return httpx.Response(200, json={"pageNumber": 1, "pageCount": 1, "itemList": items})


def test_a_ptv_connection_only_change_is_picked_up(django_capture_on_commit_callbacks):
    source = SourceFactory(format="ptv", url=PTV_API)
    api = PtvApi()
    api.records["ServiceChannel"] = [ptv_channel(c) for c in CHANNEL_IDS]
    api.records["Service"] = [ptv_service(CHANNEL_IDS[:1])]

    def run() -> SyncRun:
        return sync_source(
            source=source, trigger="cli", full=True, transport=httpx.MockTransport(api)
        )

    run()
    assert run().unchanged == 3

    api.records["Service"] = [ptv_service(CHANNEL_IDS)]  # `modified` stays the same
    changed = run()

    assert (changed.updated, changed.unchanged) == (1, 2)
    assert set(ServiceChannel.objects.values_list("channel__origin_id", flat=True)) == set(
        CHANNEL_IDS
    )
