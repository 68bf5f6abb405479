"""The raw-SQL floor: the filtered service list from psycopg + orjson in a bare WSGI app.

No Django. Same filter meaning as the Pesä and DRF lists (municipality: its own, its
county's and nationwide services; language; audience), 20 rows a page, one query per
request. Served by the same server setup as the Django app (bench.load).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs

import orjson
import psycopg

DSN = os.environ.get(
    "PESA_BENCH_DSN",
    "host={} port={} user={} dbname={}".format(
        os.environ.get("PESA_BENCH_PG_HOST", "127.0.0.1"),
        os.environ.get("PESA_BENCH_PG_PORT", "5432"),
        os.environ.get("PESA_BENCH_PG_USER", "postgres"),
        os.environ.get("PESA_BENCH_DB", "pesa_bench"),
    ),
)
PAGE_SIZE = 20
SQL = """
SELECT s.id, s.origin_id, s.name, s.summary, s.languages, s.target_groups, s.nationwide,
       s.municipality_codes, s.county_codes, s.origin_url, o.id, o.name
FROM federation_service s
JOIN federation_source src ON src.id = s.source_id
LEFT JOIN federation_organization o ON o.id = s.organization_id
WHERE s.status = 'active' AND src.enabled
  AND EXISTS (SELECT 1 FROM federation_servicearea a
              WHERE a.service_id = s.id AND a.code = ANY(%(areas)s))
  AND s.languages @> %(lang)s::jsonb
  AND EXISTS (SELECT 1 FROM federation_servicecode c
              WHERE c.service_id = s.id AND c.scheme = 'target_group'
                AND (c.code = %(audience)s OR c.code LIKE %(narrower)s))
ORDER BY s.id
LIMIT %(limit)s OFFSET %(offset)s
"""

_connection: psycopg.Connection | None = None
_counties: dict[str, str] = {}


def _db() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(DSN, autocommit=True, prepare_threshold=None)
        rows = _connection.execute(
            "SELECT m.code, c.code FROM federation_area m JOIN federation_area c"
            " ON c.id = m.parent_id"
        ).fetchall()
        _counties.clear()
        _counties.update(dict(rows))
    return _connection


def _text(values: dict[str, str] | None, lang: str) -> str:
    values = values or {}
    return values.get(lang) or values.get("fi") or next(iter(values.values()), "")


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    lang = (query.get("lang") or ["fi"])[0]
    municipality = (query.get("municipality") or ["091"])[0]
    audience = (query.get("audience") or ["KR1.2"])[0]
    page = max(1, int((query.get("page") or ["1"])[0]))
    db = _db()
    areas = [municipality, "*"]
    if municipality in _counties:
        areas.append(_counties[municipality])
    rows = db.execute(
        SQL,
        {
            "areas": areas,
            "lang": orjson.dumps([lang]).decode(),
            "audience": audience,
            "narrower": audience.replace("%", "") + ".%",
            "limit": PAGE_SIZE,
            "offset": (page - 1) * PAGE_SIZE,
        },
    ).fetchall()
    results = [
        {
            "id": row[0],
            "origin_id": row[1],
            "name": _text(row[2], lang),
            "summary": _text(row[3], lang),
            "languages": row[4],
            "target_groups": row[5],
            "nationwide": row[6],
            "municipality_codes": row[7],
            "county_codes": row[8],
            "origin_url": row[9],
            "organization": {"id": row[10], "name": _text(row[11], lang)} if row[10] else None,
        }
        for row in rows
    ]
    body = orjson.dumps({"count": None, "results": results, "meta": {"lang": lang}})
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
