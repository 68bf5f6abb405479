"""One run per source at a time, and the lock belongs to that run.

The lock is a lease: its value names the run that holds it (`<run id>:<random>`), it
expires after `PESA_SYNC_HEARTBEAT_TIMEOUT` seconds, and a live run renews it at least
every `KEEP_ALIVE_EVERY` seconds. A worker that dies stops renewing, so its lease lapses
within the timeout and the source is free again; `runs.fail_stale_runs` then marks the
dead run failed. With Redis (`REDIS_URL` set) the lease is a redis-py `Lock` renewed by a
heartbeat thread, so a long single statement (COPY, the apply transaction) cannot starve
it. Without Redis (demo, eager Celery: one process) it is a conditional UPDATE on the
`Source` row (`lock_token`, `locked_until`), renewed as the run makes progress.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from federation.models import Source

if TYPE_CHECKING:
    from federation.models import SyncRun

KEEP_ALIVE_EVERY = 10.0  # at most this many seconds between renewals while a run is alive

logger = logging.getLogger(__name__)


class LockLost(Exception):
    """The lease lapsed and may now be held by another run."""


class SourceLock(Protocol):
    def acquire(self) -> bool: ...
    def take_over(self) -> bool: ...
    def heartbeat(self) -> contextlib.AbstractContextManager[None]: ...
    def keep_alive(self, *, force: bool = False) -> None: ...
    def release(self) -> None: ...
    def owner(self) -> int | None: ...


def _token(run_pk: int | None) -> str:
    return f"{run_pk or 0}:{secrets.token_hex(12)}"


def _run_of(token: str | bytes | None) -> int | None:
    """The run id a lease value names; None for a free source or an anonymous holder."""
    if isinstance(token, bytes):
        token = token.decode()
    head = (token or "").partition(":")[0]
    return int(head) if head.isdigit() and int(head) else None


def renew_every(timeout: float) -> float:
    return min(KEEP_ALIVE_EVERY, timeout / 3)


class RedisSourceLock:
    # Replaces the lease of an earlier attempt of the same run, and only that.
    TAKE_OVER = """
        local held = redis.call('get', KEYS[1])
        if held and string.sub(held, 1, string.len(ARGV[1])) == ARGV[1] then
            redis.call('set', KEYS[1], ARGV[2], 'px', ARGV[3])
            return 1
        end
        return 0
    """

    def __init__(self, *, source: Source, timeout: float, run_pk: int | None = None) -> None:
        import redis

        self.client = redis.Redis.from_url(settings.REDIS_URL)
        self.name = f"pesa:sync-lock:{settings.DATABASES['default']['NAME']}:source:{source.pk}"
        self.run_pk = run_pk
        self.timeout = timeout
        self.every = renew_every(timeout)
        # thread_local=False: the token lives on the object, shared with the heartbeat thread.
        self.lock = self.client.lock(self.name, timeout=timeout, blocking=False, thread_local=False)
        self.token = _token(run_pk)
        self.extended_at = 0.0
        self.lost = threading.Event()

    def acquire(self) -> bool:
        acquired = bool(self.lock.acquire(blocking=False, token=self.token))
        self.extended_at = time.monotonic()
        return acquired

    def take_over(self) -> bool:
        """Takes the lease from an earlier attempt of this run (a redelivered task)."""
        if not self.run_pk:
            return False
        script = self.client.register_script(self.TAKE_OVER)
        taken = script(
            keys=[self.name], args=[f"{self.run_pk}:", self.token, int(self.timeout * 1000)]
        )
        if taken:
            self.lock.local.token = self.token.encode()
            self.extended_at = time.monotonic()
        return bool(taken)

    @contextlib.contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Renews the lease from a thread while the block runs, whatever the run is doing."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.every):
                try:
                    self._renew()
                except LockLost:
                    logger.warning("sync lease %s lapsed; the run will stop", self.name)
                    return
                except Exception:  # Redis briefly away: the next beat tries again
                    logger.exception("sync lease %s not renewed", self.name)

        thread = threading.Thread(target=beat, name="pesa-sync-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def keep_alive(self, *, force: bool = False) -> None:
        if self.lost.is_set():
            raise LockLost("the sync lock expired while the run was going on")
        if force or time.monotonic() - self.extended_at >= self.every:
            self._renew()

    def _renew(self) -> None:
        from redis.exceptions import LockError

        try:
            self.lock.reacquire()
        except LockError as error:
            self.lost.set()
            raise LockLost("the sync lock expired while the run was going on") from error
        self.extended_at = time.monotonic()

    def release(self) -> None:
        from redis.exceptions import LockError

        # Expired or taken over: never release someone else's lock.
        with contextlib.suppress(LockError):
            self.lock.release()

    def owner(self) -> int | None:
        return _run_of(self.client.get(self.name))


class DatabaseSourceLock:
    def __init__(self, *, source: Source, timeout: float, run_pk: int | None = None) -> None:
        self.source_pk = source.pk
        self.run_pk = run_pk
        self.timeout = timeout
        self.token = _token(run_pk)
        self.every = renew_every(timeout)
        self.extended_at = 0.0

    def acquire(self) -> bool:
        now = timezone.now()
        taken = (
            Source.objects.filter(pk=self.source_pk)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .update(lock_token=self.token, locked_until=self._until())
        )
        self.extended_at = time.monotonic()
        return taken == 1

    def take_over(self) -> bool:
        """Takes the lease from an earlier attempt of this run (a redelivered task)."""
        if not self.run_pk:
            return False
        taken = Source.objects.filter(
            pk=self.source_pk, lock_token__startswith=f"{self.run_pk}:"
        ).update(lock_token=self.token, locked_until=self._until())
        self.extended_at = time.monotonic()
        return taken == 1

    @contextlib.contextmanager
    def heartbeat(self) -> Iterator[None]:
        """One process (no Redis): the run renews the lease itself as it makes progress."""
        yield

    def keep_alive(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self.extended_at < self.every:
            return
        extended = Source.objects.filter(pk=self.source_pk, lock_token=self.token).update(
            locked_until=self._until()
        )
        if extended != 1:
            raise LockLost("the sync lock expired while the run was going on")
        self.extended_at = time.monotonic()

    def release(self) -> None:
        Source.objects.filter(pk=self.source_pk, lock_token=self.token).update(
            lock_token="", locked_until=None
        )

    def owner(self) -> int | None:
        held = (
            Source.objects.filter(pk=self.source_pk, locked_until__gte=timezone.now())
            .values_list("lock_token", flat=True)
            .first()
        )
        return _run_of(held)

    def _until(self):
        return timezone.now() + timedelta(seconds=self.timeout)


def source_lock(*, source: Source, run: SyncRun | None = None) -> SourceLock:
    """The lease for `source`, held on behalf of `run` (none: an anonymous holder)."""
    timeout = settings.PESA_SYNC_HEARTBEAT_TIMEOUT
    run_pk = run.pk if run is not None else None
    if settings.REDIS_URL:
        return RedisSourceLock(source=source, timeout=timeout, run_pk=run_pk)
    return DatabaseSourceLock(source=source, timeout=timeout, run_pk=run_pk)
