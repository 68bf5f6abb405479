"""Parsing a big full run in worker processes (federation/sync/pool.py): the run's
outcome, rows and issues are those of a serial run of the same feeds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.db import connection

from federation.models import Channel, Organization, RecordIssue, Service, Source, SyncRun
from federation.sync import pool, sync_source
from importers.http import fetch
from tests.factories.federation import SourceFactory
from tests.federation.conftest import Feed, FingerprintedListImporter

pytestmark = pytest.mark.django_db

FORMAT = "test-paged"
URL = "https://feeds.example.org/paged.json"


class PagedImporter(FingerprintedListImporter):
    """The fingerprinted test list format, paged: the feed is a JSON list of documents
    (lists of items)."""

    format = FORMAT

    def documents(self) -> Iterator[bytes]:
        for document in orjson.loads(fetch(self.http, self.url)):
            yield orjson.dumps(document)


@pytest.fixture
def paged(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Registers the paged format; returns how many documents came back from workers."""
    from importers import registry

    monkeypatch.setitem(registry.IMPORTERS, FORMAT, PagedImporter)
    # Small feeds fork too: after two documents, however few of their items were parsed.
    monkeypatch.setattr(pool, "FORK_AFTER_DOCUMENTS", 2)
    monkeypatch.setattr(pool, "FORK_WHEN_PARSED", 0)
    from_workers: list[int] = []
    unpacked = pool.unpacked

    def counted(results: list[Any]) -> Iterator[Any]:
        from_workers.append(len(results))
        return unpacked(results)

    monkeypatch.setattr(pool, "unpacked", counted)
    return from_workers


