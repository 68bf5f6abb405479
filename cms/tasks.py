import socket

from celery import shared_task

from cms.services import record_worker_heartbeat


@shared_task
def record_worker_heartbeat_task(hostname: str | None = None) -> int:
    """Beat sends this every minute; the row proves broker → worker → database works."""
    return record_worker_heartbeat(hostname=hostname or socket.gethostname()).pk
