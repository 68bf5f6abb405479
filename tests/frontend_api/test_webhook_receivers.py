"""Subscribers that hang, drip or fail: bounded attempts, bounded time, no starved workers."""

import http.server
import threading
import time

import pytest

from cms.celery import app
from frontend_api.exceptions import WebhookDeliveryFailed
from frontend_api.models import WebhookDelivery, WebhookSubscription
from frontend_api.services import deliver_webhook, webhook_http_client
from frontend_api.tasks import deliver_webhook_task

pytestmark = pytest.mark.django_db


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers as `behaviour` says: "hang", "drip" (a byte every 0.2 s) or "fail" (500)."""

    behaviour = "fail"
    hits = 0
    released = threading.Event()

    def do_POST(self):
        type(self).hits += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.behaviour == "hang":
            self.released.wait(30)
        elif self.behaviour == "drip":
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 200:
                if self.released.wait(0.2):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        else:
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.hits = 0
    Receiver.released = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    Receiver.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def short_deadline(settings):
    settings.PESA_WEBHOOK_TIMEOUT = 1.0
    settings.PESA_WEBHOOK_DEADLINE = 1.5
    settings.PESA_WEBHOOK_MAX_ATTEMPTS = 3


def delivery_to(server, behaviour):
    Receiver.behaviour = behaviour
    subscription = WebhookSubscription.objects.create(
        name="Receiver",
        url=f"http://127.0.0.1:{server.server_port}/hook",
        events=["content.published"],
    )
    return WebhookDelivery.objects.create(
        subscription=subscription, event="content.published", payload={"id": 1}
    )


def run_like_a_worker(monkeypatch, delivery):
    """Runs the task as a worker would, each retry at once; returns the asked countdowns."""
    countdowns = []

    class Retry(Exception):
        pass

    def retry(*, exc, countdown):
        countdowns.append(countdown)
        return Retry()

    monkeypatch.setattr(deliver_webhook_task, "retry", retry)
    for retries in range(20):
        deliver_webhook_task.push_request(retries=retries)
        try:
            deliver_webhook_task.run(delivery.pk)
        except Retry:
            continue
        finally:
            deliver_webhook_task.pop_request()
        break
    delivery.refresh_from_db()
    return countdowns


def test_a_dripping_receiver_is_cut_off_at_the_total_deadline(receiver, short_deadline):
    delivery = delivery_to(receiver, "drip")
    started = time.monotonic()

    with webhook_http_client() as http, pytest.raises(WebhookDeliveryFailed, match="Timeout"):
        deliver_webhook(delivery=delivery, http=http)

    # 200 bytes at 0.2 s would take 40 s; each read waits 0.2 s, under the 1 s read timeout.
    assert time.monotonic() - started < 5
    assert (delivery.status, delivery.attempts) == ("failed", 1)


def test_a_hanging_receiver_fails_within_the_deadline_each_time_and_then_for_good(
    receiver, short_deadline, monkeypatch
):
    delivery = delivery_to(receiver, "hang")
    started = time.monotonic()

    countdowns = run_like_a_worker(monkeypatch, delivery)

    assert time.monotonic() - started < 3 * 1.5 + 5  # three attempts, each within its deadline
    assert countdowns == [30, 60]  # retried later, with backoff
    assert (delivery.status, delivery.attempts, Receiver.hits) == ("failed", 3, 3)
    assert "Timeout" in delivery.last_error


def test_a_receiver_answering_500_is_retried_with_backoff_up_to_the_limit(
    receiver, short_deadline, monkeypatch, settings
):
    settings.PESA_WEBHOOK_MAX_ATTEMPTS = 5
    delivery = delivery_to(receiver, "fail")

    countdowns = run_like_a_worker(monkeypatch, delivery)

    assert countdowns == [30, 60, 120, 240]
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 5, 500)
    assert Receiver.hits == 5


def test_deliveries_wait_in_their_own_queue_not_the_sync_workers():
    def queue_of(task_name):
        return app.amqp.router.route({}, task_name)["queue"].name

    assert queue_of("frontend_api.tasks.deliver_webhook_task") == "webhooks"
    assert (
        queue_of("federation.tasks.sync_source_task") == app.conf.task_default_queue != "webhooks"
    )


def test_a_delivery_task_has_a_hard_time_limit_above_its_deadline(settings):
    options = app.conf.task_annotations["frontend_api.tasks.deliver_webhook_task"]

    assert settings.PESA_WEBHOOK_DEADLINE < options["soft_time_limit"] < options["time_limit"]
    assert options["time_limit"] < settings.CELERY_TASK_TIME_LIMIT


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "10.0.0.1", "[::1]"])
def test_a_subscriber_on_a_private_address_is_refused_for_good_without_a_connection(
    settings, receiver, host
):
    settings.PESA_FEED_ALLOW_PRIVATE_ADDRESSES = False
    delivery = delivery_to(receiver, "fail")
    delivery.subscription.url = f"http://{host}:{receiver.server_port}/hook"
    delivery.subscription.save()

    with webhook_http_client() as http:
        deliver_webhook(delivery=delivery, http=http)  # final: no WebhookDeliveryFailed

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_error.startswith("refused:")
    assert Receiver.hits == 0
