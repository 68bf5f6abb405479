import orjson
import pytest
from django.test import Client

from federation.models import PushPayload, Service, SyncRun
from federation.selectors import run_issues
from federation.services import issue_push_token
from tests.factories.federation import SourceFactory

pytestmark = pytest.mark.django_db

HSDS_PAGE = {
    "total_items": 1,
    "total_pages": 1,
    "page_number": 1,
    "contents": [
        {
            "id": "svc-1",
            "name": "Family drop-in",
            "description": "Open play sessions.",
            "status": "active",
        }
    ],
}


@pytest.fixture
def pushed():
    source = SourceFactory(format="hsds", url="", slug="ngo-feed")
    return source, issue_push_token(source=source)


def post(client, slug, *, token=None, body=b"{}", content_type="application/json", **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(
        f"/api/v1/sources/{slug}/feed", data=body, content_type=content_type, **headers, **extra
    )


def test_a_push_is_stored_answered_202_with_its_run_and_synced_by_the_worker(
    pushed, django_capture_on_commit_callbacks
):
    source, token = pushed
    client = Client(enforce_csrf_checks=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, source.slug, token=token, body=orjson.dumps(HSDS_PAGE))

    assert response.status_code == 202
    run = SyncRun.objects.get(pk=response.json()["run_id"])
    assert response.json()["status"] == "queued"
    assert run.payload == PushPayload.objects.get(source=source)
    run.refresh_from_db()
    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert Service.objects.get(source=source, origin_id="svc-1").name == {"en": "Family drop-in"}
    assert PushPayload.objects.get(source=source).processed_at is not None


def test_a_missing_or_bad_token_is_401_problem_json(pushed, client):
    source, _token = pushed

    for response in (post(client, source.slug), post(client, source.slug, token="pesa_bad")):
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert not PushPayload.objects.exists()


def test_a_token_of_another_source_is_403(pushed, client):
    _source, token = pushed
    other = SourceFactory(slug="other-feed")

    response = post(client, other.slug, token=token)

    assert response.status_code == 403
    assert response.json()["title"] == "Forbidden"


def test_a_too_large_body_is_413(pushed, client, settings):
    source, token = pushed
    settings.PESA_PUSH_MAX_BYTES = 100

    response = post(client, source.slug, token=token, body=b'{"x": "' + b"a" * 200 + b'"}')

    assert response.status_code == 413
    assert not PushPayload.objects.exists()


def test_a_body_that_is_not_json_is_415_or_400(pushed, client):
    source, token = pushed

    assert (
        post(client, source.slug, token=token, body=b"a,b", content_type="text/csv").status_code
        == 415
    )
    assert post(client, source.slug, token=token, body=b"{not json").status_code == 400


def test_the_push_endpoint_ignores_session_cookies(pushed, client, django_user_model):
    source, _token = pushed
    client.force_login(django_user_model.objects.create_superuser("boss", "b@x.fi", "pw"))

    assert post(client, source.slug).status_code == 401


def service_page(name, last_modified):
    contents = [{**HSDS_PAGE["contents"][0], "name": name, "last_modified": last_modified}]
    return orjson.dumps({**HSDS_PAGE, "contents": contents})


def push_run(client, source, token, body, capture) -> SyncRun:
    with capture(execute=True):
        response = post(client, source.slug, token=token, body=body)
    assert response.status_code == 202
    return SyncRun.objects.get(pk=response.json()["run_id"])


def test_out_of_order_pushes_end_in_the_newest_state_and_the_owner_sees_the_stale_one(
    pushed, client, django_capture_on_commit_callbacks
):
    source, token = pushed
    newer = service_page("Newer", "2026-11-02T08:00:00Z")
    older = service_page("Older", "2026-11-01T08:00:00Z")

    push_run(client, source, token, newer, django_capture_on_commit_callbacks)
    late = push_run(client, source, token, older, django_capture_on_commit_callbacks)

    assert Service.objects.get(source=source, origin_id="svc-1").name == {"en": "Newer"}
    assert late.outcome == SyncRun.Outcome.SUCCEEDED
    assert (late.created, late.updated) == (0, 0)
    (issue,) = run_issues(run=late)
    assert issue.message.startswith("stale, older than stored")
    assert "2026-11-01T08:00:00Z" in issue.message and "2026-11-02T08:00:00Z" in issue.message


def test_a_replayed_old_push_does_not_undo_a_newer_one(
    pushed, client, django_capture_on_commit_callbacks
):
    source, token = pushed
    first = service_page("First", "2026-11-01T08:00:00Z")
    second = service_page("Second", "2026-11-02T08:00:00Z")

    for body in (first, second, first):
        push_run(client, source, token, body, django_capture_on_commit_callbacks)

    service = Service.objects.get(source=source, origin_id="svc-1")
    assert (service.name, service.origin_modified) == ({"en": "Second"}, "2026-11-02T08:00:00Z")
