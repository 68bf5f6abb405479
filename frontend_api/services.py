"""Writes and outbound calls of the public API: webhook notifications and deliveries."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain, islice
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from wagtail.models import Page

from cms.models import ArticlePage, TopicPage
from cms.selectors import live_articles
from federation.models import (
    Organization,
    RecordStatus,
    Service,
    ServiceChannel,
    Source,
    SyncRun,
)
from federation.selectors import public_organizations, public_services
from frontend_api.caching import bump_content_generation
from frontend_api.exceptions import WebhookDeliveryFailed
from frontend_api.models import ChangeEvent, WebhookDelivery, WebhookEvent, WebhookSubscription
from frontend_api.outbound import deadline_client
from frontend_api.renderers import dumps
from importers.base import FeedUnavailable
from importers.http import AddressNotAllowed

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
    429); any other 4xx, and an address the policy refuses, is final.
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
    refused = False
    try:
        response = http.post(subscription.url, content=body, headers=headers)
    except AddressNotAllowed as exc:
        delivery.response_status = None
        error, refused = f"refused: {exc}", True
    except (httpx.HTTPError, FeedUnavailable) as exc:
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
    retryable = not refused and (
        delivery.response_status is None
        or delivery.response_status >= 500
        or delivery.response_status in RETRYABLE_STATUSES
    )
    if error and retryable:
        raise WebhookDeliveryFailed(error)
    return delivery


def webhook_http_client() -> httpx.Client:
    """Per operation PESA_WEBHOOK_TIMEOUT; the whole attempt within PESA_WEBHOOK_DEADLINE; the
    subscriber's address checked as a feed's is (PESA_FEED_ALLOW_PRIVATE_ADDRESSES)."""
    timeout = settings.PESA_WEBHOOK_TIMEOUT
    return deadline_client(
        total=settings.PESA_WEBHOOK_DEADLINE,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        allow_private=settings.PESA_FEED_ALLOW_PRIVATE_ADDRESSES,
    )


# ---------------------------------------------------------------------------
# The change log behind /api/v1/changes (docs/decisions/0034-change-log-table.md)
# ---------------------------------------------------------------------------
# pg_advisory_xact_lock key: writers of the change log queue here, so event ids become
# visible in id order and a reader's cursor can never skip a late-committing event.
CHANGE_LOG_LOCK_KEY = 0x50455341  # "PESA"


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # ChangeEvent.Kind
    object_id: int
    action: str  # ChangeEvent.Action
    lang: str = ""


def _lock_change_log() -> None:
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHANGE_LOG_LOCK_KEY])


# Events are written this many at a time, so a first sync of 200k services never holds
# 200k model instances (about 1 KB each) at once.
EVENT_BATCH = 5000
# Ids per `IN (…)` of the lookups below: one parameter each, so a 260k-channel sync would
# otherwise send one statement of 260k parameters.
ID_BATCH = 5000


@transaction.atomic
def record_changes(*, changes: Iterable[Change]) -> int:
    """Appends events (duplicates within one call dropped) and retires cached responses;
    returns how many were appended.

    Runs inside the caller's transaction: the events commit or roll back with the change.
    """
    return _append_events(dict.fromkeys(changes))


def _append_events(changes: Iterable[Change]) -> int:
    """Appends `changes` (no duplicates among them), `EVENT_BATCH` at a time, as they come."""
    changes = iter(changes)
    appended = 0
    while batch := list(islice(changes, EVENT_BATCH)):
        if not appended:
            _lock_change_log()
        ChangeEvent.objects.bulk_create(
            ChangeEvent(kind=c.kind, object_id=c.object_id, action=c.action, lang=c.lang)
            for c in batch
        )
        appended += len(batch)
    if appended:
        transaction.on_commit(bump_content_generation)
    return appended


def compact_change_log(*, older_than: timedelta) -> int:
    """Deletes the events older than `older_than` that a later event of the same item
    (kind, id, language) supersedes; returns how many.

    Safe for every cursor: a reader past a deleted event has applied it, and a reader
    before it will apply the later event, which says what is true now (a feed reader checks
    whether an upsert is still public anyway). So the log grows with the number of items,
    not of changes: a nightly full sync no longer adds a row per changed record for good.
    Deletes of items never seen again stay: a mirror with an old cursor still needs them.
    """
    later = ChangeEvent.objects.filter(
        kind=OuterRef("kind"),
        object_id=OuterRef("object_id"),
        lang=OuterRef("lang"),
        id__gt=OuterRef("id"),
    )
    superseded = ChangeEvent.objects.filter(at__lt=timezone.now() - older_than).filter(
        Exists(later)
    )
    deleted, _ = superseded.delete()
    return deleted


def _in_batches(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), ID_BATCH):
        yield list(ids[start : start + ID_BATCH])


def _add_service_ids_of_channels(service_ids: set[int], channel_ids: Sequence[int]) -> None:
    for batch in _in_batches(channel_ids):
        service_ids.update(
            ServiceChannel.objects.filter(channel_id__in=batch)
            .values_list("service_id", flat=True)
            .distinct()
        )


def _add_service_ids_of_organizations(
    service_ids: set[int], organization_ids: Sequence[int]
) -> None:
    for batch in _in_batches(organization_ids):
        service_ids.update(
            Service.objects.filter(organization_id__in=batch).values_list("pk", flat=True)
        )


@transaction.atomic
def record_sync_changes(
    *, source: Source, run: SyncRun | None, changes: dict[str, dict[str, Sequence[int]]]
) -> int:
    """One sync's writes as change events, plus a `sync.changed` webhook.

    A service is upserted when it, one of its channels or its organisation changed (its
    public item shows all three); withdrawn services and organisations are deletes. The
    events are written as they are made: a first sync of 200k services never holds them all.
    """
    services = changes.get("service", {})
    organizations = changes.get("organization", {})
    channels = changes.get("channel", {})
    withdrawn_services = set(services.get("withdrawn", []))
    upserted_services = set(services.get("upserted", []))
    _add_service_ids_of_channels(upserted_services, channels.get("upserted", []))
    _add_service_ids_of_channels(upserted_services, channels.get("withdrawn", []))
    _add_service_ids_of_organizations(upserted_services, organizations.get("upserted", []))
    _add_service_ids_of_organizations(upserted_services, organizations.get("withdrawn", []))
    upserted_services -= withdrawn_services
    appended = _append_events(
        chain(
            (Change("service", pk, ChangeEvent.Action.UPSERT) for pk in sorted(upserted_services)),
            (Change("service", pk, ChangeEvent.Action.DELETE) for pk in sorted(withdrawn_services)),
            # A pk listed twice is one event, as `record_changes` would have it.
            (
                Change("organization", pk, ChangeEvent.Action.UPSERT)
                for pk in dict.fromkeys(organizations.get("upserted", []))
            ),
            (
                Change("organization", pk, ChangeEvent.Action.DELETE)
                for pk in dict.fromkeys(organizations.get("withdrawn", []))
            ),
        )
    )
    notify_subscribers(
        event=WebhookEvent.SYNC_CHANGED,
        payload={
            "source": source.slug,
            "run": run.pk if run else None,
            "services": {
                "upserted": sorted(upserted_services),
                "withdrawn": sorted(withdrawn_services),
            },
            "organizations": {
                "upserted": sorted(organizations.get("upserted", [])),
                "withdrawn": sorted(organizations.get("withdrawn", [])),
            },
        },
    )
    return appended


@transaction.atomic
def record_source_visibility(*, source: Source) -> int:
    """A source was enabled or disabled: all its services and organisations change at once."""
    action = ChangeEvent.Action.UPSERT if source.enabled else ChangeEvent.Action.DELETE
    active = {"source": source, "status": RecordStatus.ACTIVE}
    return record_changes(
        changes=[
            *(
                Change("service", pk, action)
                for pk in Service.objects.filter(**active).values_list("pk", flat=True)
            ),
            *(
                Change("organization", pk, action)
                for pk in Organization.objects.filter(**active).values_list("pk", flat=True)
            ),
        ]
    )


def _article_change(page: Page, action: str) -> Change:
    return Change("article", page.pk, action, page.locale.language_code)


def _is_article(page: Page) -> bool:
    return isinstance(page.specific_deferred, ArticlePage)


@transaction.atomic
def record_page_published(*, page: Page) -> int:
    """A publish that made the page live (a scheduled one is recorded when it goes live)."""
    if not page.live:
        return 0
    return _record_page_change(
        page,
        action=ChangeEvent.Action.UPSERT,
        event=WebhookEvent.CONTENT_PUBLISHED,
        languages=[page.locale.language_code],
    )


@transaction.atomic
def record_page_unpublished(*, page: Page) -> int:
    """Unpublished, expired (publish_scheduled unpublishes) or deleted while live."""
    return _record_page_change(
        page, action=ChangeEvent.Action.DELETE, event=WebhookEvent.CONTENT_UNPUBLISHED
    )


def _record_page_change(
    page: Page, *, action: str, event: str, languages: list[str] | None = None
) -> int:
    """An article goes to the change log (which retires cached responses); a topic page only
    retires them. Webhook subscribers hear of both."""
    if not isinstance(page, (ArticlePage, TopicPage)):
        return 0
    appended = 0
    if isinstance(page, ArticlePage):
        appended = record_changes(changes=[_article_change(page, action)])
    else:
        transaction.on_commit(bump_content_generation)
    payload: dict[str, Any] = {
        "ids": [page.pk],
        "kind": "article" if isinstance(page, ArticlePage) else "topic",
        "paths": [page.url_path],
    }
    if languages is not None:
        payload["languages"] = languages
    notify_subscribers(event=event, payload=payload)
    return appended


@transaction.atomic
def record_page_deleted(*, page: Page) -> int:
    if not isinstance(page, ArticlePage):
        return 0
    if page.live:
        return record_page_unpublished(page=page)
    return record_changes(changes=[_article_change(page, ChangeEvent.Action.DELETE)])


@transaction.atomic
def record_pages_moved(*, page: Page) -> int:
    """A move changes the URL path of the page and all its descendants."""
    articles = ArticlePage.objects.descendant_of(page, inclusive=True).live()
    return record_changes(
        changes=[
            _article_change(article, ChangeEvent.Action.UPSERT)
            for article in articles.select_related("locale")
        ]
    )


@transaction.atomic
def record_view_restriction_changed(*, page_id: int, removed: bool) -> int:
    """A view restriction hides the page and its subtree in every locale (cms.selectors rule).

    Added: deletes for the live articles there. Removed: upserts; whatever is still
    restricted some other way is reported as a delete when the feed is read.
    """
    page = Page.objects.filter(pk=page_id).first()
    if page is None:  # the page itself is being deleted; its deletion is recorded
        return 0
    copies = Page.objects.filter(translation_key=page.translation_key)
    paths = Q()
    for path in copies.values_list("path", flat=True):
        paths |= Q(path__startswith=path)
    action = ChangeEvent.Action.UPSERT if removed else ChangeEvent.Action.DELETE
    articles = ArticlePage.objects.filter(paths).live().select_related("locale").order_by("pk")
    return record_changes(changes=[_article_change(article, action) for article in articles])


@transaction.atomic
def rebuild_change_log(*, force: bool = False) -> int:
    """Appends an upsert for everything public now, so a new mirror can start from the top.

    Without `force` it does nothing when the log already has events (the receivers have
    been recording since the start). Never deletes: mirrors' cursors stay valid.
    """
    if not force and ChangeEvent.objects.exists():
        return 0
    upsert = ChangeEvent.Action.UPSERT
    changes = [
        *(
            Change("article", pk, upsert, lang)
            for pk, lang in live_articles()
            .order_by("pk")
            .values_list("pk", "locale__language_code")
        ),
        *(
            Change("organization", pk, upsert)
            for pk in public_organizations().order_by("pk").values_list("pk", flat=True)
        ),
        *(
            Change("service", pk, upsert)
            for pk in public_services().order_by("pk").values_list("pk", flat=True)
        ),
    ]
    return record_changes(changes=changes)
