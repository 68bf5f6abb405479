"""One import measurement in its own process, so its peak RSS is its own.

    python -m bench.worker sync --feed DIR [--incremental]
    python -m bench.worker naive --feed DIR [--limit N]

Prints one JSON line: `seconds` (the `sync_source` call alone), `index_seconds` (the search
indexing of the run's services, deferred until the sync has returned, as production runs it
in a worker after the commit), `sync_peak_rss_mb` (peak RSS when the sync returned) and
`peak_rss_mb` (the whole process, indexing included; `ru_maxrss`), `children_peak_rss_mb`
(the largest parsing worker the sync forked, if any), and the run's counts.
Runs the real path: a PTV `Source`, `sync_source` with the importer fetching through the
guarded HTTP client over a mock transport that serves the generated feed
(bench.feeds.PtvApiMock).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import orjson

SOURCE_SLUG = "bench-ptv"
NAIVE_SLUG = "bench-naive"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of this process, of its finished children and of its database
    backend (read from /proc when PostgreSQL runs on this machine; else absent): on a shared
    machine these say more than the wall clock."""
    from django.db import connection

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = {
        "process": own.ru_utime + own.ru_stime,
        "children": children.ru_utime + children.ru_stime,
    }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        seconds["database"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass
    return seconds


def _source(slug: str):
    from bench.generate import PTV_API
    from federation.models import Source
    from federation.services.sources import create_source

    source = Source.objects.filter(slug=slug).first()
    if source is None:
        source = create_source(
            slug=slug, name=f"Bench {slug}", kind=Source.Kind.NATIONAL, format="ptv", url=PTV_API
        )
        # The bench's own schedule is "never": only this process runs it.
        Source.objects.filter(pk=source.pk).update(
            incremental_interval_minutes=0, full_sync_interval_hours=0
        )
        source.refresh_from_db()
    return source


class _DeferredSearchIndexing:
    """The sync's search indexing, held back and run after the sync, so each is timed alone.

    In production the indexing of a big sync is a Celery task after the commit (a small sync
    indexes inline, inside its transaction); the bench's eager Celery would run it inside
    the sync's clock. Here every `index_services` call made during the sync is queued and
    run, in order, once the sync has returned: the database still ends complete.
    """

    def __init__(self) -> None:
        self.queued: list[tuple[tuple, dict]] = []
        self.seconds = 0.0
        self.calls = 0
        self.original = None
        try:
            from frontend_api.search import services as search_services
            from frontend_api.search import tasks as search_tasks
        except ImportError:
            return
        self.original = search_services.index_services

        def deferred(*args, **kwargs):
            self.queued.append((args, kwargs))
            return 0

        search_services.index_services = deferred
        if getattr(search_tasks, "index_services", None) is self.original:
            search_tasks.index_services = deferred

    def run(self) -> None:
        started = time.perf_counter()
        while self.queued:
            args, kwargs = self.queued.pop(0)
            self.original(*args, **kwargs)
            self.calls += 1
        self.seconds = time.perf_counter() - started


def _import_what_a_worker_has_loaded() -> None:
    """Modules the sync imports on first use (the Redis lock client: about 1 s here), which
    a Celery worker has loaded since its first task: the clock measures the sync itself."""
    import redis  # noqa: F401


def run_sync(feed: Path, *, incremental: bool) -> dict:
    import httpx

    from bench.feeds import PtvApiMock
    from federation.models import SyncRun
    from federation.sync import sync_source

    source = _source(SOURCE_SLUG)
    indexing = _DeferredSearchIndexing()
    _import_what_a_worker_has_loaded()
    mock = PtvApiMock(feed)
    rss_before = _peak_rss_mb()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    run = sync_source(
        source=source,
        trigger=SyncRun.Trigger.CLI,
        full=not incremental,
        transport=httpx.MockTransport(mock),
    )
    seconds = time.perf_counter() - started
    cpu_after = _cpu_seconds()
    sync_peak_rss = _peak_rss_mb()
    indexing.run()
    return {
        "seconds": seconds,
        "outcome": run.outcome,
        "message": run.message,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "withdrawn": run.withdrawn,
        "rejected": run.rejected,
        "issues": run.issues.count(),
        "http_requests": mock.requests,
        "index_seconds": indexing.seconds,
        "index_calls": indexing.calls,
        "rss_before_mb": rss_before,
        "sync_peak_rss_mb": sync_peak_rss,
        "sync_cpu_seconds": {
            name: round(cpu_after[name] - cpu_before[name], 2)
            for name in cpu_after
            if name in cpu_before
        },
    }


def run_naive(feed: Path, *, limit: int | None) -> dict:
    """The reference line: parse, then `update_or_create` one row at a time."""
    import hashlib

    from django.db import transaction
    from django.utils import timezone

    from federation.models import Channel, Organization, RecordStatus, Service
    from federation.sync.record_fields import record_fields
    from federation.sync.records import sanitized
    from importers.ptv import PtvImporter

    models = {"organization": Organization, "service": Service, "channel": Channel}
    source = _source(NAIVE_SLUG)
    importer = PtvImporter(url=source.url, http=None)  # type: ignore[arg-type]
    organizations: dict[str, int] = {}
    done = 0
    started = time.perf_counter()
    for entity in ("Organization", "ServiceChannel", "Service"):
        for path in sorted((feed / entity).glob("*.json")):
            for record in importer.parse(path.read_bytes()):
                if limit is not None and done >= limit:
                    break
                if not hasattr(record, "kind") or record.withdrawn:
                    continue
                data = sanitized(record.data, issue=lambda *_: None)
                content_hash = hashlib.sha256(
                    orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
                ).hexdigest()
                now = timezone.now()
                with transaction.atomic():
                    row, _created = models[record.kind].objects.update_or_create(
                        source=source,
                        origin_id=record.source_id,
                        defaults={
                            "content_hash": content_hash,
                            "status": RecordStatus.ACTIVE,
                            "last_seen_at": now,
                            "synced_at": now,
                            **record_fields(record.kind, data, organizations, None),  # type: ignore[arg-type]
                        },
                        create_defaults={
                            "content_hash": content_hash,
                            "status": RecordStatus.ACTIVE,
                            "first_seen_at": now,
                            "last_seen_at": now,
                            "synced_at": now,
                            **record_fields(record.kind, data, organizations, None),  # type: ignore[arg-type]
                        },
                    )
                if record.kind == "organization":
                    organizations[record.source_id] = row.pk
                done += 1
    return {"seconds": time.perf_counter() - started, "records": done, "outcome": "succeeded"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("scenario", choices=("sync", "naive"))
    parser.add_argument("--feed", type=Path, required=True)
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import connections

    result = (
        run_sync(args.feed, incremental=args.incremental)
        if args.scenario == "sync"
        else run_naive(args.feed, limit=args.limit)
    )
    connections.close_all()  # the backend ends and flushes its statistics
    result["peak_rss_mb"] = _peak_rss_mb()
    # The largest child (the sync's parsing workers, when a full run forks them).
    result["children_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
