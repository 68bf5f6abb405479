"""`make demo`'s server: runserver, plus a Celery worker with beat when tasks are queued.

With nothing set, Celery is eager and runserver is all. With `REDIS_URL` set, tasks go
to the broker, so a worker (every queue, beat inside it) runs beside the web server and
stops with it: nothing the demo queues is left unrun.
"""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serves the demo; with a broker configured, also runs a Celery worker and beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: object, **options: object) -> None:
        # runserver's autoreloader runs this command again in its child (RUN_MAIN): one
        # worker, started by the parent, is enough.
        reloaded_child = os.environ.get("RUN_MAIN") == "true"
        eager = settings.CELERY_TASK_ALWAYS_EAGER
        worker = None if eager or reloaded_child else self.start_worker()
        try:
            call_command("runserver", options["addrport"])
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def start_worker(self) -> subprocess.Popen[bytes]:
        queues = sorted(
            {"celery", *(route["queue"] for route in settings.CELERY_TASK_ROUTES.values())}
        )
        self.stdout.write(f"Celery worker with beat on queues {', '.join(queues)} (broker: Redis)")
        return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cms",
                "worker",
                "--beat",
                f"--queues={','.join(queues)}",
                "--concurrency=1",
                "--loglevel=INFO",
                f"--schedule={settings.BASE_DIR / 'var' / 'celerybeat-schedule'}",
            ]
        )
