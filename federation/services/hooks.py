"""Hook points for other apps. Kept to plain function calls so they are easy to follow."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from federation.models import SyncRun

logger = logging.getLogger(__name__)


def sync_completed(*, run: SyncRun) -> None:
    """Called once after a run that changed records has committed.

    The API's cache invalidation and webhooks go here (one call each). It runs after
    commit, so it may enqueue tasks; it must not fail the sync.
    """
    logger.info(
        "sync completed: source=%s run=%s created=%s updated=%s withdrawn=%s",
        run.source.slug,
        run.pk,
        run.created,
        run.updated,
        run.withdrawn,
    )
