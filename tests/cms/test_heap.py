"""The web workers' heap is frozen out of the cyclic collector's sight (cms/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cms import heap


@pytest.fixture
def freezes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts `freeze_heap` calls instead of freezing the test process."""
    calls: list[int] = []
    monkeypatch.setattr(heap, "freeze_heap", lambda: calls.append(1))
    return calls


def app(environ: dict, start_response) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ.get("fail"):
        raise RuntimeError("boom")
    return [b"ok"]


def call(application, **environ) -> list[bytes]:
    return application(environ, lambda status, headers: None)


def test_the_heap_is_frozen_once_after_the_warm_up_requests(freezes: list[int]) -> None:
    application = heap.FreezeHeapAfterWarmUp(app, requests=3)

    answers = [call(application) for _ in range(2)]
    assert freezes == []
    answers += [call(application) for _ in range(5)]

    assert freezes == [1]
    assert answers == [[b"ok"]] * 7


def test_a_failing_request_counts_towards_the_warm_up(freezes: list[int]) -> None:
    application = heap.FreezeHeapAfterWarmUp(app, requests=2)

    with pytest.raises(RuntimeError):
        call(application, fail=True)
    call(application)

    assert freezes == [1]


def test_zero_warm_up_requests_never_freezes(freezes: list[int]) -> None:
    application = heap.FreezeHeapAfterWarmUp(app, requests=0)

    for _ in range(5):
        call(application)

    assert freezes == []


def test_the_web_application_freezes_start_up_and_then_the_warm_heap(
    freezes: list[int], settings
) -> None:
    settings.PESA_GC_FREEZE_AFTER_REQUESTS = 2

    application = heap.web_application(app)
    assert freezes == [1]
    call(application)
    call(application)

    assert freezes == [1, 1]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_freezing_moves_surviving_objects_out_of_the_collectors_sight(unfrozen: None) -> None:
    survivor = [[] for _ in range(100)]

    heap.freeze_heap()

    assert gc.get_freeze_count() >= len(survivor)
