"""The sync contract (DESIGN.md), one test per promise."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from federation.exceptions import SourceUnavailable
from federation.models import (
    Channel,
    Organization,
    RecordIssue,
    Service,
    ServiceArea,
    ServiceCode,
    SyncRun,
)
from federation.sync import apply, orchestration, sync_source
from federation.sync.locks import source_lock
from tests.factories.federation import SourceFactory

pytestmark = pytest.mark.django_db

RECORD_TABLES = ("federation_service", "federation_organization", "federation_channel")


def statuses(source):
    return dict(Service.objects.filter(source=source).values_list("origin_id", "status"))


def test_first_full_sync_creates_every_record_and_records_the_run(source, feed, sync):
    feed.services("a", "b", "c")

    run = sync(source)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED
    assert (run.created, run.updated, run.unchanged, run.withdrawn) == (3, 0, 0, 0)
    assert statuses(source) == {"a": "active", "b": "active", "c": "active"}
    service = Service.objects.get(source=source, origin_id="a")
    assert service.name == {"fi": "Palvelu a"}
    assert len(service.content_hash) == 64
    assert service.first_seen_at == service.synced_at


def row_versions():
    """PostgreSQL's xmin changes whenever a row is written."""
    with connection.cursor() as cursor:
        return {
            table: cursor.execute(f"SELECT id, xmin::text FROM {table} ORDER BY id").fetchall()  # noqa: S608
            for table in RECORD_TABLES
        }


def test_re_running_the_same_feed_writes_no_record_rows(source, feed, sync):
    feed.services("a", "b", "c")
    sync(source)
    versions = row_versions()

    with CaptureQueriesContext(connection) as queries:
        run = sync(source)

    assert (run.created, run.updated, run.unchanged, run.withdrawn) == (0, 0, 3, 0)
    inserts_or_deletes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "DELETE"))
        and any(f'"{t}"' in q["sql"] for t in RECORD_TABLES)
    ]
    assert inserts_or_deletes == []
    assert row_versions() == versions, "no record row was rewritten"


def test_a_changed_record_is_the_only_one_written(source, feed, sync):
    feed.services("a", "b")
    sync(source)
    before = Service.objects.get(origin_id="a").synced_at

    feed.services("a", "b", b="Uusi nimi")
    run = sync(source)

    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    assert Service.objects.get(origin_id="b").name == {"fi": "Uusi nimi"}
    assert Service.objects.get(origin_id="a").synced_at == before


def test_a_record_missing_from_a_complete_sync_is_withdrawn_not_deleted(source, feed, sync):
    feed.services(*"abcdefghij")
    sync(source)

    feed.services(*"abcdefghi")
    run = sync(source)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED
    assert run.withdrawn == 1
    withdrawn = Service.objects.get(origin_id="j")
    assert withdrawn.status == "withdrawn"
    assert withdrawn.withdrawn_at is not None
    assert withdrawn.withdrawn_reason == "missing from a complete sync"
    assert Service.objects.filter(source=source).count() == 10


def test_a_withdrawn_record_comes_back_when_it_reappears(source, feed, sync):
    feed.services(*"abcdefghij")
    sync(source)
    feed.services(*"abcdefghi")
    sync(source)

    feed.services(*"abcdefghij")
    run = sync(source)

    assert run.updated == 1
    assert "1 reactivated" in run.message
    service = Service.objects.get(origin_id="j")
    assert (service.status, service.withdrawn_at, service.withdrawn_reason) == ("active", None, "")


def test_an_incremental_sync_withdraws_only_what_the_feed_marks_withdrawn(source, feed, sync):
    feed.services(*"abcdefghij")
    sync(source)

    feed.items = [{"id": "a", "name": "A2"}, {"id": "b", "withdrawn": True}]
    run = sync(source, full=False)

    assert run.mode == SyncRun.Mode.INCREMENTAL
    assert (run.updated, run.withdrawn) == (1, 1)
    assert statuses(source)["b"] == "withdrawn"
    assert statuses(source)["c"] == "active", "records missing from an incremental feed stay"
    assert Service.objects.get(origin_id="b").withdrawn_reason == "marked withdrawn by the feed"


