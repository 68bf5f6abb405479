from django.db import models


class WorkerHeartbeat(models.Model):
    """Last time each Celery worker proved it can run tasks and write to the database."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
