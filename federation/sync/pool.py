"""Parsing a big feed in worker processes while this one keeps the books.

A full run of a big feed is bound by parsing and cleaning (one process: about 2k records/s),
and the machine has more than one core. Documents are still fetched here, through the
guarded client; forked workers split each into items, skip those whose fingerprint matches
the stored one (the rows were read before the fork) and parse, sanitise and hash the rest.
This process gets the items back in feed order and does everything else, so the run's
outcome is the one a serial read would give. Small feeds never fork, nor does a run whose
first documents were mostly unchanged (skipping an item costs less than sending it).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

import orjson
from django.conf import settings

from federation.sync.records import content_hash, origin_id, sanitized
from federation.sync.stored_index import StoredIndex
from importers.base import Importer, ParsedRecord, RawItem, RecordError

# Parsing processes for a full run (1 or fewer: parse in this process).
PARSE_PROCESSES = 2
# Documents parsed here before a run forks workers: a small feed is done by then.
FORK_AFTER_DOCUMENTS = 20
# ... and only when at least this share of their items had to be parsed.
FORK_WHEN_PARSED = 0.5
# Documents handed out and not collected yet, per worker: bounds memory, keeps workers busy.
IN_FLIGHT_PER_PROCESS = 3

logger = logging.getLogger(__name__)

# The item of a `RawItem` a worker did not parse: its stored row has its fingerprint.
NOT_PARSED = object()


class ParsingWorkerLost(RuntimeError):
    """A parsing worker process died mid-run (killed, out of memory): the run stops, before
    it has written anything, instead of waiting for a page that never comes."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed record with the work `FeedRead._record` would do on it done already: its
    sanitised data as JSON (the record keeps no data, so little crosses between processes),
    their content hash and the sanitising repairs (field, message)."""

    record: ParsedRecord | RecordError
    data_json: bytes | None = None
    content_hash: str = ""
    sanitizing: tuple[tuple[str, str], ...] = ()


def prepare(record: ParsedRecord | RecordError) -> Prepared:
    if isinstance(record, RecordError) or record.withdrawn:
        return Prepared(record)
    reported: list[tuple[str, str]] = []
    data = sanitized(record.data, issue=lambda field, message: reported.append((field, message)))
    return Prepared(
        # The timestamp stays on the record: the watermark is the newest one parsed.
        replace(record, data={"modified": record.data.get("modified")}),
        orjson.dumps(data),
        content_hash(data),
        tuple(reported),
    )


def unchanged(existing: StoredIndex, raw: RawItem) -> bool:
    """True when the stored row of `raw` has its fingerprint: parsing would change nothing."""
    kind_rows = existing.get(raw.kind)
    current = kind_rows.get(origin_id(raw.source_id)) if kind_rows is not None else None
    return StoredIndex.holds_fingerprint(current, raw.fingerprint)


def parse_processes() -> int:
    return int(getattr(settings, "PESA_SYNC_PARSE_PROCESSES", PARSE_PROCESSES))


def items(
    importer: Importer, documents: Iterable[bytes], *, existing: StoredIndex
) -> Iterator[RawItem | ParsedRecord | RecordError]:
    """The items of `documents`, in order. Past `FORK_AFTER_DOCUMENTS` documents (if enough
    of their items had to be parsed) they come from worker processes: a `RawItem` then
    carries `NOT_PARSED` (its stored fingerprint matched) or a `Prepared` record instead of
    the raw item. The workers read `existing` as it was when they forked (only fingerprint
    bits and `StoredIndex.WITHDRAWN`, which a run does not change)."""
    documents = iter(documents)
    processes = parse_processes()
    items_seen = to_parse = 0
    for document in islice(documents, FORK_AFTER_DOCUMENTS if processes > 1 else None):
        for item in importer.raw_items(document):
            items_seen += 1
            to_parse += not isinstance(item, RawItem) or not unchanged(existing, item)
            yield item
    first = next(documents, None) if processes > 1 else None
    if first is None:
        return
    if to_parse < items_seen * FORK_WHEN_PARSED:
        # Mostly unchanged so far (a re-run): a fingerprint costs less than a round trip.
        for document in _chain(first, documents):
            yield from importer.raw_items(document)
        return
    global _WORKER_STATE
    _WORKER_STATE = (importer, existing)
    executor = ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("fork"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    pending: deque[Future] = deque()
    try:
        # Forked, so the workers share the importer and the rows read so far, unpickled.
        # With fork, the executor starts every worker at the first submit.
        with _children_allowed():
            pending.append(executor.submit(_split_and_parse, first))
    except (AssertionError, OSError) as error:  # no fork here: parse in this process
        executor.shutdown(wait=False, cancel_futures=True)
        _WORKER_STATE = None
        logger.warning("parsing in this process: cannot start workers (%s)", error)
        for document in _chain(first, documents):
            yield from importer.raw_items(document)
        return
    logger.info("parsing in %s worker processes", processes)
    try:
        limit = processes * IN_FLIGHT_PER_PROCESS
        for document in documents:
            pending.append(executor.submit(_split_and_parse, document))
            if len(pending) >= limit:
                yield from unpacked(_result(pending.popleft()))
        while pending:
            yield from unpacked(_result(pending.popleft()))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        _WORKER_STATE = None


def _result(future: Future) -> list[Any]:
    """A worker's parsed page. A multiprocessing pool would wait forever for the page of a
    worker that died; the executor says so, and the run fails with that reason."""
    try:
        return future.result()
    except BrokenProcessPool as error:
        raise ParsingWorkerLost(
            "a parsing worker process died (killed, or out of memory?): the run stopped "
            "before writing anything; the next run starts over"
        ) from error


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """A parsing worker dies with `parent`, the process that forked it (Linux): a sync killed
    at its Celery time limit leaves no worker behind. Each worker holds both ends of the
    executor's pipes, so it would never read an end of file and would wait forever."""
    if not sys.platform.startswith("linux"):  # pragma: no cover - production is Linux
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        logger.warning("parsing worker %s will not die with its parent", os.getpid())
    if os.getppid() != parent:  # pragma: no cover - the parent died before prctl
        os._exit(1)


