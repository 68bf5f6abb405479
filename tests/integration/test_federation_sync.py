"""The sync engine end to end: a PTV-shaped feed on a local HTTP server, tasks through
Redis, a real worker process writing to PostgreSQL, and a worker killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from federation.models import Service, Source, SyncRun
from federation.tasks import sync_source_task
from tests.integration.conftest import start_worker, stop_worker, wait_until_ready

pytestmark = pytest.mark.integration

FINAL = {"Service"}


def ptv_service(guid: str, name: str) -> dict:
    return {
        "id": guid,
        "type": "Service",
        "serviceNames": [{"language": "fi", "value": name, "type": "Name"}],
        "serviceDescriptions": [
            {"language": "fi", "value": f"{name}: tukea perheille.", "type": "Summary"}
        ],
        "languages": ["fi"],
        "areaType": "Nationwide",
        "areas": [],
        "targetGroups": [
            {"code": "KR1.2", "uri": "http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/KR1.2"}
        ],
        "organizations": [],
        "serviceChannels": [],
        "publishingStatus": "Published",
        "modified": "2026-11-01T10:00:00",
    }


class PtvServer:
    """PTV v11's two steps: a paged id list at /Service, full records at /Service/list."""

    def __init__(self) -> None:
        self.services: dict[str, str] = {}
        self.slow_once = False
        self.slow_request_started = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path.endswith("/Service"):
                    body = {
                        "pageNumber": 1,
                        "pageCount": 1,
                        "itemList": [
                            {"id": guid, "name": name} for guid, name in server.services.items()
                        ],
                    }
                elif parts.path.endswith("/Service/list"):
                    if server.slow_once:
                        server.slow_once = False
                        server.slow_request_started.set()
                        time.sleep(20)
                    guids = parse_qs(parts.query).get("guids", [""])[0].split(",")
                    body = [
                        ptv_service(g, server.services[g]) for g in guids if g in server.services
                    ]
                else:
                    self.send_error(404)
                    return
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v11"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def ptv_server() -> Iterator[PtvServer]:
    server = PtvServer()
    yield server
    server.close()


def guids(n: int) -> dict[str, str]:
    return {f"00000000-0000-4000-8000-{i:012d}": f"Perhepalvelu {i}" for i in range(n)}


def sync_and_wait(source: Source, *, timeout: float = 30) -> SyncRun:
    """Enqueue a full sync through Redis and wait for the worker to finish its run."""
    known = set(SyncRun.objects.filter(source=source).values_list("pk", flat=True))
    sync_source_task.delay(source.pk, True, SyncRun.Trigger.MANUAL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(source=source).exclude(pk__in=known).first()
        if run is not None and run.outcome not in (SyncRun.Outcome.QUEUED, SyncRun.Outcome.RUNNING):
            return run
        time.sleep(0.2)
    raise AssertionError(f"no finished run in {timeout} s")


def make_source(url: str) -> Source:
    return Source.objects.create(
        name="PTV (local)",
        slug="ptv-local",
        kind=Source.Kind.NATIONAL,
        format="ptv",
        url=url,
        importer_options={"entities": ["Service"]},
    )


def test_a_worker_syncs_a_ptv_feed_holds_an_empty_one_and_withdraws_exactly_one(
    celery_worker_process, ptv_server
):
    source = make_source(ptv_server.url)
    ptv_server.services = guids(10)

    first = sync_and_wait(source)
    assert first.outcome == SyncRun.Outcome.SUCCEEDED, first.message
    assert first.created == 10
    assert Service.objects.filter(source=source, status="active").count() == 10

    ptv_server.services = {}
    empty = sync_and_wait(source)
    assert empty.outcome == SyncRun.Outcome.HELD, empty.message
    assert Service.objects.filter(source=source, status="active").count() == 10

    ptv_server.services = guids(10)
    gone = ptv_server.services.popitem()[0]
    third = sync_and_wait(source)
    assert (third.outcome, third.withdrawn, third.unchanged) == (SyncRun.Outcome.SUCCEEDED, 1, 9)
    assert list(
        Service.objects.filter(source=source, status="withdrawn").values_list(
            "origin_id", flat=True
        )
    ) == [gone]


def test_a_worker_killed_mid_run_leaves_the_previous_state_and_a_restart_converges(
    transactional_db, broker_mode, ptv_server, tmp_path: Path
):
    source = make_source(ptv_server.url)
    lock_env = {"PESA_SYNC_HEARTBEAT_TIMEOUT": "3"}
    log = (tmp_path / "worker.log").open("ab")
    name = f"pesa-kill-{os.getpid()}-{time.monotonic_ns()}"
    worker = start_worker(name=name, log=log, extra_env=lock_env)
    try:
        wait_until_ready(worker, name)
        ptv_server.services = guids(5)
        assert sync_and_wait(source).created == 5

        ptv_server.services = {**guids(7), **dict.fromkeys(list(guids(5))[:2], "Muutettu nimi")}
        ptv_server.slow_once = True
        sync_source_task.delay(source.pk, True, SyncRun.Trigger.MANUAL)
        assert ptv_server.slow_request_started.wait(20), "the worker did not reach the slow request"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)

        assert Service.objects.filter(source=source).count() == 5, (
            "nothing of the killed run was applied"
        )
        assert not Service.objects.filter(name__fi="Muutettu nimi").exists()
        assert SyncRun.objects.filter(source=source, outcome=SyncRun.Outcome.RUNNING).count() == 1

        name = f"pesa-restart-{os.getpid()}-{time.monotonic_ns()}"
        worker = start_worker(name=name, log=log, extra_env=lock_env)
        wait_until_ready(worker, name)
        run = sync_and_wait(source)
        while run.outcome == SyncRun.Outcome.SKIPPED:  # the dead worker's lock expires within 3 s
            time.sleep(1)
            run = sync_and_wait(source)

        assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
        assert Service.objects.filter(source=source).count() == 7, "no duplicates"
        assert Service.objects.filter(source=source, name__fi="Muutettu nimi").count() == 2
        interrupted = SyncRun.objects.filter(source=source, message__startswith="interrupted")
        assert interrupted.count() == 1
    except Exception:
        log.flush()
        print((tmp_path / "worker.log").read_text(errors="replace")[-5000:])  # noqa: T201
        raise
    finally:
        stop_worker(worker)
        log.close()


def test_a_prefork_worker_child_parses_a_big_feed_in_its_own_parsing_processes(
    transactional_db, broker_mode, ptv_server, tmp_path: Path
):
    """Production's Celery pool forks a child per task slot; a full sync of more than
    `FORK_AFTER_DOCUMENTS` pages then forks parsing processes from that child."""
    from federation.sync.pool import FORK_AFTER_DOCUMENTS

    source = make_source(ptv_server.url)
    ptv_server.services = guids((FORK_AFTER_DOCUMENTS + 5) * 100)
    log_path = tmp_path / "worker.log"
    name = f"pesa-prefork-{os.getpid()}-{time.monotonic_ns()}"
    with log_path.open("ab") as log:
        worker = start_worker(name=name, log=log, pool="prefork")
        try:
            wait_until_ready(worker, name)
            run = sync_and_wait(source, timeout=120)
        finally:
            stop_worker(worker)
    logged = log_path.read_text(errors="replace")

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert run.created == len(ptv_server.services)
    assert Service.objects.filter(source=source, status="active").count() == run.created
    assert "parsing in 2 worker processes" in logged
    assert "cannot start workers" not in logged
