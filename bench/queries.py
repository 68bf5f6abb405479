"""SQL queries per request, counted in process (Django test client + CaptureQueriesContext).

    python -m bench.queries PATHS.json     # {"name": ["/path", …], …} → JSON on stdout

For each endpoint, up to `SAMPLE` of its paths (all of them for every bench endpoint but
article detail's 1,000): the response cache is emptied, each path is requested twice, and
the queries of the first (uncached) and second (cached) answer are counted. Reports the
median and the maximum of each (after one uncounted request), the share of paths answered in at most one query uncached
(`uncached_one_share`), how many paths were counted, and the statuses seen. A few paths
are not enough: a search that falls back to similar titles costs more queries than the
usual one, and only some words do.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

SAMPLE = 200


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    endpoints = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = {}
    for name, paths in endpoints.items():
        uncached, cached, statuses = [], [], []
        # Not counted: a worker's first request also reads what it keeps for its lifetime
        # (the municipality map, compiled reads), as the warm servers under load have.
        if paths:
            Client(HTTP_X_FORWARDED_FOR="10.252.0.1").get(paths[-1])
        cache.clear()
        for index, path in enumerate(paths[:SAMPLE]):
            # An address of its own per path, so the throttle never answers instead.
            client = Client(HTTP_X_FORWARDED_FOR=f"10.251.{index // 250}.{index % 250 + 1}")
            for bucket in (uncached, cached):
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(path)
                bucket.append(len(queries.captured_queries))
                statuses.append(response.status_code)
        result[name] = {
            "uncached": statistics.median(uncached) if uncached else None,
            "uncached_max": max(uncached) if uncached else None,
            "uncached_one_share": sum(n <= 1 for n in uncached) / len(uncached)
            if uncached
            else None,
            "cached": statistics.median(cached) if cached else None,
            "cached_max": max(cached) if cached else None,
            "paths": len(uncached),
            "statuses": sorted(set(statuses)),
        }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
