"""PostgreSQL is the only engine: the server DATABASE_URL names, else an embedded one
(cms/database.py) that stops when the processes using it are gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from cms.database import database_url, start_embedded, stop_embedded

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """One data directory for the module: initialised once, started by each test."""
    return tmp_path_factory.mktemp("embedded") / "postgres"


def server_pid(data_dir: Path) -> int | None:
    """The postmaster's pid while it runs (postmaster.pid names it), else None."""
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def in_subprocess(data_dir: Path, then: str) -> subprocess.Popen[str]:
    """A process with no DATABASE_URL that starts the server, says READY, then does `then`."""
    code = (
        "import sys, time; from pathlib import Path; from cms.database import database_url; "
        f"database_url(environ={{}}, data_dir=Path({str(data_dir)!r})); "
        f"print('READY', flush=True); {then}"
    )
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "READY"
    return process


def exit_code(process: subprocess.Popen[str]) -> int:
    process.communicate(timeout=30)
    return process.returncode


def wait_for_exit(data_dir: Path, pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server_pid(data_dir) != pid:
            return True
        time.sleep(0.05)
    return False


def test_without_database_url_an_embedded_postgresql_18_serves_trigrams_and_finnish_stems(
    data_dir,
):
    environ: dict[str, str] = {}
    server = start_embedded(data_dir=data_dir)
    try:
        url = database_url(environ=environ, data_dir=data_dir)

        assert environ == {"DATABASE_URL": url}, "children of this process reuse the server"
        with psycopg.connect(url, autocommit=True) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
            connection.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            stems = connection.execute(
                "SELECT to_tsvector('finnish', 'neuvolaan')::text,"
                " to_tsvector('swedish', 'barnen')::text,"
                " similarity('neuvola', 'neuvolaan') > 0.5"
            ).fetchone()
            database = connection.execute("SELECT current_database()").fetchone()[0]
        assert version.split(".")[0] == "18"
        assert stems == ("'neuvol':1", "'barn':1", True)
        assert database == "pesa"
    finally:
        pid = server_pid(data_dir)
        stop_embedded(server)

    assert pid is not None and wait_for_exit(data_dir, pid), "released by its only user, it stops"


def test_with_database_url_that_server_is_used_untouched(tmp_path):
    environ = {"DATABASE_URL": "postgres://pesa:secret@db.example:6432/pesa"}

    url = database_url(environ=environ, data_dir=tmp_path / "postgres")

    assert url == "postgres://pesa:secret@db.example:6432/pesa"
    assert environ == {"DATABASE_URL": url}
    assert not (tmp_path / "postgres").exists(), "no embedded server was started"


def test_the_embedded_server_stops_when_the_process_that_started_it_exits(data_dir):
    process = in_subprocess(data_dir, then="pass")
    pid = server_pid(data_dir)

    assert exit_code(process) == 0
    assert pid is not None and wait_for_exit(data_dir, pid)


def test_the_embedded_server_stops_when_the_process_that_started_it_is_terminated(data_dir):
    process = in_subprocess(data_dir, then="time.sleep(60)")
    pid = server_pid(data_dir)

    process.send_signal(signal.SIGTERM)

    assert exit_code(process) == -signal.SIGTERM, "it still dies of the signal"
    assert pid is not None and wait_for_exit(data_dir, pid)


def test_a_server_whose_starter_was_killed_stops_with_the_next_process_that_uses_it(data_dir):
    killed = in_subprocess(data_dir, then="time.sleep(60)")
    pid = server_pid(data_dir)
    killed.kill()
    exit_code(killed)
    assert server_pid(data_dir) == pid, "a killed process cannot stop the server"

    next_user = in_subprocess(data_dir, then="pass")

    assert exit_code(next_user) == 0
    assert pid is not None and wait_for_exit(data_dir, pid)
