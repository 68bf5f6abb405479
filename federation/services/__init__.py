"""Everything in federation that writes or calls out, except the sync engine. Import from here.

The sync engine, the one writer of canonical records, is its own package: `federation.sync`
(`from federation.sync import sync_source`).

- `create_source`, `issue_push_token`, `receive_push`, `enqueue_sync`, `enqueue_due_sources`
  (services/sources.py).
- `load_areas` (services/areas.py), `load_demo_sources` (services/demo.py).
- `sync_completed` (services/hooks.py): the hook called after a run that changed records.
"""

from federation.services.areas import load_areas
from federation.services.hooks import sync_completed
from federation.services.sources import (
    authenticate_push,
    create_source,
    enqueue_due_sources,
    enqueue_sync,
    issue_push_token,
    receive_push,
    revoke_push_token,
)

__all__ = [
    "authenticate_push",
    "create_source",
    "enqueue_due_sources",
    "enqueue_sync",
    "issue_push_token",
    "load_areas",
    "receive_push",
    "revoke_push_token",
    "sync_completed",
]
