"""Domain errors of the federation. Services raise them; the edge translates them once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from federation.models import SyncRun


class SourceUnavailable(Exception):
    """The feed could not be fetched; the run is recorded as failed and may be retried."""

    def __init__(self, message: str, *, run: SyncRun | None = None) -> None:
        super().__init__(message)
        self.run = run


class SourceBusy(SourceUnavailable):
    """Another run of the same source holds the lock; a push run retries later."""


class FeedRejected(Exception):
    """A source setting or pushed feed is refused before any sync starts."""


class PushRejected(FeedRejected):
    """A push request is refused; `status` is the HTTP status the edge answers with."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
