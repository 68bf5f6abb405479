"""Scheduled publishing: Wagtail's own go-live / expiry logic, run by Celery beat."""

from io import StringIO

from django.core.management import call_command


def publish_scheduled_pages() -> str:
    """Publishes revisions whose go-live time has passed and unpublishes expired pages.

    Delegates to Wagtail's `publish_scheduled` command so the rules stay Wagtail's.
    Returns the command's report.
    """
    output = StringIO()
    call_command("publish_scheduled", stdout=output)
    return output.getvalue()