def test_the_incremental_sync_asks_for_changes_since_the_watermark(source, feed, sync):
    """A feed without timestamps: the watermark is the run's start, less the overlap."""
    feed.services("a")
    first = sync(source)
    source.refresh_from_db()
    assert source.watermark == first.started_at.isoformat()

    watermark = (first.started_at - timedelta(minutes=10)).isoformat()
    captured = {}
    importer = orchestration.importer_class(source.format)
    original_init = importer.__init__

    def init(self, **kwargs):
        captured["since"] = kwargs.get("since")
        original_init(self, **kwargs)

    importer.__init__ = init
    try:
        sync(source, full=False)
    finally:
        importer.__init__ = original_init
    assert captured["since"] == watermark


def test_the_deletion_guard_holds_a_run_that_would_withdraw_too_much(source, feed, sync):
    feed.services(*"abcdefghij")
    sync(source)

    feed.services(*"abcdefg", a="Muutettu")
    run = sync(source)

    assert run.outcome == SyncRun.Outcome.HELD
    assert "would withdraw 3 of 10 records (30%)" in run.message
    assert set(statuses(source).values()) == {"active"}
    assert Service.objects.get(origin_id="a").name == {"fi": "Palvelu a"}, (
        "a held run changes nothing"
    )


def test_the_deletion_guard_share_is_per_source(feed, sync, list_importer):
    lenient = SourceFactory(format="test-list", max_withdrawn_percent=50)
    feed.services(*"abcdefghij")
    sync(lenient)

    feed.services(*"abcdefg")
    run = sync(lenient)

    assert (run.outcome, run.withdrawn) == (SyncRun.Outcome.SUCCEEDED, 3)


def test_a_complete_feed_below_the_minimum_record_count_is_held(feed, sync, list_importer):
    source = SourceFactory(format="test-list", min_record_count=5)
    feed.services("a", "b")

    run = sync(source)

    assert run.outcome == SyncRun.Outcome.HELD
    assert "fewer than the guard's minimum of 5" in run.message
    assert not Service.objects.filter(source=source).exists()


def test_an_empty_feed_keeps_existing_records(source, feed, sync):
    feed.services("a", "b")
    sync(source)

    feed.items = []
    run = sync(source)

    assert run.outcome == SyncRun.Outcome.HELD
    assert run.message == "the feed has no records; nothing changed"
    assert set(statuses(source).values()) == {"active"}


def test_a_failed_fetch_keeps_existing_records_and_is_retryable(source, feed):
    feed.services("a")
    sync_source(source=source, trigger="cli", full=True, transport=feed.transport)
    feed.status = 503

    with pytest.raises(SourceUnavailable) as raised:
        sync_source(source=source, trigger="cli", full=True, transport=feed.transport)

    run = raised.value.run
    assert run.outcome == SyncRun.Outcome.FAILED
    assert "HTTP 503" in run.message
    assert statuses(source) == {"a": "active"}


def test_an_unparsable_feed_fails_and_changes_nothing(source, feed, sync):
    feed.services("a")
    sync(source)
    feed.body = b"<html>not json"

    run = sync(source)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert run.message.startswith("feed cannot be read:")
    assert statuses(source) == {"a": "active"}


def test_a_feed_with_only_rejected_records_fails(source, feed, sync):
    feed.services("a")
    sync(source)
    feed.items = [{"id": "a", "error": "missing name", "field": "name"}]

    run = sync(source)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert run.rejected == 1
    assert statuses(source) == {"a": "active"}


def test_rejected_and_repaired_records_become_issues_with_field_and_severity(source, feed, sync):
    feed.items = [
        {"id": "a", "name": "A", "repairs": ["dropped a bad URL"]},
        {"id": "b", "error": "missing name", "field": "name", "kind": "service"},
        {"id": "c", "name": "C"},
    ]

    run = sync(source)

    assert (run.outcome, run.created, run.rejected) == (SyncRun.Outcome.SUCCEEDED, 2, 1)
    issues = {
        (i.origin_id, i.reason, i.severity, i.field_path, i.message) for i in run.issues.all()
    }
    assert issues == {
        ("a", "repaired", "warning", "x", "dropped a bad URL"),
        ("b", "rejected", "error", "name", "missing name"),
    }


