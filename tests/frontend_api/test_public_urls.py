"""Absolute URLs in API bodies come from PESA_PUBLIC_BASE_URL, never from the request's
Host or X-Forwarded-* headers (which a client chooses and a cache would replay)."""

import pytest
from django.test import Client

from frontend_api.models import ChangeEvent
from tests.factories.federation import OrganizationFactory

pytestmark = pytest.mark.django_db

BASE = "https://pesa.example.fi"
FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}


@pytest.fixture(autouse=True)
def trusting_proxy_settings(settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PESA_PUBLIC_BASE_URL = BASE


def links_in(value):
    if isinstance(value, dict):
        return [link for item in value.values() for link in links_in(item)]
    if isinstance(value, list):
        return [link for item in value for link in links_in(item)]
    return [value] if isinstance(value, str) and "://" in value else []


@pytest.mark.parametrize(
    "url",
    ["/api/v1/", "/api/v1/organizations/", "/api/v1/changes/?page_size=1"],
)
def test_links_in_bodies_use_the_public_base_url_whatever_the_headers(url):
    OrganizationFactory()
    for object_id in (1, 2):
        ChangeEvent.objects.create(kind="service", object_id=object_id, action="delete")

    body = Client().get(url, headers=FORGED).json()

    links = links_in(body)
    assert links
    assert all(link.startswith(f"{BASE}/api/v1/") for link in links), links


@pytest.mark.parametrize("forged_first", [True, False], ids=["forged-first", "plain-first"])
def test_two_requests_differing_only_in_host_headers_never_share_a_poisoned_body(
    settings, forged_first
):
    """With the response cache on, whichever request fills the cache, neither client gets
    a link to the forged host, and both get the same body and ETag."""
    settings.PESA_API_RESPONSE_CACHE = True
    OrganizationFactory()
    OrganizationFactory()
    url = "/api/v1/organizations/?page_size=1"
    plain = {"Host": "pesa.example.fi", "X-Forwarded-Proto": "https"}
    first, second = (FORGED, plain) if forged_first else (plain, FORGED)

    first_response = Client().get(url, headers=first)
    second_response = Client().get(url, headers=second)

    assert first_response.status_code == second_response.status_code == 200
    assert second_response.content == first_response.content
    assert second_response["ETag"] == first_response["ETag"]
    for response in (first_response, second_response):
        assert b"evil.example" not in response.content
        assert response.json()["next"].startswith(f"{BASE}/api/v1/organizations/")
