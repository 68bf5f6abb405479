from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from frontend_api.exceptions import WebhookDeliveryFailed
from frontend_api.models import WebhookDelivery
from frontend_api.services import compact_change_log, deliver_webhook, webhook_http_client

RETRY_BACKOFF_MAX = 3600


def retry_delay(retries: int) -> int:
    """Seconds before the next attempt: 30 s, 60 s, 120 s … capped at an hour."""
    return min(30 * 2**retries, RETRY_BACKOFF_MAX)


@shared_task(bind=True, max_retries=None)
def deliver_webhook_task(self, delivery_id: int) -> None:
    """Takes an ID: runs in a worker. Retries with capped exponential backoff."""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    try:
        with webhook_http_client() as http:
            deliver_webhook(delivery=delivery, http=http)
    except WebhookDeliveryFailed as exc:
        # Eager mode (demo, tests) has no queue to wait in: one attempt, the row says why.
        if self.request.is_eager or delivery.attempts >= settings.PESA_WEBHOOK_MAX_ATTEMPTS:
            return
        raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from None


@shared_task(acks_late=True)
def compact_change_log_task() -> int:
    """Beat sends this nightly: superseded change events older than the setting go."""
    return compact_change_log(older_than=timedelta(days=settings.PESA_CHANGES_COMPACT_AFTER_DAYS))