def test_a_record_rejected_this_time_is_not_withdrawn_as_missing(source, feed, sync):
    feed.services(*"abcdefghij")
    sync(source)
    feed.items = [*feed.items[:9], {"id": "j", "error": "missing name"}]

    run = sync(source)

    assert (run.outcome, run.withdrawn, run.rejected) == (SyncRun.Outcome.SUCCEEDED, 0, 1)
    assert statuses(source)["j"] == "active"


def test_a_source_never_overwrites_another_sources_records(feed, sync, list_importer):
    first = SourceFactory(format="test-list")
    second = SourceFactory(format="test-list")
    feed.services("shared-id", **{"shared-id": "Ensimmäinen"})
    sync(first)

    feed.services("shared-id", **{"shared-id": "Toinen"})
    sync(second)

    assert Service.objects.get(source=first).name == {"fi": "Ensimmäinen"}
    assert Service.objects.get(source=second).name == {"fi": "Toinen"}


def test_a_run_of_a_source_that_is_already_running_is_skipped(source, feed, sync):
    feed.services("a")
    held = source_lock(source=source)
    assert held.acquire()
    try:
        run = sync(source)
    finally:
        held.release()

    assert run.outcome == SyncRun.Outcome.SKIPPED
    assert not Service.objects.exists()


@pytest.mark.parametrize("redis_url", ["", None], ids=["database-lock", "configured-lock"])
def test_the_lock_is_exclusive_and_released_only_by_its_owner(source, settings, redis_url):
    if redis_url is not None:
        settings.REDIS_URL = redis_url
    first, second = source_lock(source=source), source_lock(source=source)

    assert first.acquire()
    assert not second.acquire()
    second.release()  # not the owner: must not free the lock
    assert not source_lock(source=source).acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_the_database_lock_expires_so_a_killed_run_does_not_block_forever(source, settings):
    settings.REDIS_URL = ""
    settings.PESA_SYNC_HEARTBEAT_TIMEOUT = 0
    dead = source_lock(source=source)
    assert dead.acquire()

    assert source_lock(source=source).acquire()


def test_a_run_interrupted_by_a_dead_worker_is_marked_failed_by_the_next_run(source, feed, sync):
    stale = SyncRun.objects.create(
        source=source, trigger="schedule", mode="full", outcome="running"
    )
    feed.services("a")

    sync(source)

    stale.refresh_from_db()
    assert stale.outcome == SyncRun.Outcome.FAILED
    assert stale.message.startswith("interrupted")


def test_an_error_while_applying_leaves_the_previous_state_intact(source, feed, sync, monkeypatch):
    feed.services("a", "b")
    sync(source)
    feed.services("a", "b", "c", a="Muutettu")

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(apply, "replace_service_children", crash)
    with pytest.raises(RuntimeError):
        sync_source(source=source, trigger="cli", full=True, transport=feed.transport)

    assert statuses(source) == {"a": "active", "b": "active"}
    assert Service.objects.get(origin_id="a").name == {"fi": "Palvelu a"}
    run = SyncRun.objects.filter(source=source).first()
    assert run.outcome == SyncRun.Outcome.FAILED
    assert "worker died" in run.message


def test_nul_bytes_unsafe_html_and_non_web_urls_are_repaired_per_record(source, feed, sync):
    feed.items = [
        {
            "id": "a",
            "data": {
                "name": {"fi": "Nimi\u0000"},
                "description": {"fi": '<p onclick="x()">Hei</p><script>alert(1)</script>'},
                "url": "javascript:alert(1)",
            },
        },
        {
            "id": "b",
            "kind": "channel",
            "data": {
                "name": {"fi": "Kanava"},
                "urls": [{"url": "ftp://x"}, {"url": "https://ok.fi"}],
            },
        },
    ]

    run = sync(source)

    service = Service.objects.get(origin_id="a")
    assert service.name == {"fi": "Nimi"}
    assert "script" not in service.description["fi"] and "onclick" not in service.description["fi"]
    assert "Hei" in service.description["fi"]
    assert service.origin_url == ""
    assert Channel.objects.get(origin_id="b").urls == [{"url": "https://ok.fi"}]
    reasons = {(i.origin_id, i.field_path) for i in run.issues.filter(reason="sanitized")}
    assert reasons == {("a", ""), ("a", "description.fi"), ("a", "url"), ("b", "urls")}


