import time

import pytest

from cms.models import WorkerHeartbeat
from cms.tasks import record_worker_heartbeat_task

pytestmark = pytest.mark.integration


def test_task_sent_through_redis_is_run_by_a_worker_process_and_written_to_postgres(
    celery_worker_process,
):
    result = record_worker_heartbeat_task.delay("integration-probe")

    assert result.id, "the task was published to the broker"
    deadline = time.monotonic() + 30
    while not WorkerHeartbeat.objects.filter(hostname="integration-probe").exists():
        assert time.monotonic() < deadline, "the worker did not write the heartbeat row in 30 s"
        time.sleep(0.2)
    assert celery_worker_process.poll() is None, "the worker is still running"
