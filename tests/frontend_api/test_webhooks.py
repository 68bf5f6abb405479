import hashlib
import hmac
import http.server
import json
import threading

import httpx
import pytest

from frontend_api.exceptions import WebhookDeliveryFailed
from frontend_api.models import WebhookDelivery, WebhookSubscription
from frontend_api.services import deliver_webhook, notify_subscribers, sign_webhook
from frontend_api.tasks import deliver_webhook_task, retry_delay

pytestmark = pytest.mark.django_db


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def subscriber_url():
    RecordingHandler.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def subscription(url="https://subscriber.example/hook", events=("content.published",), **kwargs):
    return WebhookSubscription.objects.create(
        name="Frontend", url=url, events=list(events), **kwargs
    )


def mock_client(*responses):
    answers = iter(responses)

    def handler(request):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_signed_post_reaches_subscriber_after_commit(
    subscriber_url, django_capture_on_commit_callbacks
):
    sub = subscription(url=subscriber_url)

    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = notify_subscribers(
            event="content.published", payload={"id": 7, "kind": "article"}
        )
        assert RecordingHandler.received == []  # nothing leaves before the commit

    [(headers, body)] = RecordingHandler.received
    assert headers["X-Pesa-Event"] == "content.published"
    assert headers["X-Pesa-Delivery"] == str(delivery.pk)
    expected = hmac.new(
        sub.secret.encode(), headers["X-Pesa-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["X-Pesa-Signature"], f"sha256={expected}")
    assert json.loads(body)["data"] == {"id": 7, "kind": "article"}
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1
    assert delivery.delivered_at is not None


def test_only_active_subscribers_of_the_event_are_notified(django_capture_on_commit_callbacks):
    wanted = subscription(events=["sync.changed"])
    subscription(events=["content.published"])
    subscription(events=["sync.changed"], active=False)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deliveries = notify_subscribers(event="sync.changed", payload={"source": 3})

    assert [d.subscription for d in deliveries] == [wanted]
    assert len(callbacks) == 1


def test_unknown_event_is_refused():
    with pytest.raises(ValueError, match="Unknown webhook event"):
        notify_subscribers(event="content.exploded", payload={})


def test_server_error_is_recorded_and_retryable_then_succeeds():
    delivery = WebhookDelivery.objects.create(
        subscription=subscription(), event="content.published", payload={}
    )
    http = mock_client(503, 200)

    with pytest.raises(WebhookDeliveryFailed):
        deliver_webhook(delivery=delivery, http=http)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, 503)
    assert "503" in delivery.last_error

    deliver_webhook(delivery=delivery, http=http)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, "")


def test_network_error_is_retryable():
    delivery = WebhookDelivery.objects.create(
        subscription=subscription(), event="content.published", payload={}
    )

    with pytest.raises(WebhookDeliveryFailed, match="ConnectError"):
        deliver_webhook(delivery=delivery, http=mock_client(httpx.ConnectError("refused")))

    assert delivery.response_status is None


def test_client_error_is_final():
    delivery = WebhookDelivery.objects.create(
        subscription=subscription(), event="content.published", payload={}
    )

    deliver_webhook(delivery=delivery, http=mock_client(410))

    assert (delivery.status, delivery.response_status) == ("failed", 410)


def test_delivered_delivery_is_not_sent_again():
    delivery = WebhookDelivery.objects.create(
        subscription=subscription(), event="content.published", payload={}, status="delivered"
    )

    deliver_webhook(delivery=delivery, http=mock_client())  # no answers: any POST would fail

    assert delivery.attempts == 0


def test_retry_delay_grows_exponentially_and_is_capped():
    assert [retry_delay(n) for n in range(4)] == [30, 60, 120, 240]
    assert retry_delay(20) == 3600


def test_task_in_a_worker_retries_with_backoff(monkeypatch):
    delivery = WebhookDelivery.objects.create(
        subscription=subscription(), event="content.published", payload={}
    )
    monkeypatch.setattr("frontend_api.tasks.webhook_http_client", lambda: mock_client(502))
    countdowns = []

    class Retry(Exception):
        pass

    def fake_retry(*, exc, countdown):
        countdowns.append(countdown)
        return Retry()

    monkeypatch.setattr(deliver_webhook_task, "retry", fake_retry)

    with pytest.raises(Retry):
        deliver_webhook_task.run(delivery.pk)

    assert countdowns == [30]


def test_task_stops_after_the_last_attempt(monkeypatch, settings):
    settings.PESA_WEBHOOK_MAX_ATTEMPTS = 3
    delivery = WebhookDelivery.objects.create(
        subscription=subscription(), event="content.published", payload={}, attempts=2
    )
    monkeypatch.setattr("frontend_api.tasks.webhook_http_client", lambda: mock_client(502))

    deliver_webhook_task.run(delivery.pk)  # no retry raised

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)


def test_signature_matches_documented_example():
    # The worked example in docs/webhooks.md.
    signature = sign_webhook(
        secret="s3cret", timestamp="1764320000", body=b'{"event":"content.published"}'
    )

    assert (
        signature
        == "sha256="
        + hmac.new(
            b"s3cret", b'1764320000.{"event":"content.published"}', hashlib.sha256
        ).hexdigest()
    )


def test_admin_form_offers_events_as_checkboxes(admin_client):
    response = admin_client.get("/admin/snippets/frontend_api/webhooksubscription/add/")

    assert response.status_code == 200
    assert b'value="sync.changed"' in response.content
    assert b'type="checkbox"' in response.content


def test_delivery_log_is_read_only_in_admin(admin_client):
    response = admin_client.get("/admin/snippets/frontend_api/webhookdelivery/add/")

    assert response.status_code in (302, 403)