def pages(items: list[dict[str, Any]], size: int = 4) -> list[list[dict[str, Any]]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def service(origin_id: str, name: str | None = None, **data: Any) -> dict[str, Any]:
    return {"id": origin_id, "data": {"name": {"fi": name or f"Palvelu {origin_id}"}, **data}}


def base_feed() -> list[dict[str, Any]]:
    return [
        {"id": "org-1", "kind": "organization", "name": "Kunta"},
        *(service(f"s{i}", organization_origin_id="org-1") for i in range(20)),
        {"id": "ch-1", "kind": "channel", "data": {"name": {"fi": "Toimipiste"}}},
        service("s-bad-url", url="ftp://example.org/x"),
        {"id": "s-invalid", "invalid": "missing name"},
        {"id": "s-repaired", "name": "Korjattu", "repairs": ["coordinates dropped"]},
        *(service(f"t{i}") for i in range(10)),
    ]


def changed_feed() -> list[dict[str, Any]]:
    """s3 renamed, s4 gone, s5 twice (changed, then as stored), t9 new, org renamed."""
    items = [item for item in base_feed() if item["id"] not in ("s4", "t9")]
    items[0] = {"id": "org-1", "kind": "organization", "name": "Kunta (uusi)"}
    for index, item in enumerate(items):
        if item["id"] == "s3":
            items[index] = service("s3", "Uusi nimi", organization_origin_id="org-1")
        if item["id"] == "s5":
            items[index] = service("s5", "Väliaikainen", organization_origin_id="org-1")
    items.append(service("s5", organization_origin_id="org-1"))
    items.append(service("t10"))
    return items


def snapshot(source: Source, run: SyncRun) -> dict[str, Any]:
    rows = {
        model.__name__: sorted(
            model.objects.filter(source=source).values_list(
                "origin_id", "content_hash", "raw_fingerprint", "status", "name"
            )
        )
        for model in (Organization, Service, Channel)
    }
    issues = sorted(
        RecordIssue.objects.filter(run=run).values_list(
            "origin_id", "record_kind", "reason", "severity", "field_path", "message"
        )
    )
    counts = (run.outcome, run.created, run.updated, run.unchanged, run.withdrawn, run.rejected)
    organisations = sorted(
        Service.objects.filter(source=source).values_list("origin_id", "organization__origin_id")
    )
    return {"rows": rows, "issues": issues, "counts": counts, "organisations": organisations}


def run_feeds(feeds: list[list[dict[str, Any]]], *, slug: str) -> list[dict[str, Any]]:
    source = SourceFactory(slug=slug, format=FORMAT, url=URL, max_withdrawn_percent=50)
    feed = Feed()
    results = []
    for items in feeds:
        feed.items = pages(items)
        run = sync_source(
            source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport
        )
        results.append(snapshot(source, run))
    return results


def test_a_full_run_parsed_in_worker_processes_ends_as_a_serial_run_would(paged, settings):
    feeds = [base_feed(), base_feed(), changed_feed(), base_feed()]
    settings.PESA_SYNC_PARSE_PROCESSES = 1
    serial = run_feeds(feeds, slug="serial")
    assert paged == []
    settings.PESA_SYNC_PARSE_PROCESSES = 2

    parallel = run_feeds(feeds, slug="parallel")

    assert len(paged) > len(feeds) * 5, "most documents were parsed in workers"
    assert parallel == serial
    first, rerun, changed, back = parallel
    assert first["counts"] == ("succeeded", 34, 0, 0, 0, 1)
    assert rerun["counts"] == ("succeeded", 0, 0, 34, 0, 1)
    assert changed["counts"] == ("succeeded", 1, 2, 30, 2, 1)
    assert ("s5", "service", "duplicate") in {issue[:3] for issue in changed["issues"]}
    assert back["counts"][:3] == ("succeeded", 0, 4)


def test_an_unchanged_full_rerun_in_worker_processes_writes_no_record_row(paged, settings):
    settings.PESA_SYNC_PARSE_PROCESSES = 2
    source = SourceFactory(format=FORMAT, url=URL)
    feed = Feed()
    feed.items = pages(base_feed())
    sync_source(source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport)
    with connection.cursor() as cursor:
        before = cursor.execute("SELECT id, xmin::text FROM federation_service").fetchall()

    run = sync_source(
        source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport
    )

    assert (run.created, run.updated, run.unchanged) == (0, 0, 34)
    with connection.cursor() as cursor:
        after = cursor.execute("SELECT id, xmin::text FROM federation_service").fetchall()
    assert sorted(after) == sorted(before)


def test_a_full_rerun_that_starts_unchanged_is_not_sent_to_workers(paged, settings, monkeypatch):
    monkeypatch.setattr(pool, "FORK_WHEN_PARSED", 0.5)
    settings.PESA_SYNC_PARSE_PROCESSES = 2
    source = SourceFactory(format=FORMAT, url=URL)
    feed = Feed()
    feed.items = pages(base_feed())
    sync_source(source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport)
    assert paged, "the first run, all new, was parsed in workers"
    paged.clear()

    run = sync_source(
        source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport
    )

    assert paged == []
    assert (run.created, run.updated, run.unchanged) == (0, 0, 34)


class DyingImporter(PagedImporter):
    """Its parsing workers die (as if killed) at the document that holds item "s-fatal"."""

    def raw_items(self, document: bytes) -> Iterator[Any]:
        if b'"s-fatal"' in document and os.getpid() != PARENT_PID:
            os._exit(137)
        return super().raw_items(document)


PARENT_PID = os.getpid()


def test_a_parsing_worker_that_dies_fails_the_run_with_that_reason_and_writes_nothing(
    paged, settings, monkeypatch
):
    from importers import registry

    monkeypatch.setitem(registry.IMPORTERS, FORMAT, DyingImporter)
    settings.PESA_SYNC_PARSE_PROCESSES = 2
    source = SourceFactory(format=FORMAT, url=URL)
    feed = Feed()
    feed.items = pages(base_feed())
    sync_source(source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport)
    before = snapshot(source, SyncRun.objects.get(source=source))["rows"]
    feed.items = pages([*changed_feed()[:-8], service("s-fatal"), *changed_feed()[-8:]])

    with pytest.raises(pool.ParsingWorkerLost):
        sync_source(source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport)

    run = SyncRun.objects.filter(source=source).latest("pk")
    assert run.outcome == SyncRun.Outcome.FAILED
    assert "a parsing worker process died" in run.message
    assert snapshot(source, run)["rows"] == before, "nothing of the failed run was written"


def test_parsing_workers_die_with_the_process_that_forked_them(tmp_path):
    """A sync killed at its Celery time limit leaves no parsing worker waiting forever."""
    script = (
        "import os, django\n"
        "django.setup()\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "import multiprocessing\n"
        "from federation.sync.pool import die_with_parent\n"
        "executor = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('fork'),\n"
        "    initializer=die_with_parent, initargs=(os.getpid(),))\n"
        "executor.submit(os.getpid).result()\n"
        "print(' '.join(map(str, executor._processes)), flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    # Into a file, not a pipe: a surviving worker would hold a pipe open.
    output = tmp_path / "workers.txt"
    with output.open("w") as stdout:
        subprocess.run(
            [sys.executable, "-c", script],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            timeout=60,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "cms.settings.dev"},
            check=False,
        )
    printed = output.read_text()
    workers = [int(pid) for pid in printed.split()]
    assert len(workers) == 2, printed
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but not yet reaped by its new parent.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_records_parsed_in_worker_processes_keep_their_timestamps(paged, settings):
    """The watermark and newest-wins need each record's `modified`, also from a worker."""
    settings.PESA_SYNC_PARSE_PROCESSES = 2
    source = SourceFactory(format=FORMAT, url=URL)
    feed = Feed()
    stamps = [f"2026-11-{day:02d}T08:00:00+00:00" for day in range(1, 21)]
    feed.items = pages([service(f"s{i}", modified=stamp) for i, stamp in enumerate(stamps)])
    sync_source(source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport)
    source.refresh_from_db()
    assert source.watermark == stamps[-1]

    older = [service(f"s{i}", "Vanha", modified=stamps[0]) for i in range(20)]
    feed.items = pages(older)
    run = sync_source(
        source=source, trigger=SyncRun.Trigger.CLI, full=True, transport=feed.transport
    )

    assert paged, "documents were parsed in workers"
    assert (run.updated, run.unchanged) == (1, 0), "only s0 is as new as the stored copy"
    assert run.issues.filter(message__startswith="stale, older than stored").count() == 19
