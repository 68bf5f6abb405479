import socket

from celery import shared_task

from cms.services import record_worker_heartbeat
from cms.services.publishing import publish_scheduled_pages


@shared_task
def record_worker_heartbeat_task(hostname: str | None = None) -> int:
    """Beat sends this every minute; the row proves broker → worker → database works."""
    return record_worker_heartbeat(hostname=hostname or socket.gethostname()).pk


@shared_task
def publish_scheduled_pages_task() -> None:
    """Beat sends this every minute: pages go live and expire on time."""
    publish_scheduled_pages()
