from datetime import timedelta

import pytest
from django.utils import timezone

from federation.exceptions import FeedRejected, PushRejected
from federation.models import PushPayload, Source, SyncRun
from federation.services import (
    authenticate_push,
    create_source,
    enqueue_due_sources,
    issue_push_token,
    receive_push,
    revoke_push_token,
)
from federation.services.importing import bundled_documents, importer_options
from importers.base import FeedUnavailable
from tests.factories.federation import SourceFactory

pytestmark = pytest.mark.django_db


def test_a_source_is_created_with_a_known_format_and_a_web_url():
    source = create_source(
        slug="ptv-16",
        name="PTV",
        kind="wellbeing_services_county",
        format="ptv",
        url="https://api.palvelutietovaranto.suomi.fi/api/v11",
    )

    assert (source.max_withdrawn_percent, source.min_record_count, source.enabled) == (20, 1, True)
    assert not source.is_push_only


@pytest.mark.parametrize(
    ("format", "url", "message"),
    [
        ("nope", "https://x.fi", "unknown format"),
        ("ptv", "ftp://x.fi/feed", "must start with http"),
    ],
)
def test_a_source_with_an_unknown_format_or_url_scheme_is_refused(format, url, message):
    with pytest.raises(FeedRejected, match=message):
        create_source(slug="s", name="S", kind="ngo", format=format, url=url)


def test_file_urls_are_refused_where_bundled_files_are_off(settings):
    settings.PESA_FEED_ALLOW_FILE_URLS = False

    with pytest.raises(FeedRejected, match="file: URLs"):
        create_source(slug="s", name="S", kind="ngo", format="hsds", url="file:hsds-example")
    with pytest.raises(FeedUnavailable):
        list(bundled_documents("file:hsds-example"))


def test_bundled_files_cannot_escape_their_folder():
    with pytest.raises(FeedUnavailable, match="no bundled feed"):
        list(bundled_documents("file:../../cms/settings/base.py"))


def test_a_county_scope_is_passed_to_the_importer_as_its_municipalities():
    source = SourceFactory(
        area_scope=["04", "091"], importer_options={"include_whole_country": True}
    )

    options = importer_options(source=source)

    assert options["municipalities"] == ["091", "092", "245"]
    assert options["include_whole_country"] is True


def test_a_push_token_is_stored_hashed_and_shown_once():
    source = SourceFactory()

    token = issue_push_token(source=source)

    source.refresh_from_db()
    assert token.startswith("pesa_") and len(token) > 40
    assert token not in (source.push_token_hash, source.push_token_hint)
    assert len(source.push_token_hash) == 64
    assert authenticate_push(slug=source.slug, token=token) == source


def test_a_bad_or_revoked_token_is_401_and_another_sources_token_is_403():
    source, other = SourceFactory(), SourceFactory()
    token = issue_push_token(source=source)
    other_token = issue_push_token(source=other)

    with pytest.raises(PushRejected) as wrong:
        authenticate_push(slug=source.slug, token="pesa_wrong")
    with pytest.raises(PushRejected) as foreign:
        authenticate_push(slug=source.slug, token=other_token)
    revoke_push_token(source=source)
    with pytest.raises(PushRejected) as revoked:
        authenticate_push(slug=source.slug, token=token)

    assert (wrong.value.status, foreign.value.status, revoked.value.status) == (401, 403, 401)


def test_a_push_is_stored_and_its_run_queued_before_any_processing(
    django_capture_on_commit_callbacks,
):
    source = SourceFactory(format="hsds", url="")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = receive_push(source=source, body=b'{"contents": []}', content_type="application/json")

    assert run.outcome == SyncRun.Outcome.QUEUED
    assert run.trigger == SyncRun.Trigger.PUSH
    assert bytes(PushPayload.objects.get(run=run).body) == b'{"contents": []}'
    assert len(callbacks) == 1, "the task is enqueued on commit"


def test_due_sources_are_queued_once_and_their_next_times_move_on(
    django_capture_on_commit_callbacks, monkeypatch
):
    from federation import tasks

    sent = []
    monkeypatch.setattr(tasks.sync_source_task, "delay_on_commit", lambda *args: sent.append(args))
    now = timezone.now()
    source = SourceFactory(incremental_interval_minutes=60, full_sync_interval_hours=24)

    assert enqueue_due_sources(now=now) == [source.pk]
    assert enqueue_due_sources(now=now + timedelta(minutes=1)) == []

    source.refresh_from_db()
    assert sent == [(source.pk, True, "schedule")]
    assert source.next_sync_at == now + timedelta(minutes=60)
    assert source.next_full_sync_at == now + timedelta(hours=24)
    Source.objects.filter(pk=source.pk).update(watermark="2026-01-01T00:00:00+00:00")
    enqueue_due_sources(now=now + timedelta(minutes=61))
    assert sent[-1] == (source.pk, False, "schedule"), "between full syncs the run is incremental"
