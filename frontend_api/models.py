from __future__ import annotations

import secrets

from django import forms
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel


class WebhookEvent(models.TextChoices):
    CONTENT_PUBLISHED = "content.published", "Content published"
    CONTENT_UNPUBLISHED = "content.unpublished", "Content unpublished"
    SYNC_CHANGED = "sync.changed", "A feed sync changed records"


def generate_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def validate_events(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(WebhookEvent.values):
        raise ValidationError(f"Events must be a list drawn from {', '.join(WebhookEvent.values)}.")


class WebhookSubscriptionForm(WagtailAdminModelForm):
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )


class WebhookSubscription(models.Model):
    """A subscriber URL that receives signed POSTs (see docs/webhooks.md)."""

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500, help_text="HTTPS address that receives the POSTs.")
    secret = models.CharField(
        max_length=128,
        default=generate_webhook_secret,
        help_text="Shared secret for the X-Pesa-Signature HMAC. Give it to the subscriber.",
    )
    events = models.JSONField(default=list, validators=[validate_events])
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    base_form_class = WebhookSubscriptionForm
    panels = [
        FieldPanel("name"),
        FieldPanel("url"),
        FieldPanel("events"),
        FieldPanel("secret"),
        FieldPanel("active"),
    ]

    class Meta:
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return self.active and event in self.events


class WebhookDelivery(models.Model):
    """One event for one subscriber, with every attempt's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=50, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=("status", "created_at"))]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription}"


class ChangeEvent(models.Model):
    """One entry of the public change feed (`/api/v1/changes`).

    Append-only; the bigint id is the cursor, and writers take one lock so ids become
    visible in order (docs/decisions/0035-change-events-in-id-order.md). Whether an upsert is still public is
    decided when the feed is read, never stored.
    """

    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        SERVICE = "service", "Service"
        ORGANIZATION = "organization", "Organization"

    class Action(models.TextChoices):
        UPSERT = "upsert", "Created or updated"
        DELETE = "delete", "Deleted or no longer public"

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.BigIntegerField()
    lang = models.CharField(max_length=10, blank=True, help_text="Article locale; empty otherwise.")
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=("kind", "id"), name="frontend_api_change_kind_id")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.object_id} {self.action}"


class SearchEntry(models.Model):
    """One searchable document: an article page, or a service in one of its languages.

    Owned by the search index (`frontend_api.search.services`), rebuilt from the content in a
    second pass, never per row of a bulk import. Whether an entry's object is still public is
    decided when searching (live_articles / public_services), never trusted from here.
    """

    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        SERVICE = "service", "Service"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField()
    lang = models.CharField(max_length=10)
    title = models.TextField()
    body = models.TextField(blank=True)
    # Title weight A, body B; Voikko terms under `simple` for fi, `swedish`/`english` otherwise.
    # Null outside PostgreSQL, where search falls back to matching `title` and `body`.
    search_vector = SearchVectorField(null=True, blank=True)
    # The title's lexemes alone (the A part of `search_vector`): title matches of a very
    # common word are found through their own small GIN index, and rank without ts_filter().
    # Null when too big for the covering index (a title of thousands of characters): such an
    # entry is then found through `search_vector` only.
    title_vector = SearchVectorField(null=True, blank=True)
    # Lexemes in `search_vector`: a capped tier reads the matches of a very common word
    # shortest document first, the order ts_rank's length normalisation favours.
    lexeme_count = models.PositiveIntegerField(null=True, blank=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "search entries"
        constraints = [
            models.UniqueConstraint(
                fields=("kind", "object_id", "lang"), name="frontend_api_search_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} ({self.lang})"
