"""One endpoint under load against an existing bench database, for work on a hot path.

    PESA_BENCH_DB=pesa_bench_mine uv run python -m bench.quick "service list" [--cached]
        [--seconds 5] [--baseline "plain DRF service list"]

Names are those of `bench.run` (Pesä endpoints and baselines). The database must already
hold a catalogue and articles (`python -m bench.run … --keep-db`, or a copy of one).
Prints SQL queries per request and the wrk figures of each name: the same server setup
and load as `make bench`, but nothing is created, loaded or written. Not a measurement to
quote: `make bench` is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from bench import load, workload
from bench.database import ROOT, django_env
from bench.run import BASELINES, PESA_ENDPOINTS, flush_cache


def _paths(name: str) -> list[str]:
    if name == "raw-SQL floor service list":
        return workload.raw_service_paths()
    makers = {**PESA_ENDPOINTS, **BASELINES}
    matches = [key for key in makers if key.startswith(name)]
    if len(matches) != 1:
        raise SystemExit(f"unknown or ambiguous name {name!r}; names: {', '.join(makers)}")
    return makers[matches[0]]()


def _queries(paths: list[str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"endpoint": paths}, handle)
    completed = subprocess.run(
        [sys.executable, "-m", "bench.queries", handle.name],
        cwd=ROOT,
        env=django_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    os.unlink(handle.name)
    if completed.returncode != 0:
        return {"error": completed.stderr[-2000:]}
    return json.loads(completed.stdout.strip().splitlines()[-1])["endpoint"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quick", description=__doc__.split("\n")[0]
    )
    parser.add_argument("names", nargs="+", help="endpoint names (a unique prefix is enough)")
    parser.add_argument("--cached", action="store_true", help="response cache on (default off)")
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    flush_cache()
    env = {} if args.cached else {"PESA_API_RESPONSE_CACHE": "false"}
    for name in args.names:
        paths = _paths(name)
        print(f"{name}: {len(paths)} paths; queries {_queries(paths)}", flush=True)
        is_raw = name == "raw-SQL floor service list"
        app = "bench.rawsql:application" if is_raw else "bench.wsgi:application"
        with load.server(app, env=env, probe=paths[0] if is_raw else "/bench/hello") as server:
            if args.cached:
                load.prime(server, paths)
            load.wrk(server, paths, seconds=1)
            result = load.wrk(server, paths, seconds=args.seconds)
        print(
            f"  {result['rps']:.0f} req/s, p50/p95/p99 {result['p50_ms']:.1f}/"
            f"{result['p95_ms']:.1f}/{result['p99_ms']:.1f} ms, errors {result['error_share']:.1%}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
