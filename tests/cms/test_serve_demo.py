"""`make demo` leaves nothing it queues unrun: with a broker, a worker and beat serve it."""

import pytest
from django.core.management import call_command

from cms.management.commands import serve_demo


class FakeWorker:
    def __init__(self, command):
        self.command = command
        self.terminated = False

    def terminate(self):
        self.terminated = True

    def wait(self, timeout):
        return 0


@pytest.fixture
def started(monkeypatch):
    workers = []
    served = []
    monkeypatch.setattr(
        serve_demo.subprocess,
        "Popen",
        lambda command: workers.append(FakeWorker(command)) or workers[-1],
    )
    monkeypatch.setattr(serve_demo, "call_command", lambda *args: served.append(args))
    monkeypatch.delenv("RUN_MAIN", raising=False)
    return workers, served


def test_with_a_broker_a_worker_with_beat_on_every_queue_serves_beside_the_web_server(
    settings, started
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    workers, served = started

    call_command("serve_demo", "127.0.0.1:8123")

    assert served == [("runserver", "127.0.0.1:8123")]
    [worker] = workers
    assert worker.command[2:5] == ["celery", "-A", "cms"]
    assert "--beat" in worker.command
    assert "--queues=celery,webhooks" in worker.command
    assert worker.terminated


def test_eager_celery_needs_no_worker(settings, started):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    workers, served = started

    call_command("serve_demo")

    assert served == [("runserver", "127.0.0.1:8000")]
    assert workers == []


def test_the_reloaded_server_starts_no_second_worker(settings, started, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setenv("RUN_MAIN", "true")
    workers, _ = started

    call_command("serve_demo")

    assert workers == []
