import datetime
from array import array

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from federation_api_data import make_channel, make_service
from wagtail.models import PageViewRestriction

from federation.models import RecordStatus, Source
from federation.signals import records_changed
from frontend_api.caching import content_generation
from frontend_api.models import ChangeEvent, WebhookDelivery, WebhookSubscription
from frontend_api.services import rebuild_change_log
from frontend_api.views.changes import encode_cursor
from tests.factories.cms import ArticlePageFactory, TopicPageFactory
from tests.factories.federation import OrganizationFactory, SourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/"


def feed(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def events(client, **params):
    return [(e["kind"], e["id"], e["action"]) for e in feed(client, **params)["results"]]


@pytest.fixture
def topic(home_page):
    return TopicPageFactory(parent=home_page)


def publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def article(topic):
    return publish(ArticlePageFactory(parent=topic, live=False))


def sync_signal(source, **changes):
    with transaction.atomic():
        records_changed.send(sender=Source, source=source, run=None, changes=changes)


def test_publishing_an_article_is_an_upsert_in_its_language(client, article):
    [item] = feed(client)["results"]

    assert (item["kind"], item["id"], item["action"], item["lang"]) == (
        "article",
        article.pk,
        "upsert",
        "fi",
    )
    assert item["at"]
    assert item["url"] is None or item["url"].endswith(f"/api/v1/articles/{article.pk}/")


def test_a_draft_never_appears(client, topic):
    draft = ArticlePageFactory(parent=topic, live=False)
    draft.save_revision()

    assert events(client) == []


def test_unpublishing_an_article_is_a_delete(client, article):
    article.unpublish()

    assert events(client) == [("article", article.pk, "delete"), ("article", article.pk, "delete")]


def test_expiry_by_publish_scheduled_is_a_delete(client, article):
    article.expire_at = timezone.now() - datetime.timedelta(minutes=1)
    article.save()

    call_command("publish_scheduled")

    assert ChangeEvent.objects.last().action == "delete"
    assert events(client)[-1] == ("article", article.pk, "delete")


def test_deleting_an_article_is_a_delete(client, article):
    article_id = article.pk
    article.delete()

    assert ChangeEvent.objects.filter(object_id=article_id, action="delete").exists()
    assert all(action == "delete" for _kind, _id, action in events(client))


def test_making_a_topic_private_deletes_its_articles_and_lifting_it_restores_them(
    client, topic, article
):
    restriction = PageViewRestriction.objects.create(
        page=topic, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    after_restriction = feed(client)["meta"]["cursor"]

    assert ChangeEvent.objects.last().action == "delete"
    restriction.delete()

    assert events(client, since=after_restriction) == [("article", article.pk, "upsert")]


def test_a_private_articles_upsert_is_reported_as_a_delete(client, topic, article):
    PageViewRestriction.objects.create(
        page=article, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )

    assert [action for _kind, _id, action in events(client)] == ["delete", "delete"]


def test_sync_upserts_and_withdrawals_become_service_events(client):
    source = SourceFactory()
    kept = make_service(source=source)
    gone = make_service(source=source, status=RecordStatus.WITHDRAWN)

    sync_signal(source, service={"upserted": [kept.pk], "withdrawn": [gone.pk]})

    assert events(client) == [("service", kept.pk, "upsert"), ("service", gone.pk, "delete")]
    assert feed(client)["results"][0]["url"].endswith(f"/api/v1/services/{kept.pk}/")


def test_a_changed_channel_or_organization_upserts_its_services(client):
    source = SourceFactory()
    channel = make_channel(source=source)
    organization = OrganizationFactory(source=source)
    by_channel = make_service(source=source, channels=(channel,))
    by_organization = make_service(source=source, organization=organization)

    sync_signal(
        source,
        channel={"upserted": [channel.pk], "withdrawn": []},
        organization={"upserted": [organization.pk], "withdrawn": []},
    )

    assert set(events(client)) == {
        ("service", by_channel.pk, "upsert"),
        ("service", by_organization.pk, "upsert"),
        ("organization", organization.pk, "upsert"),
    }


def test_a_big_sync_is_written_in_batches_in_the_same_order(client, monkeypatch):
    monkeypatch.setattr("frontend_api.services.EVENT_BATCH", 2)
    monkeypatch.setattr("frontend_api.services.ID_BATCH", 2)
    source = SourceFactory()
    channels = [make_channel(source=source) for _ in range(3)]
    services = [make_service(source=source, channels=(channel,)) for channel in channels]
    withdrawn = make_service(source=source, status=RecordStatus.WITHDRAWN)

    sync_signal(
        source,
        service={"upserted": [], "withdrawn": [withdrawn.pk]},
        channel={"upserted": [channel.pk for channel in channels], "withdrawn": []},
    )

    assert events(client) == [
        *(("service", service.pk, "upsert") for service in services),
        ("service", withdrawn.pk, "delete"),
    ]


def test_a_sync_naming_pks_in_arrays_records_each_change_once_in_order(client, monkeypatch):
    monkeypatch.setattr("frontend_api.services.EVENT_BATCH", 2)
    source = SourceFactory()
    organization = OrganizationFactory(source=source)
    first, second = make_service(source=source), make_service(source=source)
    gone = make_service(source=source, status=RecordStatus.WITHDRAWN)

    # As a sync sends them: 8-byte pks, upserts in write order.
    sync_signal(
        source,
        service={"upserted": array("q", [second.pk, first.pk]), "withdrawn": array("q", [gone.pk])},
        channel={"upserted": array("q"), "withdrawn": array("q")},
        organization={"upserted": array("q", [organization.pk] * 2), "withdrawn": array("q")},
    )

    assert events(client) == [
        ("service", first.pk, "upsert"),
        ("service", second.pk, "upsert"),
        ("service", gone.pk, "delete"),
        ("organization", organization.pk, "upsert"),
    ]


def test_disabling_a_source_deletes_its_records_and_enabling_restores_them(client):
    source = SourceFactory()
    service = make_service(source=source)

    source.enabled = False
    source.save()
    assert set(events(client)) == {
        ("service", service.pk, "delete"),
        ("organization", service.organization_id, "delete"),
    }

    cursor = feed(client)["meta"]["cursor"]
    source.enabled = True
    source.save()
    assert set(events(client, since=cursor)) == {
        ("service", service.pk, "upsert"),
        ("organization", service.organization_id, "upsert"),
    }


def test_a_real_sync_records_its_changes(client, monkeypatch):
    from importers import registry
    from importers.base import Importer, ParsedRecord

    class OneServiceImporter(Importer):
        format = "one-service"

        def documents(self):
            yield b""

        def parse(self, document):
            yield ParsedRecord(kind="service", source_id="s1", data={"name": {"fi": "Neuvola"}})

    monkeypatch.setitem(registry.IMPORTERS, "one-service", OneServiceImporter)
    from federation.sync import sync_source

    source = SourceFactory(format="one-service", min_record_count=1)
    sync_source(source=source, trigger="cli", full=True)

    [(kind, _id, action)] = events(client)
    assert (kind, action) == ("service", "upsert")


def test_the_cursor_pages_through_everything_in_order(client):
    source = SourceFactory()
    services = [make_service(source=source) for _ in range(5)]
    sync_signal(source, service={"upserted": [s.pk for s in services], "withdrawn": []})

    first = feed(client, page_size="2")
    second = feed(client, page_size="2", since=first["meta"]["cursor"])
    third = feed(client, page_size="2", since=second["meta"]["cursor"])
    caught_up = feed(client, since=third["meta"]["cursor"])

    seen = [e["id"] for page in (first, second, third) for e in page["results"]]
    assert seen == [s.pk for s in services]
    assert first["meta"]["has_more"] is True
    assert first["next"].endswith(f"since={first['meta']['cursor']}&page_size=2") or (
        f"since={first['meta']['cursor']}" in first["next"]
    )
    assert third["meta"]["has_more"] is False
    assert third["next"] is None
    assert caught_up["results"] == []
    assert caught_up["meta"]["cursor"] == third["meta"]["cursor"]
    assert caught_up["count"] is None
    assert caught_up["previous"] is None


def test_kind_narrows_the_feed(client, article):
    source = SourceFactory()
    service = make_service(source=source)
    sync_signal(source, service={"upserted": [service.pk], "withdrawn": []})

    assert events(client, kind="service") == [("service", service.pk, "upsert")]
    assert events(client, kind="article,organization") == [("article", article.pk, "upsert")]


@pytest.mark.parametrize(
    "params",
    [
        {"since": "not-a-cursor"},
        {"since": "MTIz"},  # base64 of "123": not ours
        {"since": encode_cursor(5) + "A"},
        {"page_size": "0"},
        {"page_size": "101"},
        {"kind": "page"},
        {"cursor": "x"},
    ],
)
def test_bad_parameters_are_a_400(client, params):
    response = client.get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(params) & set(response.json()["errors"])


def test_rebuild_seeds_everything_public_once(client, article):
    ChangeEvent.objects.all().delete()
    source = SourceFactory()
    public = make_service(source=source)
    make_service(source=source, organization=public.organization, status=RecordStatus.WITHDRAWN)

    assert rebuild_change_log() == 3  # the article, the service and its organization
    assert rebuild_change_log() == 0
    assert set(events(client)) == {
        ("article", article.pk, "upsert"),
        ("service", public.pk, "upsert"),
        ("organization", public.organization_id, "upsert"),
    }


def test_changes_retire_cached_responses_and_notify_subscribers(
    django_capture_on_commit_callbacks,
):
    WebhookSubscription.objects.create(
        name="CDN", url="https://hooks.example.org/", events=["sync.changed"]
    )
    source = SourceFactory(slug="espoo")
    service = make_service(source=source)
    before = content_generation()

    with django_capture_on_commit_callbacks() as callbacks:
        sync_signal(source, service={"upserted": [service.pk], "withdrawn": []})
    for callback in callbacks:
        if getattr(callback, "__name__", "") == "bump_content_generation":
            callback()

    assert content_generation() > before
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event == "sync.changed"
    assert delivery.payload["source"] == "espoo"
    assert delivery.payload["services"]["upserted"] == [service.pk]
