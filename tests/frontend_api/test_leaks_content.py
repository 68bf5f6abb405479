"""Nothing that is not public leaks: drafts, private pages (own or ancestor restriction, in
any locale), scheduled and expired pages stay out of every content endpoint, even when the
search index still holds them."""

import datetime

import pytest
from content_builders import article, publish, topic, vocabulary
from django.utils import timezone
from wagtail.models import PageViewRestriction

from frontend_api.models import SearchEntry
from frontend_api.search.services import article_entry

pytestmark = pytest.mark.django_db


def text(slug):
    return {"fi": {"title": f"Salaisuus {slug}", "slug": slug}}


@pytest.fixture
def leaks(home_page):
    vocabulary()
    open_topic = topic(home_page, key="open", slugs={"fi": "avoin", "sv": "oppen"})
    hidden_topic = topic(home_page, key="hidden", slugs={"fi": "piilo"})
    public = article(open_topic, texts=text("julkinen"))["fi"]
    draft = article(open_topic, texts=text("luonnos"), live=False)["fi"]
    private = article(open_topic, texts=text("yksityinen"))["fi"]
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    under_private = article(hidden_topic, texts=text("alla"))["fi"]
    PageViewRestriction.objects.create(page=hidden_topic["fi"], restriction_type="password",
                                       password="x")  # fmt: skip
    # Restricted in Swedish only: the Finnish copy is hidden too.
    restricted_copy = article(
        open_topic,
        texts={**text("kopio"), "sv": {"title": "Hemlighet kopio", "slug": "kopio"}},
    )
    PageViewRestriction.objects.create(page=restricted_copy["sv"], restriction_type="login")
    scheduled = article(open_topic, texts=text("ajastettu"), live=False)["fi"]
    scheduled.go_live_at = timezone.now() + datetime.timedelta(days=30)
    publish(scheduled)
    expired = article(open_topic, texts=text("vanhentunut"))["fi"]
    type(expired).objects.filter(pk=expired.pk).update(
        expire_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    hidden = [draft, private, under_private, restricted_copy["fi"], scheduled, expired]
    # A stale index: every hidden page has an entry, as if indexed before it was hidden.
    SearchEntry.objects.filter(kind="article").delete()
    SearchEntry.objects.bulk_create(article_entry(page) for page in [public, *hidden])
    return {"public": public, "hidden": hidden, "open_topic": open_topic}


def test_lists_show_only_the_public_article(client, leaks):
    for lang in ("fi", "sv", "en"):
        response = client.get("/api/v1/articles/", {"lang": lang})
        assert [item["id"] for item in response.json()["results"]] == [leaks["public"].pk]


def test_hidden_pages_are_a_404_by_id_and_by_path(client, leaks):
    for page in leaks["hidden"]:
        assert client.get(f"/api/v1/articles/{page.pk}/").status_code == 404, page.slug
        path = "/fi/" + "/".join(page.url_path.strip("/").split("/")[1:]) + "/"
        response = client.get("/api/v1/articles/by-path/", {"path": path})
        assert response.status_code == 404, path
    assert client.get(f"/api/v1/articles/{leaks['public'].pk}/").status_code == 200


def test_search_filters_hidden_pages_at_query_time(client, leaks):
    everything = client.get("/api/v1/search/", {"q": "salaisuus", "lang": "fi"})
    listed = client.get("/api/v1/articles/", {"search": "salaisuus", "lang": "fi"})

    assert [item["id"] for item in everything.json()["results"]] == [leaks["public"].pk]
    assert [item["id"] for item in listed.json()["results"]] == [leaks["public"].pk]


def test_topic_counts_and_lists_leave_hidden_pages_out(client, leaks):
    response = client.get("/api/v1/topics/", {"lang": "fi"})

    topics = {item["key"]: item for item in response.json()["results"]}
    assert topics["open"]["article_count"] == 1
    assert "hidden" not in topics


def test_translation_links_leave_hidden_copies_out(client, leaks, home_page):
    fi = article(
        leaks["open_topic"],
        texts={"fi": {"title": "Kaksi", "slug": "kaksi"}, "sv": {"title": "Två", "slug": "tva"}},
    )
    fi["sv"].unpublish()

    response = client.get(f"/api/v1/articles/{fi['fi'].pk}/")

    assert response.json()["translations"] == {}


def test_body_links_to_hidden_pages_lose_their_target(client, leaks):
    draft = leaks["hidden"][0]
    page = article(
        leaks["open_topic"],
        texts={
            "fi": {
                "title": "Linkit",
                "slug": "linkit",
                "body": [
                    {
                        "type": "paragraph",
                        "value": f'<p><a linktype="page" id="{draft.pk}">piilo</a></p>',
                    },
                    {"type": "internal_link", "value": {"page": draft.pk, "text": "x"}},
                ],
            }
        },
    )["fi"]

    body = client.get(f"/api/v1/articles/{page.pk}/").json()["body"]

    assert body == [
        {"type": "paragraph", "id": body[0]["id"], "value": '<p><a rel="noopener">piilo</a></p>'}
    ]
