"""One run per source at a time.

With Redis (`REDIS_URL` set) the lock is a redis-py `Lock`: a random token, an expiry
(`PESA_SYNC_LOCK_TIMEOUT`, below the broker's visibility timeout) and a release that
only its owner can make. Without Redis (demo, eager Celery) the same guarantees come
from a conditional UPDATE on the `Source` row (`lock_token`, `locked_until`), which
works on SQLite and PostgreSQL alike. A worker killed mid-run leaves a lock that
expires on its own; a live run extends it as it makes progress (`keep_alive`).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from federation.models import Source

KEEP_ALIVE_EVERY = 10.0  # at most this many seconds between extensions while a run makes progress


class LockLost(Exception):
    """The lock expired and may now be held by another run."""


class SourceLock(Protocol):
    def acquire(self) -> bool: ...
    def keep_alive(self, *, force: bool = False) -> None: ...
    def release(self) -> None: ...


class RedisSourceLock:
    def __init__(self, *, source: Source, timeout: int) -> None:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        # thread_local=False: the token lives on the object, not on the thread.
        self.every = min(KEEP_ALIVE_EVERY, timeout / 3)
        self.lock = client.lock(
            f"pesa:sync-lock:{settings.DATABASES['default']['NAME']}:source:{source.pk}",
            timeout=timeout,
            blocking=False,
            thread_local=False,
        )
        self.extended_at = 0.0

    def acquire(self) -> bool:
        acquired = bool(self.lock.acquire(blocking=False))
        self.extended_at = time.monotonic()
        return acquired

    def keep_alive(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self.extended_at < self.every:
            return
        from redis.exceptions import LockError

        try:
            self.lock.reacquire()
        except LockError as error:
            raise LockLost("the sync lock expired while the run was going on") from error
        self.extended_at = time.monotonic()

    def release(self) -> None:
        from redis.exceptions import LockError

        # Expired or taken over: never release someone else's lock.
        with contextlib.suppress(LockError):
            self.lock.release()


class DatabaseSourceLock:
    def __init__(self, *, source: Source, timeout: int) -> None:
        self.source_pk = source.pk
        self.timeout = timeout
        self.token = secrets.token_hex(16)
        self.every = min(KEEP_ALIVE_EVERY, timeout / 3)
        self.extended_at = 0.0

    def acquire(self) -> bool:
        now = timezone.now()
        taken = (
            Source.objects.filter(pk=self.source_pk)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .update(lock_token=self.token, locked_until=now + timedelta(seconds=self.timeout))
        )
        self.extended_at = time.monotonic()
        return taken == 1

    def keep_alive(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self.extended_at < self.every:
            return
        extended = Source.objects.filter(pk=self.source_pk, lock_token=self.token).update(
            locked_until=timezone.now() + timedelta(seconds=self.timeout)
        )
        if extended != 1:
            raise LockLost("the sync lock expired while the run was going on")
        self.extended_at = time.monotonic()

    def release(self) -> None:
        Source.objects.filter(pk=self.source_pk, lock_token=self.token).update(
            lock_token="", locked_until=None
        )


def source_lock(*, source: Source) -> SourceLock:
    timeout = settings.PESA_SYNC_LOCK_TIMEOUT
    if settings.REDIS_URL:
        return RedisSourceLock(source=source, timeout=timeout)
    return DatabaseSourceLock(source=source, timeout=timeout)
