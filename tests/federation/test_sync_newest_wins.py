"""Newest wins: a feed record older than our stored copy is not applied (federation/sync/recency.py)."""

import pytest

from federation.models import RecordIssue, Service, SyncRun

pytestmark = pytest.mark.django_db

OLD = "2026-11-01T08:00:00+00:00"
NEW = "2026-11-02T08:00:00+00:00"


def item(origin_id, name, modified=None, **extra):
    data = {"name": {"fi": name}}
    if modified is not None:
        data["modified"] = modified
    return {"id": origin_id, "data": data, **extra}


def stored(origin_id):
    return Service.objects.get(origin_id=origin_id)


def stale_issues(run):
    return list(run.issues.filter(message__startswith="stale, older than stored"))


def test_a_record_older_than_the_stored_one_is_not_applied_and_the_owner_is_told(
    source, feed, sync
):
    feed.items = [item("a", "Uusi", NEW), item("b", "B", NEW)]
    sync(source)

    feed.items = [item("a", "Vanha", OLD), item("b", "B2", NEW)]
    run = sync(source, full=False)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED
    assert stored("a").name == {"fi": "Uusi"}
    assert stored("a").origin_modified == NEW
    assert stored("b").name == {"fi": "B2"}, "the rest of the feed is applied"
    assert (run.created, run.updated) == (0, 1), "a stale record is no change"
    (issue,) = stale_issues(run)
    assert (issue.origin_id, issue.record_kind, issue.field_path) == ("a", "service", "modified")
    assert issue.severity == RecordIssue.Severity.ERROR
    assert OLD in issue.message and NEW in issue.message
    assert "1 stale" in run.message


def test_timestamps_in_other_zones_and_forms_compare_as_instants(source, feed, sync):
    feed.items = [item("a", "Uusi", "2026-11-02T10:00:00+02:00")]
    sync(source)

    feed.items = [item("a", "Vanha", "2026-11-02T07:59:59.9999999Z")]
    run = sync(source, full=False)

    assert stored("a").name == {"fi": "Uusi"}
    assert len(stale_issues(run)) == 1


def test_equal_timestamps_with_new_content_are_applied(source, feed, sync):
    feed.items = [item("a", "Eka", NEW)]
    sync(source)

    feed.items = [item("a", "Toka", NEW)]
    run = sync(source, full=False)

    assert run.updated == 1
    assert stored("a").name == {"fi": "Toka"}
    assert stale_issues(run) == []


@pytest.mark.parametrize(("first", "second"), [(NEW, None), (None, OLD), (NEW, "not a date")])
def test_a_record_or_a_row_without_a_readable_timestamp_is_applied(
    source, feed, sync, first, second
):
    feed.items = [item("a", "Eka", first)]
    sync(source)

    feed.items = [item("a", "Toka", second)]
    run = sync(source, full=False)

    assert run.updated == 1
    assert stored("a").name == {"fi": "Toka"}


def test_out_of_order_runs_end_in_the_newest_state(source, feed, sync):
    feed.items = [item("a", "Eka")]
    sync(source)

    for name, modified in (("Kolmas", "2026-11-03T00:00:00Z"), ("Toka", "2026-11-02T00:00:00Z")):
        feed.items = [item("a", name, modified)]
        sync(source, full=False)
    feed.items = [item("a", "Kolmas", "2026-11-03T00:00:00Z")]
    replayed = sync(source, full=False)

    assert stored("a").name == {"fi": "Kolmas"}
    assert (replayed.updated, replayed.unchanged) == (0, 1)


def test_a_stale_record_does_not_bring_back_a_withdrawn_one(source, feed, sync):
    feed.items = [item(i, "Eka", OLD) for i in "abcdefghij"]
    sync(source)
    feed.items = [item("a", "Eka", NEW, withdrawn=True)]
    sync(source, full=False)
    assert stored("a").status == "withdrawn"

    feed.items = [item("a", "Eka", OLD)]
    run = sync(source, full=False)

    assert stored("a").status == "withdrawn"
    assert "reactivated" not in run.message
    assert len(stale_issues(run)) == 1


def test_a_withdrawal_older_than_the_stored_record_is_not_applied(source, feed, sync):
    feed.items = [item(i, i.upper(), NEW) for i in "abcdefghij"]
    sync(source)

    feed.items = [item("a", "A", OLD, withdrawn=True), item("b", "B", NEW, withdrawn=True)]
    run = sync(source, full=False)

    assert stored("a").status == "active"
    assert stored("b").status == "withdrawn", "a withdrawal as new as the record applies"
    assert run.withdrawn == 1
    (issue,) = stale_issues(run)
    assert issue.origin_id == "a"


def test_a_fresh_record_after_a_withdrawal_brings_it_back(source, feed, sync):
    feed.items = [item(i, "Eka", OLD) for i in "abcdefghij"]
    sync(source)
    feed.items = [item("a", "Eka", OLD, withdrawn=True)]
    sync(source, full=False)

    feed.items = [item("a", "Eka", NEW)]
    run = sync(source, full=False)

    assert stored("a").status == "active"
    assert "1 reactivated" in run.message