def test_links_areas_codes_and_organisations_are_stored_for_filtering(source, feed, sync):
    feed.items = [
        {"id": "org", "kind": "organization", "data": {"name": {"fi": "Kunta"}}},
        {
            "id": "s1",
            "data": {
                "name": {"fi": "Neuvola"},
                "organization_origin_id": "org",
                "channel_origin_ids": ["c1"],
                "municipality_codes": ["091"],
                "county_codes": ["90"],
                "nationwide": False,
                "target_groups": ["KR1.2"],
                "life_events": ["KE1"],
                "service_classes": ["P3.1"],
            },
        },
        {"id": "s2", "data": {"name": {"fi": "Chat"}, "nationwide": True}},
        {
            "id": "c1",
            "kind": "channel",
            "data": {
                "name": {"fi": "Toimipiste"},
                "service_origin_ids": ["s2"],
                "addresses": [{"municipality_code": "091", "latitude": 60.17, "longitude": 24.94}],
            },
        },
    ]

    sync(source)

    s1 = Service.objects.get(origin_id="s1")
    assert s1.organization == Organization.objects.get(origin_id="org")
    assert set(
        Service.objects.get(origin_id="s2").channels.values_list("origin_id", flat=True)
    ) == {"c1"}
    assert set(s1.channels.values_list("origin_id", flat=True)) == {"c1"}
    assert set(ServiceArea.objects.filter(service=s1).values_list("kind", "code")) == {
        ("municipality", "091"),
        ("county", "90"),
    }
    assert set(
        ServiceArea.objects.filter(service__origin_id="s2").values_list("code", flat=True)
    ) == {"*"}
    assert set(ServiceCode.objects.filter(service=s1).values_list("scheme", "code")) == {
        ("target_group", "KR1.2"),
        ("life_event", "KE1"),
        ("service_class", "P3.1"),
    }
    channel = Channel.objects.get(origin_id="c1")
    assert (channel.municipality_code, channel.latitude, channel.longitude) == ("091", 60.17, 24.94)


def test_a_service_gets_its_organisation_when_the_organisation_arrives_later(source, feed, sync):
    feed.items = [{"id": "s1", "data": {"name": {"fi": "S"}, "organization_origin_id": "org"}}]
    sync(source, full=False)
    feed.items = [{"id": "org", "kind": "organization", "data": {"name": {"fi": "Kunta"}}}]

    sync(source, full=False)

    assert Service.objects.get(origin_id="s1").organization.origin_id == "org"


def test_the_same_id_twice_with_different_content_keeps_the_last_and_warns(source, feed, sync):
    feed.items = [{"id": "a", "name": "Eka"}, {"id": "a", "name": "Toka"}]

    run = sync(source)

    assert Service.objects.get(origin_id="a").name == {"fi": "Toka"}
    assert run.issues.filter(reason=RecordIssue.Reason.DUPLICATE, origin_id="a").exists()


def test_the_source_request_headers_are_sent_with_the_fetch(feed, sync, list_importer):
    source = SourceFactory(format="test-list", request_headers={"X-Api-Key": "s3cret"})
    feed.services("a")

    sync(source)

    assert feed.requests[0].headers["X-Api-Key"] == "s3cret"


