import io

import pytest
from content_builders import article, topic, vocabulary
from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PillowImage
from wagtail.images import get_image_model

pytestmark = [
    pytest.mark.django_db,
    # Wagtail's rendition generation leaves a SpooledTemporaryFile for the garbage collector.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture
def image(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    picture = io.BytesIO()
    PillowImage.new("RGB", (1600, 900), (200, 120, 80)).save(picture, format="PNG")
    return get_image_model().objects.create(
        title="Illustration", file=ImageFile(picture, name="illustration.png")
    )


@pytest.fixture
def pages(home_page, image):
    vocabulary()
    baby = topic(home_page, key="baby", slugs={"fi": "vauva", "sv": "bebis"})
    target = article(baby, texts={"fi": {"title": "Uni", "slug": "uni"}})["fi"]
    draft = article(baby, texts={"fi": {"title": "Luonnos", "slug": "luonnos"}}, live=False)["fi"]
    body = [
        {"type": "image", "value": {"image": image.pk, "alt_text": "Vauva nukkuu", "caption": ""}},
        {"type": "heading", "value": {"text": "Imetyksen alku", "level": "h2"}},
        {
            "type": "paragraph",
            "value": (
                f'<p>Lue <a linktype="page" id="{target.pk}">unesta</a>, '
                f'<a linktype="page" id="{draft.pk}">luonnoksesta</a> ja '
                '<a href="https://thl.fi">THL</a>.<script>alert(1)</script></p>'
            ),
        },
        {
            "type": "callout",
            "value": {"kind": "warning", "title": "Huom", "text": "<p><b>Tärkeää</b></p>"},
        },
        {
            "type": "faq",
            "value": {
                "title": "Kysymyksiä",
                "items": [{"question": "Kuinka usein?", "answer": "<p>Tarpeen mukaan.</p>"}],
            },
        },
        {
            "type": "video",
            "value": {"video": "https://www.youtube.com/watch?v=abc", "title": "Imetysvideo"},
        },
        {
            "type": "link_list",
            "value": {
                "title": "Lisää",
                "links": [
                    {"text": "Uni", "page": target.pk, "url": ""},
                    {"text": "Piilossa", "page": draft.pk, "url": ""},
                    {"text": "Kela", "page": None, "url": "https://www.kela.fi"},
                ],
            },
        },
        {"type": "internal_link", "value": {"page": target.pk, "text": ""}},
        {"type": "internal_link", "value": {"page": draft.pk, "text": "Luonnos"}},
        {
            "type": "services",
            "value": {
                "title": "Neuvolat",
                "target_groups": ["KR1.2"],
                "life_events": ["KE1"],
                "service_classes": ["P5.2"],
                "area": "091",
            },
        },
    ]
    feeding = article(
        baby,
        texts={
            "fi": {"title": "Imetys", "slug": "imetys", "body": body},
            "sv": {"title": "Amning", "slug": "amning"},
        },
        audiences=("KR1.2",),
    )
    return {"feeding": feeding, "target": target, "draft": draft}


def blocks(response, kind):
    return [block["value"] for block in response.json()["body"] if block["type"] == kind]


def test_detail_has_the_article_fields_and_typed_blocks(client, pages):
    page = pages["feeding"]["fi"]

    response = client.get(f"/api/v1/articles/{page.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert data["id"] == page.pk
    assert data["locale"] == "fi"
    assert data["path"] == "/fi/vauva/imetys/"
    assert data["reviewer"]["name"] is None
    assert data["translations"]["sv"]["path"] == "/sv/bebis/amning/"
    assert data["audiences"][0]["name"] == "Lapsiperheet"
    assert [block["type"] for block in data["body"]] == [
        "image",
        "heading",
        "paragraph",
        "callout",
        "faq",
        "video",
        "link_list",
        "internal_link",
        "services",
    ]
    assert all(block["id"] for block in data["body"])
    assert response["Content-Language"] == "fi"


def test_rich_text_links_resolve_to_public_pages_only_and_html_is_sanitized(client, pages):
    target = pages["target"]

    response = client.get(f"/api/v1/articles/{pages['feeding']['fi'].pk}/")

    (paragraph,) = blocks(response, "paragraph")
    assert (
        f'<a href="/fi/vauva/uni/" data-page-id="{target.pk}" '
        f'data-api-url="http://testserver/api/v1/articles/{target.pk}/"'
    ) in paragraph
    assert "luonnoksesta" in paragraph
    assert f'id="{pages["draft"].pk}"' not in paragraph
    assert 'href="https://thl.fi"' in paragraph
    assert "<script>" not in paragraph
    assert "linktype" not in paragraph
    (callout,) = blocks(response, "callout")
    assert callout == {"kind": "warning", "title": "Huom", "text": "<p><b>Tärkeää</b></p>"}
    (faq,) = blocks(response, "faq")
    assert faq["items"] == [{"question": "Kuinka usein?", "answer": "<p>Tarpeen mukaan.</p>"}]


def test_image_comes_as_renditions_with_alt_text(client, pages):
    response = client.get(f"/api/v1/articles/{pages['feeding']['fi'].pk}/")

    (image,) = blocks(response, "image")
    assert image["alt_text"] == "Vauva nukkuu"
    assert [r["width"] for r in image["renditions"]] == [320, 640, 1280]
    assert image["renditions"][0]["height"] == 180
    assert image["renditions"][0]["url"].startswith("http://testserver/")


def test_links_and_internal_links_to_non_public_pages_are_dropped(client, pages):
    target = pages["target"]

    response = client.get(f"/api/v1/articles/{pages['feeding']['fi'].pk}/")

    (link_list,) = blocks(response, "link_list")
    assert [link["text"] for link in link_list["links"]] == ["Uni", "Kela"]
    assert link_list["links"][0]["url"] == "/fi/vauva/uni/"
    assert link_list["links"][0]["page"]["id"] == target.pk
    assert link_list["links"][1] == {"text": "Kela", "url": "https://www.kela.fi", "page": None}
    (internal,) = blocks(response, "internal_link")
    assert internal["text"] == "Uni"
    assert internal["page"]["path"] == "/fi/vauva/uni/"


def test_video_and_services_blocks_are_ready_to_use(client, pages):
    response = client.get(f"/api/v1/articles/{pages['feeding']['fi'].pk}/")

    (video,) = blocks(response, "video")
    assert video == {
        "url": "https://www.youtube.com/watch?v=abc",
        "provider": "youtube",
        "title": "Imetysvideo",
    }
    (services,) = blocks(response, "services")
    assert services["target_groups"] == ["KR1.2"]
    assert services["area"] == "091"
    assert services["api_url"] == (
        "http://testserver/api/v1/services/?audience=KR1.2&life_situation=KE1"
        "&service_class=P5.2&municipality=091"
    )


def test_by_path_finds_the_article_of_a_locale(client, pages):
    sv = pages["feeding"]["sv"]

    with_slash = client.get("/api/v1/articles/by-path/", {"path": "/sv/bebis/amning/"})
    without = client.get("/api/v1/articles/by-path/", {"path": "/sv/bebis/amning"})

    assert with_slash.status_code == 200
    assert with_slash.json()["id"] == sv.pk
    assert with_slash.json()["path"] == "/sv/bebis/amning/"
    assert without.json()["id"] == sv.pk


@pytest.mark.parametrize(
    "path", ["/fi/bebis/amning/", "/sv/bebis/", "/de/vauva/imetys/", "/sv/bebis/nothing/", "x"]
)
def test_by_path_of_an_unknown_path_is_a_404(client, pages, path):
    response = client.get("/api/v1/articles/by-path/", {"path": path})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_by_path_needs_a_path_and_rejects_other_parameters(client, pages):
    assert client.get("/api/v1/articles/by-path/").status_code == 400
    response = client.get("/api/v1/articles/by-path/", {"path": "/fi/vauva/imetys/", "page": 2})
    assert response.status_code == 400


def test_unknown_id_is_a_404(client, pages):
    assert client.get("/api/v1/articles/999999/").status_code == 404
    assert client.get("/api/v1/articles/abc/").status_code == 404


def test_detail_query_count_is_a_small_constant(client, pages):
    url = f"/api/v1/articles/{pages['feeding']['fi'].pk}/"
    client.get(url)  # renditions are generated once, on first use

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)

    assert response.status_code == 200
    assert len(captured) <= 12, [query["sql"][:120] for query in captured]
