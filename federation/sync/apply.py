"""Applying a plan, inside the run's one transaction: upserts from the spool, withdrawals,
child rows, links, last-seen times, then the change signal."""

from __future__ import annotations

import gc
from array import array
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from federation.models import Organization, RecordStatus, Source, SyncRun
from federation.signals import records_changed
from federation.sync import recency
from federation.sync.bulk import BATCH_SIZE, chunks, insert_records, update_rows
from federation.sync.children import replace_service_children
from federation.sync.links import link_services_and_channels, resolve_organizations
from federation.sync.plan import Plan
from federation.sync.reading import FeedRead
from federation.sync.record_fields import record_fields, rewritten_fields
from federation.sync.records import KINDS, RECORD_MODELS
from federation.sync.spool import Spooled
from federation.sync.statistics import refresh_statistics

LAST_SEEN_PRECISION = timedelta(days=1)


def apply_plan(*, source: Source, run: SyncRun, plan: Plan, feed_read: FeedRead) -> dict[str, int]:
    """Writes what the plan decided, streaming the data back from the run's spool in batches."""
    now = timezone.now()
    created = updated = withdrawn = 0
    organizations: dict[str, int] = {}
    # pks as 8-byte machine ints, not a list of int objects (~36 bytes each): a first sync
    # of 200k services writes ~460k rows.
    changes: dict[str, dict[str, array[int]]] = {}
    created_pks: dict[str, array[int]] = {}
    for kind in KINDS:
        model = RECORD_MODELS[kind]
        upserted = array("q")
        created_pks[kind] = array("q")
        fields_to_update = rewritten_fields(model)
        # Before the rewrites below, which carry their own fingerprint.
        _store_fingerprints(
            source=source, model=model, fingerprints=feed_read.refingerprinted[kind]
        )
        for batch in feed_read.written(kind, BATCH_SIZE):
            if kind != "organization":
                _add_organizations(source=source, organizations=organizations, batch=batch)
            existing = feed_read.existing[kind]
            known = [origin_id for origin_id, *_rest in batch if origin_id in existing]
            stored = (
                {
                    origin_id: (pk, modified)
                    for origin_id, pk, modified in model.objects.filter(
                        source=source, origin_id__in=known
                    ).values_list("origin_id", "pk", "origin_modified")
                }
                if known
                else {}
            )
            new_rows: list[dict[str, Any]] = []
            changed_rows: list[dict[str, Any]] = []
            for origin_id, content_hash, fingerprint, data in batch:
                pk, stored_modified = stored.get(origin_id, (None, ""))
                stale = pk is not None and recency.stale_message(
                    data.get("modified"), stored_modified
                )
                if stale:
                    feed_read.stale(kind, origin_id, stale)
                    plan.skip_stale(kind, existing.get(origin_id))
                    continue
                fields = record_fields(kind, data, organizations, run)
                if pk is None:
                    new_rows.append(
                        {
                            "source_id": source.pk,
                            "origin_id": origin_id,
                            "content_hash": content_hash,
                            "raw_fingerprint": fingerprint,
                            "status": RecordStatus.ACTIVE,
                            "first_seen_at": now,
                            "last_seen_at": now,
                            "synced_at": now,
                            **fields,
                        }
                    )
                else:
                    changed_rows.append(
                        {
                            "id": pk,
                            "content_hash": content_hash,
                            "raw_fingerprint": fingerprint,
                            "status": RecordStatus.ACTIVE,
                            "withdrawn_at": None,
                            "withdrawn_reason": "",
                            "last_seen_at": now,
                            "synced_at": now,
                            **fields,
                        }
                    )
            new_pks = insert_records(model=model, source=source, rows=new_rows)
            update_rows(model, changed_rows, fields_to_update)
            created += len(new_rows)
            updated += len(changed_rows)
            if kind == "service":
                replace_service_children(
                    created=[(new_pks[row["origin_id"]], row) for row in new_rows],
                    rewritten=[(row["id"], row) for row in changed_rows],
                )
            upserted.extend(new_pks[row["origin_id"]] for row in new_rows)
            upserted.extend(row["id"] for row in changed_rows)
            created_pks[kind].extend(new_pks.values())
            gc.collect(1)  # the cyclic collector is paused (`cyclic_gc_paused`)

        withdrawn_pks = array("q")
        for chunk in chunks(plan.withdraw[kind], 5000):
            live = model.objects.filter(source=source, origin_id__in=chunk).exclude(
                status=RecordStatus.WITHDRAWN
            )
            rows_now = list(live.values_list("pk", "origin_id"))
            pks_now = [pk for pk, _origin_id in rows_now]
            withdrawn += model.objects.filter(pk__in=pks_now).update(
                status=RecordStatus.WITHDRAWN,
                withdrawn_at=now,
                withdrawn_reason=plan.withdraw_reason,
                synced_at=now,
            )
            _store_withdrawal_times(model, rows_now, feed_read.flagged_withdrawn[kind])
            withdrawn_pks.extend(sorted(pks_now))
        changes[kind] = {"upserted": upserted, "withdrawn": withdrawn_pks}

    if created or updated:
        link_services_and_channels(
            source=source,
            services=changes["service"]["upserted"],
            channels=changes["channel"]["upserted"],
            created_services=created_pks["service"],
            created_channels=created_pks["channel"],
        )
        resolve_organizations(source=source, organizations=changes["organization"]["upserted"])
    _mark_seen(source=source, plan=plan, feed_read=feed_read, now=now)
    if created or updated or withdrawn:
        records_changed.send(sender=Source, source=source, run=run, changes=changes)
        written = {
            RECORD_MODELS[kind]: len(pks["upserted"]) + len(pks["withdrawn"])
            for kind, pks in changes.items()
        }
        # After the commit (ANALYZE sees only committed rows); a failure is logged, not
        # raised: the run has succeeded.
        transaction.on_commit(lambda: refresh_statistics(written), robust=True)
    return {
        "created": created,
        "updated": updated,
        "unchanged": plan.unchanged,
        "withdrawn": withdrawn,
        "rejected": plan.rejected + plan.stale,
    }