def test_a_sync_with_changes_calls_the_completed_hook_after_commit(
    source, feed, sync, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(orchestration, "sync_completed", lambda *, run: calls.append(run.pk))
    feed.services("a")

    with django_capture_on_commit_callbacks(execute=True):
        first = sync(source)
    with django_capture_on_commit_callbacks(execute=True):
        sync(source)

    assert calls == [first.pk], "an unchanged re-run calls no hook"


def test_a_push_only_source_has_nothing_to_fetch(feed, sync, list_importer):
    source = SourceFactory(format="test-list", url="")

    run = sync(source)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert "push-only" in run.message


@override_settings(PESA_FEED_ALLOW_PRIVATE_ADDRESSES=False)
def test_private_feed_addresses_are_refused_by_default(list_importer):
    source = SourceFactory(format="test-list", url="http://127.0.0.1:9/feed.json")

    with pytest.raises(SourceUnavailable) as raised:
        sync_source(source=source, trigger="cli", full=True)

    assert "not allowed" in raised.value.run.message


def test_records_changed_names_every_written_and_withdrawn_record_inside_the_transaction(
    source, feed, sync
):
    from federation.signals import records_changed

    received = []

    def listener(*, source, run, changes, **kwargs):
        from django.db import connection as db

        received.append((changes, db.in_atomic_block))

    records_changed.connect(listener)
    try:
        feed.services(*"abcdefghij")
        sync(source)
        feed.services(*"abcdefghi", b="Uusi nimi")
        sync(source)
        sync(source)
    finally:
        records_changed.disconnect(listener)

    ids = dict(Service.objects.filter(source=source).values_list("origin_id", "pk"))
    assert len(received) == 2, "an unchanged re-run sends nothing"
    first, second = (changes["service"] for changes, _atomic in received)
    assert sorted(first["upserted"]) == sorted(ids.values())
    assert (list(second["upserted"]), list(second["withdrawn"])) == ([ids["b"]], [ids["j"]])
    assert all(atomic for _changes, atomic in received)


def _queries_of_a_re_run(source, feed, sync, ids):
    feed.services(*ids)
    sync(source)
    with CaptureQueriesContext(connection) as queries:
        run = sync(source)
    assert (run.created, run.updated, run.unchanged) == (0, 0, len(ids))
    return len(queries.captured_queries)


def test_an_unchanged_re_run_issues_the_same_number_of_queries_whatever_the_feed_size(
    feed, sync, list_importer
):
    small = _queries_of_a_re_run(SourceFactory(format="test-list"), feed, sync, list("abc"))
    large = _queries_of_a_re_run(
        SourceFactory(format="test-list"), feed, sync, [f"s{i}" for i in range(300)]
    )

    assert large == small


def test_an_incremental_run_links_only_what_it_wrote_and_keeps_every_other_link(source, feed, sync):
    def service(oid, channels=()):
        return {"id": oid, "data": {"name": {"fi": oid}, "channel_origin_ids": list(channels)}}

    def channel(oid, services=()):
        return {
            "id": oid,
            "kind": "channel",
            "data": {"name": {"fi": oid}, "service_origin_ids": list(services)},
        }

    def links():
        from federation.models import ServiceChannel

        return set(ServiceChannel.objects.values_list("service__origin_id", "channel__origin_id"))

    feed.items = [service("s1", ["c1"]), service("s2", ["c2"]), channel("c1"), channel("c2")]
    feed.items += [channel("c3", ["s3"])]  # names a service that arrives later
    sync(source)
    assert links() == {("s1", "c1"), ("s2", "c2")}

    # s1 drops c1 and takes c2; s3 arrives (c3, unchanged, already names it).
    feed.items = [service("s1", ["c2"]), service("s3")]
    with CaptureQueriesContext(connection) as queries:
        run = sync(source, full=False)

    assert (run.created, run.updated, run.withdrawn) == (1, 1, 0)
    assert links() == {("s1", "c2"), ("s2", "c2"), ("s3", "c3")}
    whole_source_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and '"federation_servicechannel"' in q["sql"]
        and "IN (" not in q["sql"]
    ]
    assert whole_source_reads == [], "links are read for the written records only"


def test_a_record_flagged_withdrawn_then_listed_again_in_the_same_feed_is_kept(source, feed, sync):
    feed.services(*"abdefghijk")
    sync(source)
    feed.items = [
        {"id": "a", "name": "Palvelu a"},
        {"id": "a", "withdrawn": True},
        {"id": "b", "withdrawn": True},
        {"id": "b", "name": "Uusi b"},
        {"id": "c", "name": "C"},
        {"id": "c", "name": "C2"},
    ]

    run = sync(source, full=False)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert {k: v for k, v in statuses(source).items() if k in "abc"} == {
        "a": "withdrawn",
        "b": "active",
        "c": "active",
    }
    assert (run.created, run.updated, run.withdrawn) == (1, 1, 1)
    assert Service.objects.get(origin_id="c").name == {"fi": "C2"}
    assert Service.objects.get(origin_id="b").name == {"fi": "Uusi b"}


def test_a_held_run_writes_no_record_rows(source, feed, sync):
    feed.services(*"abcdefghij")
    sync(source)
    feed.services("a", b="Muutettu")
    with CaptureQueriesContext(connection) as queries:
        run = sync(source)

    assert run.outcome == SyncRun.Outcome.HELD
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and any(f'"{t}"' in q["sql"] for t in RECORD_TABLES)
    ]
    assert writes == []
