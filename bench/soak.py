"""`make soak`: mixed API reads under wrk while feed syncs run, for SOAK_SECONDS (600).

    uv run python -m bench.soak [--seconds 600] [--services 10000] [--articles 200]

Builds its own database (`pesa_bench_soak`, from the bench's data builders), serves the API
under granian as `make bench` does, and for the whole load keeps syncing the catalogue in
separate worker processes (incremental, then full, and again), so every sync retires the
response cache under the readers. Prints requests, errors, p50/p99 and the syncs.

Exit status: 0 only when no request failed (connect, read, write, non-2xx/3xx, timeout)
and every sync succeeded. Not part of CI: it takes as long as it is told to.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from typing import Any

# Its own database and Redis logical database, so a soak never meets `make bench`.
os.environ.setdefault("PESA_BENCH_DB", "pesa_bench_soak")
os.environ.setdefault("PESA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

from bench import database, load, workload
from bench.feeds import ensure_feed
from bench.run import (
    check_services,
    flush_cache,
    load_articles,
    load_catalogue,
    log,
    prepare_database,
    worker,
)

REQUEST_ERRORS = ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")


def mixed_paths() -> list[str]:
    """Article details and lists, filtered service lists and search, interleaved."""
    groups = [
        workload.article_detail_paths(),
        workload.article_list_paths(),
        workload.service_list_paths(),
        workload.search_paths(),
    ]
    longest = max(len(group) for group in groups)
    return [group[i % len(group)] for i in range(longest) for group in groups if group]


class SyncLoop(threading.Thread):
    """Syncs the catalogue again and again (incremental, full, …) until stopped."""

    def __init__(self, feed: Any) -> None:
        super().__init__(daemon=True)
        self.feed = feed
        self.stopping = threading.Event()
        self.runs: list[dict[str, Any]] = []

    def run(self) -> None:
        incremental = True
        while not self.stopping.is_set():
            mode = ["--incremental"] if incremental else []
            try:
                result = worker("sync", "--feed", str(self.feed), *mode)
            except RuntimeError as error:
                result = {"outcome": "crashed", "message": str(error)[-500:], "seconds": 0}
            self.runs.append(
                {
                    "mode": "incremental" if incremental else "full",
                    "outcome": result["outcome"],
                    "seconds": round(result["seconds"], 2),
                    "message": result.get("message", ""),
                }
            )
            incremental = not incremental


def soak(*, seconds: float, services: int, articles: int) -> dict[str, Any]:
    feed = ensure_feed(services, log=log)
    load_catalogue(services)
    load_articles(articles)
    database.analyze()
    paths = mixed_paths()
    flush_cache()
    log(f"soak: {len(paths)} paths, {seconds:.0f} s of wrk while syncs run …")
    with load.server("bench.wsgi:application") as server:
        syncs = SyncLoop(feed)
        syncs.start()
        try:
            result = load.wrk(server, paths, seconds=seconds)
        finally:
            syncs.stopping.set()
            syncs.join()
    errors = sum(result[name] for name in REQUEST_ERRORS)
    failed_syncs = [run for run in syncs.runs if run["outcome"] != "succeeded"]
    return {
        "seconds": seconds,
        "services": services,
        "paths": len(paths),
        "requests": result["requests"],
        "rps": round(result["rps"], 1),
        "errors": errors,
        "error_kinds": {name: result[name] for name in REQUEST_ERRORS},
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "max_ms": result["max_us"] / 1000,
        "syncs": len(syncs.runs),
        "failed_syncs": failed_syncs,
        "sync_seconds": [run["seconds"] for run in syncs.runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    check_services()
    if not load.ensure_wrk(log):
        raise SystemExit("soak: wrk is missing (Debian/Ubuntu: apt-get install wrk)")
    flush_cache()
    try:
        prepare_database()
        report = soak(seconds=args.seconds, services=args.services, articles=args.articles)
    finally:
        if not args.keep_db:
            database.drop()
    print(json.dumps(report, indent=2))
    print(
        f"soak: {report['requests']:,} requests in {report['seconds']:.0f} s "
        f"({report['rps']:,.0f}/s), errors {report['errors']}, p50 {report['p50_ms']:.1f} ms, "
        f"p99 {report['p99_ms']:.1f} ms; {report['syncs']} syncs, "
        f"{len(report['failed_syncs'])} failed"
    )
    return 1 if report["errors"] or report["failed_syncs"] else 0


if __name__ == "__main__":
    sys.exit(main())