def _store_withdrawal_times(
    model: type[models.Model], rows: list[tuple[int, str]], flagged: dict[str, str]
) -> None:
    """The feed's timestamp of a withdrawal becomes the row's, so an older copy replayed
    later does not bring the record back (newest wins)."""
    dated = [
        {"id": pk, "origin_modified": flagged[origin_id][:40]}
        for pk, origin_id in rows
        if flagged.get(origin_id)
    ]
    update_rows(model, dated, ["origin_modified"])


def _add_organizations(
    *, source: Source, organizations: dict[str, int], batch: list[Spooled]
) -> None:
    """The pks of the organisations a batch names that are not in `organizations` yet."""
    wanted = {
        str(data.get("organization_origin_id"))
        for *_rest, data in batch
        if data.get("organization_origin_id")
    } - organizations.keys()
    if wanted:
        organizations.update(
            Organization.objects.filter(source=source, origin_id__in=sorted(wanted)).values_list(
                "origin_id", "pk"
            )
        )


def _store_fingerprints(
    *, source: Source, model: type[models.Model], fingerprints: dict[str, int | None]
) -> None:
    """New fingerprints of unchanged rows: one column, no `synced_at`, no change signal."""
    for chunk in chunks(list(fingerprints.items()), BATCH_SIZE):
        pks = dict(
            model.objects.filter(
                source=source, origin_id__in=[origin_id for origin_id, _f in chunk]
            ).values_list("origin_id", "pk")
        )
        model.objects.bulk_update(
            [
                model(pk=pks[origin_id], raw_fingerprint=fp)
                for origin_id, fp in chunk
                if origin_id in pks
            ],
            ["raw_fingerprint"],
        )


def _mark_seen(*, source: Source, plan: Plan, feed_read: FeedRead, now: Any) -> None:
    """`last_seen_at` to within a day, so re-running an unchanged feed writes nothing."""
    cutoff = now - LAST_SEEN_PRECISION
    for kind in KINDS:
        model = RECORD_MODELS[kind]
        stale = model.objects.filter(source=source, last_seen_at__lt=cutoff)
        if plan.complete:
            stale.exclude(status=RecordStatus.WITHDRAWN).update(last_seen_at=now)
            continue
        ids = list(feed_read.existing.seen_unchanged(kind))
        for chunk in chunks(ids, 5000):
            stale.filter(origin_id__in=chunk).update(last_seen_at=now)
