"""The sync engine: `sync_source` runs one source's importer and applies what changed.

The contract (DESIGN.md, "Sync contract"), as this package keeps it:
- upsert by `(source, origin_id)`; content hashes are diffed in Python and only new,
  changed or reactivated records are written, in bulk; a re-run of the same feed
  writes no record rows;
- a complete full run withdraws (soft) what it no longer lists; an incremental or
  pushed run withdraws only what the feed marks withdrawn; withdrawn records come
  back when they reappear;
- a failed, unparsable or empty feed, or one that would withdraw more than the
  source's guard allows, changes nothing (outcome failed or held);
- all changes of a run are applied in one transaction, under a per-source lock;
- a raw item whose importer fingerprint (importers/base.py) equals the one stored on its
  row is not parsed at all; a record that was repaired or rejected is parsed every run;
- memory stays flat in the feed's size: reading keeps one small int per existing row (a
  full run reads them all, an incremental run only those its feed names) and spools only
  new or changed records to a temporary file, streamed back in batches when writing;
  unchanged records cost no model instance and no query, and linking and organisation
  lookups touch only the records written in the run; new rows go in with COPY;
- a big full run parses in forked worker processes (`pool.py`), with the outcome a
  serial read would give;
- every run is a `SyncRun`; every rejected or repaired record a `RecordIssue`.

Where each part lives:
- `orchestration.py`: the run, fetch -> read -> plan -> apply -> finish, under the source's
  lease (`locks.py`); `lifecycle.py`: queued, interrupted and finished runs, the watermark.
- `reading.py`: `FeedRead`, what one run read from the source's feed; `stored_index.py`:
  the stored rows it diffs against, one int each; `spool.py`: the new and changed records,
  on disk until the write; `pool.py`: big full runs parse in worker processes;
  `records.py`: record kinds, origin ids, sanitising and content hashes.
- `plan.py`: what to create, update, reactivate and withdraw, and the guards.
- `apply.py`: the writes, in one transaction; `record_fields.py`: a record's columns;
  `children.py`: a service's area and code rows; `links.py`: service-channel links and
  late organisations; `bulk.py`: COPY inserts and staged updates.
- `recency.py`: newest wins, and watermarks; `statistics.py`: planner statistics after a big
  run; `gc_pause.py`: the cyclic GC paused while reading and writing.
"""

from federation.sync.orchestration import sync_source

__all__ = ["sync_source"]
