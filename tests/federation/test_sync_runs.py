"""A crash never strands a source: the lock is a lease owned by a run, a run whose worker
is gone is failed and its source freed, and a push payload is applied exactly once."""

import time
from collections.abc import Callable

import orjson
import pytest
from celery.exceptions import Retry
from django.utils import timezone

from federation.exceptions import SourceBusy
from federation.models import PushPayload, Service, Source, SyncRun
from federation.services import receive_push
from federation.sync import orchestration, sync_source
from federation.sync.lifecycle import fail_stale_runs
from federation.sync.locks import source_lock
from federation.tasks import busy_retries, fail_stale_runs_task, sync_source_task
from tests.factories.federation import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "redis"], ids=["database-lock", "redis-lock"])
def lock_kind(request, settings) -> str:
    """Every lease promise holds for both locks: Redis (production) and the database row."""
    if request.param == "database":
        settings.REDIS_URL = ""
    else:
        assert settings.REDIS_URL, "the Redis lock needs the test Redis (REDIS_URL)"
    return request.param


@pytest.fixture
def short_lease(settings) -> float:
    settings.PESA_SYNC_HEARTBEAT_TIMEOUT = 0.6
    return 0.6


def running_run(source: Source) -> SyncRun:
    return SyncRun.objects.create(
        source=source,
        trigger=SyncRun.Trigger.SCHEDULE,
        mode=SyncRun.Mode.FULL,
        outcome=SyncRun.Outcome.RUNNING,
        started_at=timezone.now(),
    )


