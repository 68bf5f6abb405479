from __future__ import annotations

import secrets

from django import forms
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
