import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from federation.models import Source
from tests.factories.federation import (
    RecordIssueFactory,
    ServiceFactory,
    SourceFactory,
    SyncRunFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", "a@x.fi", "pw"))
    return client


def logged_in_with(client, user_model, username: str, *codenames: str):
    """`client` logged in as a new user whose one group grants `codenames`."""
    user = user_model.objects.create_user(username, f"{username}@x.fi", "pw")
    group = Group.objects.create(name=f"{username} group")
    group.permissions.add(*(Permission.objects.get(codename=code) for code in codenames))
    user.groups.add(group)
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(client, django_user_model):
    """An admin user who may see sources and runs but not start a sync."""
    return logged_in_with(
        client, django_user_model, "viewer", "access_admin", "change_source", "view_syncrun"
    )


def test_the_source_list_shows_the_last_run_outcome_and_counts(admin_client):
    source = SourceFactory(name="Vantaa PTV")
    SyncRunFactory(source=source, outcome="held", created=0, withdrawn=0, rejected=2)

    response = admin_client.get(reverse("wagtailsnippets_federation_source:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Vantaa PTV" in html
    assert (
        "Held (nothing changed) (created 0, updated 0, unchanged 0, withdrawn 0, rejected 2)"
        in html
    )
    assert reverse("federation_sync_source", args=[source.pk]) in html


def test_a_sources_runs_and_a_runs_issues_are_listed_and_filterable(admin_client):
    run = SyncRunFactory()
    other = SyncRunFactory()
    RecordIssueFactory(run=run, origin_id="bad-one", severity="error")
    RecordIssueFactory(run=run, origin_id="fixed-one", severity="warning", reason="repaired")
    RecordIssueFactory(run=other, origin_id="elsewhere")

    runs = admin_client.get(
        reverse("wagtailsnippets_federation_syncrun:list") + f"?source={run.source.pk}"
    )
    issues = admin_client.get(
        reverse("wagtailsnippets_federation_recordissue:list") + f"?run={run.pk}&severity=error"
    )

    assert runs.status_code == 200
    assert f"?run={run.pk}" in runs.content.decode()
    html = issues.content.decode()
    assert "bad-one" in html and "fixed-one" not in html and "elsewhere" not in html


def test_runs_cannot_be_added_or_edited_in_the_admin(admin_client):
    run = SyncRunFactory()

    assert admin_client.get(reverse("wagtailsnippets_federation_syncrun:add")).status_code in (
        302,
        403,
    )
    assert admin_client.get(
        reverse("wagtailsnippets_federation_syncrun:edit", args=[run.pk])
    ).status_code in (302, 403)


def test_sync_now_queues_a_run_for_a_user_with_the_permission(admin_client, monkeypatch):
    from federation import tasks

    sent = []
    monkeypatch.setattr(tasks.sync_source_task, "delay_on_commit", lambda *args: sent.append(args))
    source = SourceFactory()
    url = reverse("federation_sync_source", args=[source.pk])

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"full": "1"})

    assert response.status_code == 302
    assert sent == [(source.pk, True, "manual")]


def test_sync_now_is_forbidden_without_the_permission(viewer_client, monkeypatch):
    from federation import tasks

    sent = []
    monkeypatch.setattr(tasks.sync_source_task, "delay_on_commit", lambda *args: sent.append(args))
    source = SourceFactory()

    listing = viewer_client.get(reverse("wagtailsnippets_federation_source:list"))
    response = viewer_client.post(reverse("federation_sync_source", args=[source.pk]))

    assert listing.status_code == 200
    assert reverse("federation_sync_source", args=[source.pk]) not in listing.content.decode()
    assert response.status_code in (302, 403)
    assert sent == []


def test_staff_can_filter_services_by_status_to_see_withdrawn_ones(admin_client):
    ServiceFactory(name={"fi": "Poistunut neuvola"}, status="withdrawn")
    ServiceFactory(name={"fi": "Toimiva neuvola"})

    response = admin_client.get(
        reverse("wagtailsnippets_federation_service:list") + "?status=withdrawn"
    )

    html = response.content.decode()
    assert "Poistunut neuvola" in html and "Toimiva neuvola" not in html


def test_request_headers_are_write_only_in_the_source_form(admin_client):
    source = SourceFactory(request_headers={"Authorization": "Bearer very-secret-value"})
    url = reverse("wagtailsnippets_federation_source:edit", args=[source.pk])

    page = admin_client.get(url).content.decode()

    assert "very-secret-value" not in page
    assert "Authorization: Bear…" in page


def test_new_request_headers_replace_the_old_ones_and_empty_keeps_them(admin_client):
    source = SourceFactory(request_headers={"X-Key": "old"})
    url = reverse("wagtailsnippets_federation_source:edit", args=[source.pk])
    form = {
        "name": source.name, "slug": source.slug, "owner": "", "kind": source.kind, "trust_tier": "verified",
        "enabled": "on", "format": "ptv", "url": "https://x.fi/api", "area_scope": "[]", "importer_options": "{}",
        "incremental_interval_minutes": "60", "full_sync_interval_hours": "24", "max_withdrawn_percent": "20",
        "min_record_count": "1", "new_request_headers": "",
    }  # fmt: skip

    assert admin_client.post(url, form).status_code == 302
    assert Source.objects.get(pk=source.pk).request_headers == {"X-Key": "old"}
    admin_client.post(url, {**form, "new_request_headers": "X-Key: new"})
    assert Source.objects.get(pk=source.pk).request_headers == {"X-Key": "new"}


@pytest.fixture
def reader_client(client, django_user_model):
    """An admin user who may look at sources but not edit them."""
    return logged_in_with(client, django_user_model, "reader", "access_admin", "view_source")


def test_a_new_push_token_is_shown_once_and_then_authenticates_pushes(admin_client):
    from federation.services.sources import authenticate_push

    source = SourceFactory(slug="ngo-feed")
    url = reverse("federation_source_push_token", args=[source.pk])
    assert "has no push token" in admin_client.get(url).content.decode()

    response = admin_client.post(url, {"action": "issue"})

    html = response.content.decode()
    token = html.split('<code id="push-token">')[1].split("</code>")[0]
    assert "no-store" in response["Cache-Control"]
    assert "/api/v1/sources/ngo-feed/feed" in html
    assert authenticate_push(slug="ngo-feed", token=token) == source
    source.refresh_from_db()
    assert token not in {source.push_token_hash, source.push_token_hint}
    again = admin_client.get(url).content.decode()
    assert token not in again and source.push_token_hint in again


def test_replacing_or_revoking_a_push_token_stops_the_old_one(admin_client):
    from federation.exceptions import PushRejected
    from federation.services.sources import authenticate_push

    source = SourceFactory(slug="region-feed")
    url = reverse("federation_source_push_token", args=[source.pk])
    first = admin_client.post(url, {"action": "issue"}).content.decode()
    first_token = first.split('<code id="push-token">')[1].split("</code>")[0]

    admin_client.post(url, {"action": "issue"})
    with pytest.raises(PushRejected) as refused:
        authenticate_push(slug="region-feed", token=first_token)
    assert refused.value.status == 401
    response = admin_client.post(url, {"action": "revoke"})

    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.push_token_hash, source.push_token_hint) == ("", "")


def test_push_tokens_need_the_permission_to_edit_the_source(reader_client):
    source = SourceFactory()
    url = reverse("federation_source_push_token", args=[source.pk])

    listing = reader_client.get(reverse("wagtailsnippets_federation_source:list"))
    response = reader_client.post(url, {"action": "issue"})

    assert url not in listing.content.decode()
    assert response.status_code in (302, 403)
    source.refresh_from_db()
    assert source.push_token_hash == ""
