from django.db import models
from wagtail.models import Page


class HomePage(Page):
    """Root of one locale's page tree; topic pages live under it."""

    max_count_per_parent = 1
    parent_page_types = ["wagtailcore.Page"]


class WorkerHeartbeat(models.Model):
    """Last time each Celery worker proved it can run tasks and write to the database."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
