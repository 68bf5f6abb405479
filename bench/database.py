"""The bench database: created, migrated and dropped here; nothing else is ever touched.

Row counts come from PostgreSQL's own statistics (`pg_stat_user_tables`): the inserted,
updated and deleted tuples of each table between two snapshots, taken after the writing
process has exited (a backend flushes its statistics when it ends).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

DB_NAME = os.environ.get("PESA_BENCH_DB", "pesa_bench")
PG = {
    "host": os.environ.get("PESA_BENCH_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("PESA_BENCH_PG_PORT", "5432")),
    "user": os.environ.get("PESA_BENCH_PG_USER", "postgres"),
}
ROOT = Path(__file__).resolve().parent.parent
# The canonical record tables: what "rows written" counts.
RECORD_TABLES = (
    "federation_organization",
    "federation_service",
    "federation_channel",
    "federation_servicechannel",
    "federation_servicearea",
    "federation_servicecode",
)
# Everything a sync may write: records, then runs, issues, the source and the change log.
FEDERATION_TABLES = (
    *RECORD_TABLES,
    "federation_syncrun",
    "federation_recordissue",
    "federation_pushpayload",
    "federation_source",
)

if DB_NAME != "pesa_bench" and not DB_NAME.startswith("pesa_bench"):
    raise SystemExit(f"refusing to use {DB_NAME!r}: the bench database must be pesa_bench*")


def connect(dbname: str = DB_NAME) -> psycopg.Connection:
    return psycopg.connect(dbname=dbname, autocommit=True, **PG)


def recreate() -> None:
    """Drops and creates the bench database (and only it)."""
    with connect("postgres") as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (DB_NAME,),
        )
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB_NAME)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))


def drop() -> None:
    with connect("postgres") as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (DB_NAME,),
        )
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB_NAME)))


def django_env() -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONHASHSEED": "0"}


def manage(*args: str, quiet: bool = True) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=django_env(),
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def migrate() -> float:
    started = time.perf_counter()
    manage("migrate", "--no-input")
    return time.perf_counter() - started


def truncate_federation() -> None:
    """An empty federation (areas and postal codes stay: they are reference data)."""
    with connect() as db:
        tables = [*FEDERATION_TABLES]
        existing = {
            row[0]
            for row in db.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s)", (tables,)
            )
        }
        db.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in tables if t in existing)
            )
        )
        db.execute("VACUUM ANALYZE")


def write_stats() -> dict[str, tuple[int, int, int]]:
    """(inserted, updated, deleted) tuples per table, from a fresh statistics snapshot."""
    time.sleep(0.3)
    with connect() as db:
        db.execute("SELECT pg_stat_clear_snapshot()")
        rows = db.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"
        ).fetchall()
    return {name: (ins, upd, dele) for name, ins, upd, dele in rows}


def written(before: dict, after: dict, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows inserted + updated + deleted per table between two snapshots (non-zero only)."""
    result = {}
    for table in tables:
        old, new = before.get(table, (0, 0, 0)), after.get(table, (0, 0, 0))
        count = sum(n - o for n, o in zip(new, old, strict=True))
        if count:
            result[table] = count
    return result


def analyze() -> None:
    with connect() as db:
        db.execute("VACUUM ANALYZE")


def database_size() -> int:
    with connect() as db:
        return db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
