"""A sync that rewrote a large share of a table refreshes its planner statistics after the
commit (federation/sync/statistics.py); a small change leaves them alone."""

from __future__ import annotations

import pytest
from django.db import connection

from federation.models import Service
from federation.sync import apply, statistics

SERVICE_TABLES = [
    "federation_service",
    "federation_servicearea",
    "federation_servicecode",
    "federation_servicechannel",
]


@pytest.fixture
def refreshed(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The tables each run's after-commit refresh analysed."""
    calls: list[list[str]] = []
    real = statistics.refresh_statistics

    def recorded(written):
        calls.append(real(written))
        return calls[-1]

    monkeypatch.setattr(apply, "refresh_statistics", recorded)
    return calls


def believed_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def analyse(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


@pytest.mark.django_db
def test_a_first_sync_refreshes_the_statistics_of_the_tables_it_filled(
    source, feed, sync, refreshed, django_capture_on_commit_callbacks
) -> None:
    analyse("federation_service")  # the table as the planner knows it: empty
    feed.services("s-1", "s-2", "s-3")

    with django_capture_on_commit_callbacks(execute=True):
        sync(source)

    assert refreshed == [SERVICE_TABLES]
    assert believed_rows("federation_service") == 3


@pytest.mark.django_db
def test_a_sync_that_rewrites_a_small_share_leaves_the_statistics_alone(
    source, feed, sync, refreshed, django_capture_on_commit_callbacks
) -> None:
    ids = [f"s-{n}" for n in range(30)]
    feed.services(*ids)
    with django_capture_on_commit_callbacks(execute=True):
        sync(source)
    feed.services(*ids, **{"s-1": "Uusi nimi", "s-2": "Toinen nimi"})

    with django_capture_on_commit_callbacks(execute=True):
        sync(source)

    assert Service.objects.filter(name__fi="Uusi nimi").exists()
    assert refreshed == [SERVICE_TABLES, []]


@pytest.mark.django_db
def test_an_unchanged_sync_does_not_look_at_the_statistics(
    source, feed, sync, refreshed, django_capture_on_commit_callbacks
) -> None:
    feed.services("s-1", "s-2")
    with django_capture_on_commit_callbacks(execute=True):
        sync(source)

    with django_capture_on_commit_callbacks(execute=True):
        sync(source)

    assert len(refreshed) == 1


@pytest.mark.django_db
def test_stale_tables_compare_the_rows_written_with_what_the_planner_believes(
    source, feed, sync, django_capture_on_commit_callbacks
) -> None:
    feed.services(*[f"s-{n}" for n in range(50)])
    sync(source)
    analyse("federation_service")

    assert statistics.stale_tables({Service: 5}) == []
    assert statistics.stale_tables({Service: 6}) == SERVICE_TABLES
    assert statistics.stale_tables({Service: 0}) == []