@contextmanager
def _children_allowed() -> Iterator[None]:
    """Lets a daemonic process start the parsing pool. Each child of Celery's prefork pool is
    daemonic, and multiprocessing refuses to start processes from a daemon, so that none
    outlives it. The parsing pool does not: `items` shuts it down before the task returns,
    and a worker whose parent is killed gets SIGKILL too (`die_with_parent`)."""
    current = multiprocessing.current_process()
    daemonic = current.daemon
    if daemonic:
        current.daemon = False
    try:
        yield
    finally:
        if daemonic:
            current.daemon = True


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


# (importer, existing rows) while a pool runs: its forked workers read their copy.
_WORKER_STATE: tuple[Importer, StoredIndex] | None = None


def _split_and_parse(document: bytes) -> list[Any]:
    if _WORKER_STATE is None:  # pragma: no cover - only a non-fork start could do this
        raise RuntimeError(f"parsing worker {os.getpid()} started without its state")
    importer, existing = _WORKER_STATE
    result: list[Any] = []
    for item in importer.raw_items(document):
        if not isinstance(item, RawItem):
            result.append(item)
        elif unchanged(existing, item):
            result.append((item.kind, item.source_id, item.fingerprint, None))
        else:
            prepared = prepare(importer.parse_raw(item))
            result.append((item.kind, item.source_id, item.fingerprint, prepared))
    return result


def unpacked(results: list[Any]) -> Iterator[RawItem | ParsedRecord | RecordError]:
    for result in results:
        if isinstance(result, tuple):
            kind, source_id, fingerprint, prepared = result
            yield RawItem(
                kind, source_id, fingerprint, NOT_PARSED if prepared is None else prepared
            )
        else:
            yield result
