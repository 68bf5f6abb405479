"""Abusive pushes: bursts (per token, PESA_PUSH_THROTTLE_RATE) and JSON nesting bombs."""

import pytest
from django.core.cache import cache

from federation.models import SyncRun
from federation.services import issue_push_token
from tests.factories.federation import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def push_rate(settings):
    cache.clear()
    settings.PESA_PUSH_THROTTLE_RATE = "3/hour"
    yield
    cache.clear()


@pytest.fixture
def source_and_token():
    source = SourceFactory(format="hsds", url="", slug="ngo-feed")
    return source, issue_push_token(source=source)


def push(client, slug, token, **extra):
    return client.post(
        f"/api/v1/sources/{slug}/feed",
        data=b'{"contents": []}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )


def test_a_burst_beyond_the_rate_gets_429_problem_json_with_retry_after(
    client, source_and_token, django_capture_on_commit_callbacks
):
    source, token = source_and_token

    with django_capture_on_commit_callbacks(execute=False):
        answers = [push(client, source.slug, token) for _ in range(5)]

    assert [answer.status_code for answer in answers] == [202, 202, 202, 429, 429]
    refused = answers[3]
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert SyncRun.objects.filter(source=source).count() == 3  # nothing stored once refused


def test_the_limit_is_per_token_not_per_address(client, source_and_token):
    source, token = source_and_token
    other = SourceFactory(format="hsds", url="", slug="region-feed")
    other_token = issue_push_token(source=other)
    for _ in range(3):
        push(client, source.slug, token)

    assert push(client, source.slug, token).status_code == 429
    assert push(client, other.slug, other_token).status_code == 202


def test_a_new_address_does_not_reset_a_tokens_limit(client, source_and_token):
    source, token = source_and_token
    for number in range(3):
        push(client, source.slug, token, REMOTE_ADDR=f"198.51.100.{number}")

    assert push(client, source.slug, token, REMOTE_ADDR="203.0.113.1").status_code == 429


def test_no_rate_means_no_push_limit(client, source_and_token, settings):
    settings.PESA_PUSH_THROTTLE_RATE = None
    source, token = source_and_token

    assert {push(client, source.slug, token).status_code for _ in range(6)} == {202}


@pytest.mark.parametrize("depth", [1_100, 1_000_000])
def test_deeply_nested_json_is_a_400_problem_not_a_crash(client, source_and_token, depth):
    source, token = source_and_token

    response = client.post(
        f"/api/v1/sources/{source.slug}/feed",
        data=b"[" * depth + b"]" * depth,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert not SyncRun.objects.filter(source=source).exists()
