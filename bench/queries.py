"""SQL queries per request, counted in process (Django test client + CaptureQueriesContext).

    python -m bench.queries PATHS.json     # {"name": ["/path", …], …} → JSON on stdout

For each endpoint, the first five paths: the response cache is emptied, each path is
requested twice, and the queries of the first (uncached) and second (cached) answer are
counted. Reports the median of each and the statuses seen.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path


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
    client = Client(HTTP_X_FORWARDED_FOR="10.251.0.1")
    result = {}
    for name, paths in endpoints.items():
        uncached, cached, statuses = [], [], []
        cache.clear()
        for path in paths[:5]:
            for bucket in (uncached, cached):
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(path)
                bucket.append(len(queries.captured_queries))
                statuses.append(response.status_code)
        result[name] = {
            "uncached": statistics.median(uncached) if uncached else None,
            "cached": statistics.median(cached) if cached else None,
            "statuses": sorted(set(statuses)),
        }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
