"""Writes and outbound calls of the public API: webhook notifications and deliveries."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from frontend_api.exceptions import WebhookDeliveryFailed
from frontend_api.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from frontend_api.renderers import dumps

# Statuses after which a later attempt may succeed.
RETRYABLE_STATUSES = {408, 425, 429}


def sign_webhook(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "<timestamp>.<body>" with the subscription secret."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_body(delivery: WebhookDelivery) -> bytes:
    return dumps(
        {
            "id": str(delivery.pk),
            "event": delivery.event,
            "created_at": delivery.created_at,
            "data": delivery.payload,
        }
    )


@transaction.atomic
def notify_subscribers(*, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Records one delivery per active subscriber of `event`; each is sent after commit."""
    from frontend_api.tasks import deliver_webhook_task

    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    # Subscriptions are few; filtering JSON lists in Python keeps SQLite and PostgreSQL alike.
    subscriptions = [s for s in WebhookSubscription.objects.filter(active=True) if s.wants(event)]
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(subscription=subscription, event=event, payload=payload)
        for subscription in subscriptions
    )
    for delivery in deliveries:
        deliver_webhook_task.delay_on_commit(delivery.pk)
    return deliveries


def deliver_webhook(*, delivery: WebhookDelivery, http: httpx.Client) -> WebhookDelivery:
    """POSTs one delivery and records the attempt.

    Raises WebhookDeliveryFailed when another attempt may help (network error, 5xx, 408,
    429); any other 4xx is final.
    """
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return delivery
    subscription = delivery.subscription
    body = webhook_body(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Pesa-Webhooks/1",
        "X-Pesa-Event": delivery.event,
        "X-Pesa-Delivery": str(delivery.pk),
        "X-Pesa-Timestamp": timestamp,
        "X-Pesa-Signature": sign_webhook(
            secret=subscription.secret, timestamp=timestamp, body=body
        ),
        "Idempotency-Key": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pesa-delivery:{delivery.pk}")),
    }
    delivery.attempts += 1
    error = ""
    try:
        response = http.post(subscription.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        delivery.response_status = None
        error = f"{type(exc).__name__}: {exc}"
    else:
        delivery.response_status = response.status_code
        if response.is_success:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
        else:
            error = f"HTTP {response.status_code}: {response.text[:200]}"
    if error:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.last_error = error
    delivery.save(
        update_fields=["attempts", "status", "response_status", "last_error", "delivered_at"]
    )
    retryable = delivery.response_status is None or (
        delivery.response_status >= 500 or delivery.response_status in RETRYABLE_STATUSES
    )
    if error and retryable:
        raise WebhookDeliveryFailed(error)
    return delivery


def webhook_http_client() -> httpx.Client:
    timeout = settings.PESA_WEBHOOK_TIMEOUT
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))
