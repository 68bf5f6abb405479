"""A crash never strands a source: the pool child of a prefork worker is SIGKILLed in the
middle of a big push, and the push is still applied, once, and the source stays usable."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from federation.models import PushPayload, Service, Source, SyncRun
from federation.services import receive_push
from tests.integration.conftest import start_worker, stop_worker, wait_until_ready

pytestmark = pytest.mark.integration

SERVICES = 20_000  # a push that keeps a worker busy for a few seconds
HEARTBEAT_TIMEOUT = "6"  # seconds: a dead run's lease lapses quickly in this test


def hsds_body(count: int, *, name: str = "Perhetalo") -> bytes:
    return orjson.dumps(
        {
            "total_items": count,
            "total_pages": 1,
            "page_number": 1,
            "contents": [
                {
                    "id": f"svc-{i}",
                    "name": f"{name} {i}",
                    "description": f"Avoin kohtaamispaikka perheille, ryhmä {i}.",
                    "status": "active",
                }
                for i in range(count)
            ],
        }
    )


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def pool_children(pid: int) -> list[int]:
    """The prefork pool's children of the worker's main process (Linux /proc)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


def outcome(run: SyncRun) -> str:
    run.refresh_from_db()
    return run.outcome


@pytest.fixture
def prefork_worker(transactional_db, broker_mode, tmp_path: Path) -> Iterator[subprocess.Popen]:
    log_path = tmp_path / "worker.log"
    name = f"pesa-crash-{os.getpid()}-{time.monotonic_ns()}"
    with log_path.open("ab") as log:
        worker = start_worker(
            name=name,
            log=log,
            pool="prefork",
            extra_env={"PESA_SYNC_HEARTBEAT_TIMEOUT": HEARTBEAT_TIMEOUT},
        )
        worker.log_path = log_path  # type: ignore[attr-defined]
        try:
            wait_until_ready(worker, name)
            yield worker
        except Exception:
            print(log_path.read_text(errors="replace")[-6000:])  # noqa: T201
            raise
        finally:
            stop_worker(worker)


def test_a_push_whose_worker_child_is_killed_mid_run_is_applied_once_and_frees_the_source(
    prefork_worker,
):
    source = Source.objects.create(name="NGO push", slug="ngo-push", kind="ngo", format="hsds")
    run = receive_push(source=source, body=hsds_body(SERVICES), content_type="application/json")

    wait_for(lambda: outcome(run) == SyncRun.Outcome.RUNNING, timeout=40, what="run started")
    (child,) = wait_for(lambda: pool_children(prefork_worker.pid), timeout=5, what="pool child")
    os.kill(child, signal.SIGKILL)

    finished = (SyncRun.Outcome.SUCCEEDED, SyncRun.Outcome.FAILED, SyncRun.Outcome.HELD)
    wait_for(lambda: outcome(run) in finished, timeout=60, what="the push applied after the kill")

    assert prefork_worker.poll() is None, "the main worker process survived its child"
    assert child not in pool_children(prefork_worker.pid)
    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert run.created == SERVICES, "the killed attempt applied nothing; the retry all of it"
    assert Service.objects.filter(source=source).count() == SERVICES
    assert SyncRun.objects.filter(payload=run.payload_id).count() == 1
    assert PushPayload.objects.get(pk=run.payload_id).processed_at is not None
    assert not SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING).exists()
    assert "took over the dead attempt's lease" in prefork_worker.log_path.read_text(
        errors="replace"
    )

    following = receive_push(
        source=source, body=hsds_body(3, name="Uusi nimi"), content_type="application/json"
    )
    wait_for(lambda: outcome(following) in finished, timeout=20, what="the next push went through")
    assert following.outcome == SyncRun.Outcome.SUCCEEDED, following.message
    assert following.updated == 3
    assert not SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING).exists()
