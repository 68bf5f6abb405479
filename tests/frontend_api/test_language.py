import pytest
from django.test import RequestFactory

from frontend_api.language import UnsupportedLanguage, fallback_chain, negotiate_language
from frontend_api.models import WebhookSubscription

pytestmark = [pytest.mark.django_db, pytest.mark.urls("api_test_views")]


@pytest.fixture
def things():
    return [
        WebhookSubscription.objects.create(name="Alpha", url="https://example.org/a"),
        WebhookSubscription.objects.create(name="Beta", url="https://example.org/b"),
    ]


def negotiate(query="", accept=""):
    request = RequestFactory().get(f"/api/v1/things/?{query}", HTTP_ACCEPT_LANGUAGE=accept)
    return negotiate_language(request)


def test_lang_parameter_wins_over_accept_language():
    choice = negotiate("lang=en", accept="sv")

    assert (choice.requested, choice.source) == ("en", "query")


def test_accept_language_picks_first_supported_by_quality():
    choice = negotiate(accept="de-DE, sv-FI;q=0.8, fi;q=0.5")

    assert (choice.requested, choice.source) == ("sv", "header")


def test_without_preference_the_default_language_is_served():
    choice = negotiate(accept="de")

    assert (choice.requested, choice.source) == ("fi", "default")


def test_unsupported_lang_parameter_is_refused():
    with pytest.raises(UnsupportedLanguage):
        negotiate("lang=de")


def test_fallback_order_comes_from_settings(settings):
    settings.PESA_LANGUAGE_FALLBACKS = {"en": ["sv", "fi"]}

    assert fallback_chain("en") == ("en", "sv", "fi")
    assert fallback_chain("fi") == ("fi",)


def test_pick_reports_fallback():
    choice = negotiate("lang=sv")

    assert choice.pick({"fi", "en"}) == ("fi", True)
    assert choice.fallback_used
    assert choice.pick({"sv"}) == ("sv", False)
    assert choice.content_language == "sv, fi"


def test_list_meta_says_language_and_no_fallback_when_all_texts_exist(client, things):
    response = client.get("/api/v1/things/", {"name": "Alpha"}, headers={"Accept-Language": "sv"})

    body = response.json()
    assert body["results"][0]["title"] == "Alfa på svenska"
    assert body["meta"]["lang"] == "sv"
    assert body["meta"]["fallback"] is False
    assert response["Content-Language"] == "sv"
    assert response["Pesa-Language-Fallback"] == "false"


def test_list_meta_says_fallback_when_a_text_is_missing(client, things):
    response = client.get("/api/v1/things/", {"lang": "en"})

    body = response.json()
    assert [item["title"] for item in body["results"]] == ["Alpha in English", "Beeta"]
    assert body["meta"] == {**body["meta"], "lang": "en", "fallback": True}
    assert response["Content-Language"] == "en, fi"
    assert response["Pesa-Language-Fallback"] == "true"


def test_detail_served_wholly_in_fallback_says_so(client, things):
    response = client.get(f"/api/v1/things/{things[1].pk}/", {"lang": "sv"})

    assert response.json()["title"] == "Beeta"
    assert response["Content-Language"] == "fi"
    assert response["Pesa-Language-Fallback"] == "true"


def test_unsupported_lang_is_a_400_naming_the_languages(client):
    response = client.get("/api/v1/things/", {"lang": "klingon"})

    assert response.status_code == 400
    assert response.json()["allowed_values"] == {"lang": ["fi", "sv", "en"]}
