"""Writes for the cms app: one module per concern, the common entry points re-exported here."""

from cms.services.site import (
    ensure_admin_user,
    ensure_locales,
    ensure_site_structure,
    record_worker_heartbeat,
)

__all__ = [
    "ensure_admin_user",
    "ensure_locales",
    "ensure_site_structure",
    "record_worker_heartbeat",
]