def wait_until(condition: Callable[[], bool], *, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def hsds(*names: str) -> bytes:
    return orjson.dumps(
        {
            "total_items": len(names),
            "total_pages": 1,
            "page_number": 1,
            "contents": [
                {"id": f"svc-{i}", "name": name, "status": "active"} for i, name in enumerate(names)
            ],
        }
    )


@pytest.fixture
def push_source() -> Source:
    return SourceFactory(format="hsds", url="")


# ---------------------------------------------------------------------------
# The lease
# ---------------------------------------------------------------------------
def test_a_lease_names_the_run_that_holds_it(lock_kind, source):
    run = running_run(source)
    lock = source_lock(source=source, run=run)

    assert lock.acquire()
    assert source_lock(source=source).owner() == run.pk
    lock.release()
    assert source_lock(source=source).owner() is None


def test_a_lease_lapses_when_its_run_stops_renewing_it(lock_kind, source, short_lease):
    dead = source_lock(source=source, run=running_run(source))
    assert dead.acquire()

    wait_until(lambda: source_lock(source=source).owner() is None)
    assert source_lock(source=source).acquire()


def test_the_heartbeat_keeps_a_live_runs_lease_through_a_long_statement(
    settings, source, short_lease
):
    assert settings.REDIS_URL, "the heartbeat thread renews the Redis lease"
    run = running_run(source)
    lock = source_lock(source=source, run=run)
    assert lock.acquire()

    with lock.heartbeat():
        time.sleep(short_lease * 3)  # one long COPY: no keep_alive from the run itself
        assert source_lock(source=source).owner() == run.pk
    lock.keep_alive(force=True)
    lock.release()


def test_a_run_that_lost_its_lease_before_committing_applies_nothing(
    lock_kind, source, feed, sync, monkeypatch
):
    feed.services("a", "b")
    real_apply = orchestration.apply_plan

    def apply_then_lose_the_lease(**kwargs):
        counts = real_apply(**kwargs)
        # The lease lapsed meanwhile and another holder took the source.
        taker = source_lock(source=source)
        if lock_kind == "redis":
            taker.client.set(taker.name, "0:someone-else", px=5000)
        else:
            Source.objects.filter(pk=source.pk).update(lock_token="0:someone-else")
        return counts

    monkeypatch.setattr(orchestration, "apply_plan", apply_then_lose_the_lease)

    run = sync(source)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert "expired" in run.message
    assert not Service.objects.filter(source=source).exists()


# ---------------------------------------------------------------------------
# Stale runs
# ---------------------------------------------------------------------------
def test_the_sweep_fails_a_running_run_whose_lease_lapsed_and_frees_its_source(
    lock_kind, source, short_lease
):
    dead = running_run(source)
    assert source_lock(source=source, run=dead).acquire()  # then its worker died
    wait_until(lambda: source_lock(source=source).owner() is None)

    assert fail_stale_runs_task() == [dead.pk]

    dead.refresh_from_db()
    assert dead.outcome == SyncRun.Outcome.FAILED
    assert dead.message.startswith("interrupted: worker lost")
    assert dead.finished_at is not None
    assert source_lock(source=source).acquire()


def test_the_sweep_leaves_a_run_that_holds_its_lease_alone(lock_kind, source):
    live = running_run(source)
    lock = source_lock(source=source, run=live)
    assert lock.acquire()

    assert fail_stale_runs() == []

    live.refresh_from_db()
    assert live.outcome == SyncRun.Outcome.RUNNING
    lock.release()


def test_a_dead_run_is_failed_and_its_source_freed_within_two_minutes(settings):
    sweep = settings.CELERY_BEAT_SCHEDULE["fail-stale-runs"]
    assert sweep["task"] == fail_stale_runs_task.name
    assert settings.PESA_SYNC_HEARTBEAT_TIMEOUT + sweep["schedule"] <= 120
    assert settings.PESA_SYNC_HEARTBEAT_TIMEOUT >= 3 * 10, "three missed heartbeats at least"


# ---------------------------------------------------------------------------
# Redelivery and exactly once
# ---------------------------------------------------------------------------
def test_a_redelivered_push_takes_over_its_dead_attempts_lease_and_applies_the_payload(
    lock_kind, push_source
):
    run = receive_push(source=push_source, body=hsds("Perhetalo"), content_type="application/json")
    SyncRun.objects.filter(pk=run.pk).update(outcome="running", started_at=timezone.now())
    assert source_lock(source=push_source, run=run).acquire()  # the killed attempt's lease
    payload = PushPayload.objects.get(pk=run.payload_id)

    with pytest.raises(SourceBusy):
        sync_source(source=push_source, trigger="push", payload=payload)
    finished = sync_source(source=push_source, trigger="push", payload=payload, redelivered=True)

    assert finished.pk == run.pk
    assert finished.outcome == SyncRun.Outcome.SUCCEEDED, finished.message
    assert Service.objects.get(source=push_source, origin_id="svc-0").name == {"en": "Perhetalo"}
    assert source_lock(source=push_source).acquire(), "the lease was released"


def test_the_sync_task_tells_the_engine_its_message_was_redelivered(lock_kind, push_source):
    run = receive_push(source=push_source, body=hsds("Perhetalo"), content_type="application/json")
    SyncRun.objects.filter(pk=run.pk).update(outcome="running", started_at=timezone.now())
    assert source_lock(source=push_source, run=run).acquire()

    sync_source_task.push_request(delivery_info={"redelivered": True}, retries=0)
    try:
        assert sync_source_task.run(push_source.pk, False, "push", run.payload_id) == run.pk
    finally:
        sync_source_task.pop_request()

    run.refresh_from_db()
    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message


def test_a_redelivered_push_never_takes_the_lease_of_another_run(lock_kind, push_source):
    other = running_run(push_source)
    lock = source_lock(source=push_source, run=other)
    assert lock.acquire()
    run = receive_push(source=push_source, body=hsds("Perhetalo"), content_type="application/json")
    SyncRun.objects.filter(pk=run.pk).update(outcome="running", started_at=timezone.now())

    with pytest.raises(SourceBusy):
        sync_source(source=push_source, trigger="push", payload=run.payload, redelivered=True)

    assert source_lock(source=push_source).owner() == other.pk
    lock.release()


def test_a_payload_applied_by_a_finished_run_is_never_applied_again(push_source):
    first = receive_push(source=push_source, body=hsds("Vanha"), content_type="application/json")
    sync_source(source=push_source, trigger="push", payload=first.payload)
    second = receive_push(source=push_source, body=hsds("Uusi"), content_type="application/json")
    sync_source(source=push_source, trigger="push", payload=second.payload)
    first.refresh_from_db()
    finished_at = first.finished_at

    again = sync_source(source=push_source, trigger="push", payload=first.payload, redelivered=True)

    assert again.pk == first.pk
    assert (again.outcome, again.finished_at) == (SyncRun.Outcome.SUCCEEDED, finished_at)
    assert Service.objects.get(source=push_source, origin_id="svc-0").name == {"en": "Uusi"}
    assert SyncRun.objects.filter(source=push_source).count() == 2


# ---------------------------------------------------------------------------
# Retry policy
# ---------------------------------------------------------------------------
def test_a_busy_push_keeps_retrying_until_a_dead_runs_lease_has_lapsed(
    settings, push_source, monkeypatch
):
    settings.REDIS_URL = ""
    holder = source_lock(source=push_source, run=running_run(push_source))
    assert holder.acquire()
    run = receive_push(source=push_source, body=hsds("Perhetalo"), content_type="application/json")
    asked = {}

    def retry(**kwargs):
        asked.update(kwargs)
        return Retry(when=kwargs.get("countdown"))

    monkeypatch.setattr(sync_source_task, "retry", retry)
    sync_source_task.push_request(retries=0, delivery_info={})
    try:
        with pytest.raises(Retry):
            sync_source_task.run(push_source.pk, False, "push", run.payload_id)
    finally:
        sync_source_task.pop_request()

    assert 0 < asked["countdown"] <= settings.PESA_SYNC_HEARTBEAT_TIMEOUT
    budget = asked["countdown"] * asked["max_retries"]
    assert budget >= settings.CELERY_TASK_TIME_LIMIT + settings.PESA_SYNC_HEARTBEAT_TIMEOUT
    run.refresh_from_db()
    assert run.outcome == SyncRun.Outcome.QUEUED


def test_a_push_that_stays_busy_past_its_retries_is_failed_not_left_queued(settings, push_source):
    settings.REDIS_URL = ""
    assert source_lock(source=push_source, run=running_run(push_source)).acquire()
    run = receive_push(source=push_source, body=hsds("Perhetalo"), content_type="application/json")

    sync_source_task.push_request(retries=busy_retries(), delivery_info={})
    try:
        with pytest.raises(SourceBusy):
            sync_source_task.run(push_source.pk, False, "push", run.payload_id)
    finally:
        sync_source_task.pop_request()

    run.refresh_from_db()
    assert run.outcome == SyncRun.Outcome.FAILED
    assert run.message.startswith("source busy")


def test_the_sync_task_is_requeued_when_its_worker_child_dies():
    assert sync_source_task.acks_late is True
    assert sync_source_task.reject_on_worker_lost is True


def test_an_eager_busy_push_gives_up_at_once_instead_of_retrying_in_its_own_stack(
    settings, push_source
):
    settings.REDIS_URL = ""
    assert source_lock(source=push_source, run=running_run(push_source)).acquire()
    run = receive_push(source=push_source, body=hsds("Perhetalo"), content_type="application/json")

    with pytest.raises(SourceBusy):
        sync_source_task.apply(args=(push_source.pk, False, "push", run.payload_id), throw=True)

    run.refresh_from_db()
    assert run.outcome == SyncRun.Outcome.FAILED
