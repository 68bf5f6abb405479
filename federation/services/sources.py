"""Sources: registering feeds, push tokens, push ingest and scheduling."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from federation.exceptions import FeedRejected, PushRejected
from federation.models import PushPayload, Source, SyncRun
from federation.selectors import sources_due_for_sync
from federation.services.importing import importer_formats, is_file_url

TOKEN_PREFIX = "pesa_"  # noqa: S105 (a prefix, not a secret)


def validate_feed_url(url: str) -> None:
    """Empty (push-only), http(s), or `file:` where bundled files are allowed."""
    if not url:
        return
    if is_file_url(url):
        if not settings.PESA_FEED_ALLOW_FILE_URLS:
            raise FeedRejected("file: URLs are allowed only where PESA_FEED_ALLOW_FILE_URLS is on")
        return
    if not url.lower().startswith(("http://", "https://")):
        raise FeedRejected(f"feed URL must start with http:// or https://, not {url[:40]!r}")


@transaction.atomic
def create_source(
    *,
    slug: str,
    name: str,
    kind: str,
    format: str,
    url: str = "",
    owner: str = "",
    area_scope: list[str] | None = None,
    importer_options: dict | None = None,
    trust_tier: str = Source.TrustTier.VERIFIED,
) -> Source:
    if format not in importer_formats():
        raise FeedRejected(f"unknown format {format!r}; known: {', '.join(importer_formats())}")
    validate_feed_url(url)
    source = Source(
        slug=slug,
        name=name,
        kind=kind,
        format=format,
        url=url,
        owner=owner,
        area_scope=area_scope or [],
        importer_options=importer_options or {},
        trust_tier=trust_tier,
    )
    try:
        source.full_clean()
    except ValidationError as error:
        raise FeedRejected(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
        ) from error
    source.save()
    return source


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_push_token(*, source: Source) -> str:
    """A new push token; only its sha256 is stored, so this is the one time it is shown."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    source.push_token_hash = token_hash(token)
    source.push_token_hint = token[: len(TOKEN_PREFIX) + 4]
    source.save(update_fields=["push_token_hash", "push_token_hint"])
    return token


def revoke_push_token(*, source: Source) -> None:
    source.push_token_hash = ""
    source.push_token_hint = ""
    source.save(update_fields=["push_token_hash", "push_token_hint"])


def authenticate_push(*, slug: str, token: str) -> Source:
    """The source a push token belongs to: 401 for a bad token, 403 for another source's."""
    digest = token_hash(token) if token else ""
    source = Source.objects.filter(slug=slug).first()
    if (
        source is not None
        and source.push_token_hash
        and hmac.compare_digest(digest, source.push_token_hash)
    ):
        if not source.enabled:
            raise PushRejected("this source is disabled", status=403)
        return source
    if digest and Source.objects.filter(push_token_hash=digest).exclude(slug=slug).exists():
        raise PushRejected("this token belongs to another source", status=403)
    raise PushRejected("missing, invalid or revoked push token", status=401)


@transaction.atomic
def receive_push(*, source: Source, body: bytes, content_type: str) -> SyncRun:
    """Stores the body durably and queues its run; a worker processes it after commit."""
    from federation.tasks import sync_source_task

    payload = PushPayload.objects.create(
        source=source, body=body, content_type=content_type[:100], size=len(body)
    )
    run = SyncRun.objects.create(
        source=source,
        trigger=SyncRun.Trigger.PUSH,
        mode=SyncRun.Mode.INCREMENTAL,
        payload=payload,
        message="queued",
    )
    sync_source_task.delay_on_commit(source.pk, False, SyncRun.Trigger.PUSH, payload.pk)
    return run


def enqueue_sync(*, source: Source, full: bool, trigger: str = SyncRun.Trigger.MANUAL) -> None:
    from federation.tasks import sync_source_task

    sync_source_task.delay_on_commit(source.pk, full, trigger)


@transaction.atomic
def enqueue_due_sources(*, now: datetime | None = None) -> list[int]:
    """Queues every due source and moves its next times on, so a beat tick never queues twice."""
    from federation.tasks import sync_source_task

    now = now or timezone.now()
    queued = []
    for source in sources_due_for_sync(now=now).select_for_update(skip_locked=True):
        full = bool(source.full_due)
        if full:
            source.next_full_sync_at = now + timedelta(hours=source.full_sync_interval_hours)
        if source.incremental_interval_minutes:
            source.next_sync_at = now + timedelta(minutes=source.incremental_interval_minutes)
        else:
            source.next_sync_at = source.next_full_sync_at
        source.save(update_fields=["next_sync_at", "next_full_sync_at"])
        sync_source_task.delay_on_commit(source.pk, full, SyncRun.Trigger.SCHEDULE)
        queued.append(source.pk)
    return queued
