"""A real Celery worker process on the Redis broker, writing to the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from cms.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def database_url_for_worker() -> str:
    """The worker must write to the test database pytest-django created, not the real one:
    the session's server (DATABASE_URL, exported for the embedded one too), that database."""
    server = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(server._replace(path=f"/{settings.DATABASES['default']['NAME']}"))


def start_worker(
    *, name: str, log: BinaryIO, extra_env: dict[str, str] | None = None, pool: str = "solo"
) -> subprocess.Popen[bytes]:
    """A Celery worker in its own process; `pool="prefork"` runs tasks in a forked child,
    as production's default pool does."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATABASE_URL": database_url_for_worker(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PESA_WORKER_PROCESS": "1",
        **(extra_env or {}),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cms",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            f"--hostname={name}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until_ready(worker: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"Celery worker {name} exited with {worker.returncode}")
        replies = celery_app.control.ping(timeout=0.5) or []
        if any(name in next(iter(reply)) for reply in replies):
            return
    raise RuntimeError(f"Celery worker {name} did not answer a ping in {timeout} s")


@pytest.fixture
def broker_mode() -> Iterator[None]:
    """Sends tasks through Redis instead of running them in-process."""
    celery_app.conf.task_always_eager = False
    use_broker(settings.CELERY_BROKER_URL)
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()  # no stray tasks from an earlier run
    yield
    use_broker(settings.CELERY_BROKER_URL)
    celery_app.conf.task_always_eager = True


def use_broker(url: str) -> None:
    """Points the app at `url`, dropping pooled connections to any other broker.

    The read and write URLs too: Celery prefers a `CELERY_BROKER_URL` in the environment
    over `broker_url`, but not over them."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_read_url = url
    celery_app.conf.broker_write_url = url
    celery_app.close()  # closes and forgets the producer pool built for the old URL


@pytest.fixture
def celery_worker_process(
    transactional_db: None, broker_mode: None, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A separately started worker process; the test's writes must be committed to be seen."""
    name = f"pesa-test-{os.getpid()}-{time.monotonic_ns()}"
    log_path = tmp_path / "worker.log"
    with log_path.open("ab") as log:
        worker = start_worker(name=name, log=log)
        try:
            wait_until_ready(worker, name)
            yield worker
        except Exception:
            sys.stderr.write(log_path.read_text(errors="replace"))
            raise
        finally:
            stop_worker(worker)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
