"""The sync engine: `sync_source` runs one source's importer and applies what changed.

The contract (DESIGN.md, "Sync contract"), as this module keeps it:
- upsert by `(source, origin_id)`; content hashes are diffed in Python and only new,
  changed or reactivated records are written, in bulk; a re-run of the same feed
  writes no record rows;
- a complete full run withdraws (soft) what it no longer lists; an incremental or
  pushed run withdraws only what the feed marks withdrawn; withdrawn records come
  back when they reappear;
- a failed, unparsable or empty feed, or one that would withdraw more than the
  source's guard allows, changes nothing (outcome failed or held);
- all changes of a run are applied in one transaction, under a per-source lock;
- every run is a `SyncRun`; every rejected or repaired record a `RecordIssue`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import orjson
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from federation.exceptions import FeedRejected, SourceBusy, SourceUnavailable
from federation.models import (
    Channel,
    Organization,
    PushPayload,
    RecordIssue,
    RecordStatus,
    Service,
    ServiceArea,
    ServiceChannel,
    ServiceCode,
    Source,
    SyncRun,
)
from federation.services.hooks import sync_completed
from federation.services.importing import (
    build_client,
    bundled_documents,
    importer_class,
    importer_options,
    is_file_url,
)
from federation.services.locks import LockLost, SourceLock, source_lock
from federation.signals import records_changed
from importers.base import FeedMalformed, FeedUnavailable, Importer, ParsedRecord, RecordError
from importers.cleaning import clean_html

logger = logging.getLogger(__name__)

RECORD_MODELS: dict[str, type[models.Model]] = {
    "organization": Organization,
    "service": Service,
    "channel": Channel,
}
# Order of writes: organisations first, so services and channels can point at them.
KINDS = ("organization", "channel", "service")
BATCH_SIZE = 500
LAST_SEEN_PRECISION = timedelta(days=1)
_UNSAFE_HTML = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|input|svg|math)\b|\son\w+\s*=|javascript:",
    re.IGNORECASE,
)
_HTML_FIELDS = ("description",)


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------
def sync_source(
    *,
    source: Source,
    trigger: str,
    full: bool = False,
    payload: PushPayload | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SyncRun:
    """Sync one source and return its finished `SyncRun`.

    Raises `SourceUnavailable` (carrying the failed run) when the feed cannot be fetched,
    so a task can retry; `SourceBusy` when a pushed payload finds another run going on.
    `transport` is for tests: a mock HTTP transport under the guarded client.
    """
    mode = SyncRun.Mode.FULL if full else SyncRun.Mode.INCREMENTAL
    run = _queued_run(source=source, trigger=trigger, mode=mode, payload=payload)
    lock = source_lock(source=source)
    if not lock.acquire():
        if payload is not None:
            raise SourceBusy("another run of this source is in progress", run=run)
        return _finish(run, SyncRun.Outcome.SKIPPED, "another run of this source is in progress")
    try:
        _fail_interrupted_runs(source=source, current=run)
        run.outcome = SyncRun.Outcome.RUNNING
        run.mode = mode
        run.started_at = timezone.now()
        run.save(update_fields=["outcome", "mode", "started_at"])
        return _run(
            source=source, run=run, full=full, payload=payload, transport=transport, lock=lock
        )
    finally:
        lock.release()


def _run(
    *,
    source: Source,
    run: SyncRun,
    full: bool,
    payload: PushPayload | None,
    transport: httpx.BaseTransport | None,
    lock: SourceLock,
) -> SyncRun:
    feed = Feed()
    try:
        importer, documents = _importer_for(
            source=source, run=run, full=full, payload=payload, transport=transport
        )
        try:
            feed.read(_items(importer, documents), keep_alive=lock.keep_alive)
        finally:
            importer.http.close()
        feed.complete = full and importer.is_complete
        plan = _plan(source=source, run=run, feed=feed)
        if plan.hold_reason:
            _save_issues(run, feed.issues)
            return _finish(run, plan.hold_outcome, plan.hold_reason, counts=feed.counts())
        lock.keep_alive(force=True)
        with transaction.atomic():
            counts = _apply(source=source, run=run, plan=plan)
            _save_issues(run, feed.issues)
            _advance_source(source=source, run=run, full=feed.complete, payload=payload)
            _finish(run, SyncRun.Outcome.SUCCEEDED, plan.summary(), counts=counts)
            if run.has_changes:
                transaction.on_commit(lambda: sync_completed(run=run))
        return run
    except FeedUnavailable as error:
        _save_issues(run, feed.issues)
        _finish(run, SyncRun.Outcome.FAILED, f"feed unavailable: {error}", counts=feed.counts())
        raise SourceUnavailable(str(error), run=run) from error
    except FeedMalformed as error:
        _save_issues(run, feed.issues)
        return _finish(
            run, SyncRun.Outcome.FAILED, f"feed cannot be read: {error}", counts=feed.counts()
        )
    except (FeedRejected, LockLost) as error:
        return _finish(run, SyncRun.Outcome.FAILED, str(error), counts=feed.counts())
    except Exception as error:
        _finish(run, SyncRun.Outcome.FAILED, f"internal error: {type(error).__name__}: {error}")
        raise


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
def _queued_run(*, source: Source, trigger: str, mode: str, payload: PushPayload | None) -> SyncRun:
    if payload is not None:
        run = SyncRun.objects.filter(payload=payload).first()
        if run is not None:
            return run
    return SyncRun.objects.create(source=source, trigger=trigger, mode=mode, payload=payload)


def _fail_interrupted_runs(*, source: Source, current: SyncRun) -> None:
    """We hold the lock, so any other "running" run of this source died with its worker."""
    SyncRun.objects.filter(source=source, outcome=SyncRun.Outcome.RUNNING).exclude(
        pk=current.pk
    ).update(
        outcome=SyncRun.Outcome.FAILED,
        finished_at=timezone.now(),
        message="interrupted: the worker stopped before the run finished; nothing was applied",
    )


def _finish(
    run: SyncRun, outcome: str, message: str, *, counts: dict[str, int] | None = None
) -> SyncRun:
    run.outcome = outcome
    run.message = message[:2000]
    run.finished_at = timezone.now()
    for name, value in (counts or {}).items():
        setattr(run, name, value)
    run.save()
    logger.info("sync run %s of %s: %s %s", run.pk, run.source.slug, outcome, message)
    return run


def _advance_source(
    *, source: Source, run: SyncRun, full: bool, payload: PushPayload | None
) -> None:
    changes: dict[str, Any] = {}
    if payload is None:
        changes["watermark"] = run.started_at.isoformat()
    else:
        PushPayload.objects.filter(pk=payload.pk).update(processed_at=timezone.now())
    if full:
        changes["last_full_sync_at"] = run.started_at
    if changes:
        Source.objects.filter(pk=source.pk).update(**changes)
        for name, value in changes.items():
            setattr(source, name, value)


# ---------------------------------------------------------------------------
# Reading the feed
# ---------------------------------------------------------------------------
def _importer_for(
    *,
    source: Source,
    run: SyncRun,
    full: bool,
    payload: PushPayload | None,
    transport: httpx.BaseTransport | None,
) -> tuple[Importer, Iterable[bytes] | None]:
    """The importer, plus the documents to parse when they are not fetched from the URL."""
    cls = importer_class(source.format)
    since = None if full or not source.watermark else source.watermark
    http = build_client(source=source, transport=transport)
    importer = cls(url=source.url, http=http, since=since, options=importer_options(source=source))
    if payload is not None:
        return importer, [bytes(payload.body)]
    if source.is_push_only:
        http.close()
        raise FeedRejected("push-only source: nothing to fetch; push a feed to its endpoint")
    if is_file_url(source.url):
        return importer, bundled_documents(source.url)
    return importer, None


def _items(
    importer: Importer, documents: Iterable[bytes] | None
) -> Iterator[ParsedRecord | RecordError]:
    if documents is None:
        yield from importer.records()
        return
    for document in documents:
        yield from importer.parse(document)


@dataclass
class Incoming:
    origin_id: str
    data: dict[str, Any]
    content_hash: str


@dataclass
class Feed:
    """Everything one run read, per record kind, before anything is written."""

    records: dict[str, dict[str, Incoming]] = field(default_factory=lambda: {k: {} for k in KINDS})
    flagged_withdrawn: dict[str, set[str]] = field(
        default_factory=lambda: {k: set() for k in KINDS}
    )
    # Ids the feed listed but we rejected: never withdrawn for being "missing".
    rejected_ids: set[str] = field(default_factory=set)
    issues: list[RecordIssue] = field(default_factory=list)
    rejected: int = 0
    complete: bool = False

    @property
    def valid_count(self) -> int:
        return sum(len(records) for records in self.records.values())

    def counts(self) -> dict[str, int]:
        return {"rejected": self.rejected}

    def issue(self, *, reason: str, severity: str, message: str, origin_id: str | None = None,
              kind: str | None = None, field_path: str | None = None) -> None:  # fmt: skip
        if len(self.issues) >= settings.PESA_SYNC_MAX_ISSUES:
            return
        self.issues.append(
            RecordIssue(
                origin_id=(origin_id or "")[:255],
                record_kind=kind or "",
                reason=reason,
                severity=severity,
                message=message,
                field_path=(field_path or "")[:255],
            )
        )

    def read(self, items: Iterable[ParsedRecord | RecordError], *, keep_alive: Any) -> None:
        for item in items:
            keep_alive()
            if isinstance(item, RecordError):
                self._error(item)
            else:
                self._record(item)

    def _error(self, error: RecordError) -> None:
        if error.severity == "error":
            self.rejected += 1
            if error.source_id:
                self.rejected_ids.add(str(error.source_id))
        if error.source_id is None and error.kind is None and error.severity == "error":
            reason = RecordIssue.Reason.FEED
        elif error.severity == "error":
            reason = RecordIssue.Reason.REJECTED
        else:
            reason = RecordIssue.Reason.REPAIRED
        self.issue(
            reason=reason,
            severity=error.severity,
            message=error.message,
            origin_id=error.source_id,
            kind=error.kind,
            field_path=error.field,
        )

    def _record(self, record: ParsedRecord) -> None:
        kind, origin_id = record.kind, str(record.source_id).replace("\x00", "").strip()
        if kind not in RECORD_MODELS or not origin_id or len(origin_id) > 255:
            self.rejected += 1
            self.issue(
                reason=RecordIssue.Reason.REJECTED,
                severity=RecordIssue.Severity.ERROR,
                message=f"unusable record kind {kind!r} or id (empty or longer than 255 characters)",
                origin_id=origin_id,
                kind=kind,
                field_path="id",
            )
            return
        for repair in record.repairs:
            self._error(repair)
        if record.withdrawn:
            self.records[kind].pop(origin_id, None)
            self.flagged_withdrawn[kind].add(origin_id)
            return
        data = sanitized(record.data, issue=self._issue_for(kind, origin_id))
        content_hash = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
        previous = self.records[kind].get(origin_id)
        if previous is not None and previous.content_hash != content_hash:
            self.issue(
                reason=RecordIssue.Reason.DUPLICATE,
                severity=RecordIssue.Severity.WARNING,
                message="the feed lists this id more than once with different content; the last one is kept",
                origin_id=origin_id,
                kind=kind,
            )
        self.flagged_withdrawn[kind].discard(origin_id)
        self.records[kind][origin_id] = Incoming(origin_id, data, content_hash)

    def _issue_for(self, kind: str, origin_id: str):
        def report(field_path: str, message: str) -> None:
            self.issue(
                reason=RecordIssue.Reason.SANITIZED,
                severity=RecordIssue.Severity.WARNING,
                message=message,
                origin_id=origin_id,
                kind=kind,
                field_path=field_path,
            )

        return report


def sanitized(data: dict[str, Any], *, issue: Any) -> dict[str, Any]:
    """Defensive repairs the importers should already have made: cheap checks first."""
    if b"\\u0000" in orjson.dumps(data):
        data = _without_nul(data)
        issue("", "NUL bytes removed")
    for name in _HTML_FIELDS:
        texts = data.get(name)
        if isinstance(texts, dict):
            for language, value in list(texts.items()):
                if isinstance(value, str) and _UNSAFE_HTML.search(value):
                    data = {**data, name: {**data[name], language: clean_html(value) or ""}}
                    issue(f"{name}.{language}", "unsafe HTML removed")
    for name in ("url",):
        if data.get(name) and not is_web_url(data[name]):
            issue(name, f"URL {str(data[name])[:80]!r} is not http(s); dropped")
            data = {**data, name: None}
    if isinstance(data.get("urls"), list):
        kept = [
            entry
            for entry in data["urls"]
            if isinstance(entry, dict) and is_web_url(entry.get("url"))
        ]
        if len(kept) != len(data["urls"]):
            issue("urls", "URLs that are not http(s) dropped")
            data = {**data, "urls": kept}
    return data


def is_web_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    lowered = value.strip().lower()
    return lowered.startswith(("http://", "https://")) and len(lowered) > len("https://")


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


# ---------------------------------------------------------------------------
# Planning: diff hashes in Python, decide, guard
# ---------------------------------------------------------------------------
@dataclass
class Plan:
    create: dict[str, list[Incoming]] = field(default_factory=lambda: {k: [] for k in KINDS})
    # (pk, incoming, was withdrawn)
    update: dict[str, list[tuple[int, Incoming, bool]]] = field(
        default_factory=lambda: {k: [] for k in KINDS}
    )
    withdraw: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})
    withdraw_reason: str = ""
    unchanged_ids: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    hold_reason: str = ""
    hold_outcome: str = SyncRun.Outcome.HELD
    complete: bool = False
    rejected: int = 0

    def summary(self) -> str:
        reactivated = sum(1 for rows in self.update.values() for _pk, _in, was in rows if was)
        parts = ["complete sync" if self.complete else "partial sync"]
        if reactivated:
            parts.append(f"{reactivated} reactivated")
        return "; ".join(parts)


def _plan(*, source: Source, run: SyncRun, feed: Feed) -> Plan:
    plan = Plan(complete=feed.complete, rejected=feed.rejected)
    nothing = not feed.valid_count and not any(feed.flagged_withdrawn.values())
    if nothing and feed.rejected:
        plan.hold_outcome = SyncRun.Outcome.FAILED
        plan.hold_reason = (
            f"no valid records: all {feed.rejected} records were rejected; nothing changed"
        )
        return plan
    if nothing and (feed.complete or run.trigger == SyncRun.Trigger.PUSH):
        plan.hold_reason = "the feed has no records; nothing changed"
        return plan
    if feed.complete and feed.valid_count < source.min_record_count:
        plan.hold_reason = (
            f"the feed has {feed.valid_count} records, fewer than the guard's minimum of "
            f"{source.min_record_count}; nothing changed"
        )
        return plan

    active_total = 0
    for kind in KINDS:
        model = RECORD_MODELS[kind]
        incoming = feed.records[kind]
        existing = {
            origin_id: (pk, content_hash, status)
            for pk, origin_id, content_hash, status in model.objects.filter(
                source=source
            ).values_list("pk", "origin_id", "content_hash", "status")
        }
        for origin_id, record in incoming.items():
            current = existing.get(origin_id)
            if current is None:
                plan.create[kind].append(record)
            elif current[2] == RecordStatus.WITHDRAWN:
                plan.update[kind].append((current[0], record, True))
            elif current[1] != record.content_hash:
                plan.update[kind].append((current[0], record, False))
            else:
                plan.unchanged_ids[kind].append(origin_id)
        live = {
            oid: pk
            for oid, (pk, _h, status) in existing.items()
            if status != RecordStatus.WITHDRAWN
        }
        active_total += len(live)
        gone = set(feed.flagged_withdrawn[kind])
        if feed.complete:
            gone |= set(live) - set(incoming) - feed.rejected_ids
        plan.withdraw[kind] = sorted(live[oid] for oid in gone if oid in live)
    plan.withdraw_reason = (
        "missing from a complete sync" if feed.complete else "marked withdrawn by the feed"
    )

    to_withdraw = sum(len(pks) for pks in plan.withdraw.values())
    if to_withdraw and active_total:
        share = to_withdraw / active_total
        if share * 100 > source.max_withdrawn_percent:
            plan.hold_reason = (
                f"would withdraw {to_withdraw} of {active_total} records ({share:.0%}), more than "
                f"the guard's {source.max_withdrawn_percent} %; nothing changed"
            )
    return plan


# ---------------------------------------------------------------------------
# Applying (inside one transaction)
# ---------------------------------------------------------------------------
def _apply(*, source: Source, run: SyncRun, plan: Plan) -> dict[str, int]:
    now = timezone.now()
    created = updated = withdrawn = 0
    organizations: dict[str, int] | None = None
    changes: dict[str, dict[str, list[int]]] = {}
    for kind in KINDS:
        model = RECORD_MODELS[kind]
        if kind != "organization" and organizations is None:
            organizations = dict(
                Organization.objects.filter(source=source).values_list("origin_id", "pk")
            )
        new_rows = [
            model(
                source=source,
                origin_id=record.origin_id,
                content_hash=record.content_hash,
                status=RecordStatus.ACTIVE,
                first_seen_at=now,
                last_seen_at=now,
                synced_at=now,
                **_fields(kind, record.data, organizations, run),
            )
            for record in plan.create[kind]
        ]
        model.objects.bulk_create(new_rows, batch_size=BATCH_SIZE)
        created += len(new_rows)

        changed_rows = []
        for pk, record, _was_withdrawn in plan.update[kind]:
            row = model(
                pk=pk,
                source=source,
                origin_id=record.origin_id,
                content_hash=record.content_hash,
                status=RecordStatus.ACTIVE,
                withdrawn_at=None,
                withdrawn_reason="",
                last_seen_at=now,
                synced_at=now,
                **_fields(kind, record.data, organizations, run),
            )
            changed_rows.append(row)
        if changed_rows:
            model.objects.bulk_update(changed_rows, _update_fields(model), batch_size=BATCH_SIZE)
        updated += len(changed_rows)

        if plan.withdraw[kind]:
            withdrawn += model.objects.filter(pk__in=plan.withdraw[kind]).update(
                status=RecordStatus.WITHDRAWN,
                withdrawn_at=now,
                withdrawn_reason=plan.withdraw_reason,
                synced_at=now,
            )
        changes[kind] = {
            "upserted": [row.pk for row in new_rows + changed_rows],
            "withdrawn": list(plan.withdraw[kind]),
        }
        if kind == "service":
            _replace_service_children(new_rows + changed_rows)

    if created or updated:
        _link_services_and_channels(source=source)
        _resolve_organizations(source=source)
    _mark_seen(source=source, plan=plan, now=now)
    if created or updated or withdrawn:
        records_changed.send(sender=Source, source=source, run=run, changes=changes)
    unchanged = sum(len(ids) for ids in plan.unchanged_ids.values())
    return {
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "withdrawn": withdrawn,
        "rejected": plan.rejected,
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _fields(
    kind: str, data: dict[str, Any], organizations: dict[str, int] | None, run: SyncRun
) -> dict[str, Any]:
    common = {
        "name": data.get("name") or {},
        "description": data.get("description") or {},
        "origin_modified": _text(data.get("modified"))[:40],
    }
    if kind == "organization":
        fields = {
            **common,
            "origin_url": "",
            "provider_kind": _text(data.get("provider_kind")),
            "business_id": _text(data.get("business_id")),
            "url": _text(data.get("url")),
            "email": _text(data.get("email")),
            "phone": _text(data.get("phone")),
            "municipality_code": _text(data.get("municipality_code")),
            "parent_origin_id": _text(data.get("parent_origin_id")),
        }
    elif kind == "service":
        org_origin = _text(data.get("organization_origin_id"))
        fields = {
            **common,
            "origin_url": _text(data.get("url")),
            "summary": data.get("summary") or {},
            "organization_origin_id": org_origin,
            "organization_id": (organizations or {}).get(org_origin),
            "languages": list(data.get("languages") or []),
            "target_groups": list(data.get("target_groups") or []),
            "life_events": list(data.get("life_events") or []),
            "service_classes": list(data.get("service_classes") or []),
            "nationwide": bool(data.get("nationwide")),
            "municipality_codes": list(data.get("municipality_codes") or []),
            "county_codes": list(data.get("county_codes") or []),
            "channel_origin_ids": [str(x) for x in data.get("channel_origin_ids") or []],
        }
    else:
        org_origin = _text(data.get("organization_origin_id"))
        addresses = list(data.get("addresses") or [])
        first_code = next(
            (a.get("municipality_code") for a in addresses if a.get("municipality_code")), ""
        )
        point = next(
            ((a["latitude"], a["longitude"]) for a in addresses
             if a.get("latitude") is not None and a.get("longitude") is not None),
            (None, None),
        )  # fmt: skip
        fields = {
            **common,
            "origin_url": _text(data.get("url")),
            "kind": _text(data.get("kind")),
            "organization_origin_id": org_origin,
            "organization_id": (organizations or {}).get(org_origin),
            "service_origin_ids": [str(x) for x in data.get("service_origin_ids") or []],
            "phones": list(data.get("phones") or []),
            "emails": list(data.get("emails") or []),
            "urls": list(data.get("urls") or []),
            "addresses": addresses,
            "opening_hours": list(data.get("opening_hours") or []),
            "languages": list(data.get("languages") or []),
            "accessibility": data.get("accessibility") or {},
            "municipality_code": _text(first_code),
            "latitude": point[0],
            "longitude": point[1],
        }
    return _fit(RECORD_MODELS[kind], fields)


def _fit(model: type[models.Model], fields: dict[str, Any]) -> dict[str, Any]:
    """Text longer than its column is cut, so one odd value cannot fail the whole run."""
    for name, value in fields.items():
        if isinstance(value, str):
            max_length = model._meta.get_field(name).max_length
            if max_length and len(value) > max_length:
                fields[name] = value[:max_length]
    return fields


def _update_fields(model: type[models.Model]) -> list[str]:
    skip = {"id", "source", "origin_id", "first_seen_at"}
    return [f.name for f in model._meta.concrete_fields if f.name not in skip and not f.primary_key]


def _replace_service_children(services: list[Service]) -> None:
    """Area and code rows of the services written in this run (only those)."""
    if not services:
        return
    pks = [service.pk for service in services]
    ServiceArea.objects.filter(service_id__in=pks).delete()
    ServiceCode.objects.filter(service_id__in=pks).delete()
    areas: list[ServiceArea] = []
    codes: list[ServiceCode] = []
    for service in services:
        seen_areas: set[tuple[str, str]] = set()
        if service.nationwide:
            seen_areas.add((ServiceArea.Kind.NATIONWIDE, ServiceArea.NATIONWIDE))
        seen_areas.update(
            (ServiceArea.Kind.MUNICIPALITY, str(c)[:3]) for c in service.municipality_codes
        )
        seen_areas.update((ServiceArea.Kind.COUNTY, str(c)[:3]) for c in service.county_codes)
        areas.extend(
            ServiceArea(service_id=service.pk, kind=k, code=c) for k, c in sorted(seen_areas)
        )
        seen_codes: set[tuple[str, str]] = set()
        for scheme, values in (
            (ServiceCode.Scheme.TARGET_GROUP, service.target_groups),
            (ServiceCode.Scheme.LIFE_EVENT, service.life_events),
            (ServiceCode.Scheme.SERVICE_CLASS, service.service_classes),
        ):
            seen_codes.update((scheme, str(v)[:20]) for v in values)
        codes.extend(
            ServiceCode(service_id=service.pk, scheme=s, code=c) for s, c in sorted(seen_codes)
        )
    ServiceArea.objects.bulk_create(areas, batch_size=BATCH_SIZE)
    ServiceCode.objects.bulk_create(codes, batch_size=BATCH_SIZE)


def _link_services_and_channels(*, source: Source) -> None:
    """Links from both sides of the feed, within the source; only differences are written."""
    services = dict(Service.objects.filter(source=source).values_list("origin_id", "pk"))
    channels = dict(Channel.objects.filter(source=source).values_list("origin_id", "pk"))
    wanted: set[tuple[int, int]] = set()
    for service_pk, channel_ids in Service.objects.filter(source=source).values_list(
        "pk", "channel_origin_ids"
    ):
        wanted.update((service_pk, channels[c]) for c in channel_ids or [] if c in channels)
    for channel_pk, service_ids in Channel.objects.filter(source=source).values_list(
        "pk", "service_origin_ids"
    ):
        wanted.update((services[s], channel_pk) for s in service_ids or [] if s in services)
    existing = {
        (service_pk, channel_pk): pk
        for pk, service_pk, channel_pk in ServiceChannel.objects.filter(
            service__source=source
        ).values_list("pk", "service_id", "channel_id")
    }
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    if stale:
        ServiceChannel.objects.filter(pk__in=stale).delete()
    ServiceChannel.objects.bulk_create(
        [ServiceChannel(service_id=s, channel_id=c) for s, c in sorted(wanted - set(existing))],
        batch_size=BATCH_SIZE,
    )


def _resolve_organizations(*, source: Source) -> None:
    """Services and channels written before their organisation arrived get it now."""
    organizations = dict(Organization.objects.filter(source=source).values_list("origin_id", "pk"))
    for model in (Service, Channel):
        pending = (
            model.objects.filter(source=source, organization__isnull=True)
            .exclude(organization_origin_id="")
            .values_list("pk", "organization_origin_id")
        )
        for pk, origin_id in pending:
            if origin_id in organizations:
                model.objects.filter(pk=pk).update(organization_id=organizations[origin_id])


def _mark_seen(*, source: Source, plan: Plan, now: Any) -> None:
    """`last_seen_at` to within a day, so re-running an unchanged feed writes nothing."""
    cutoff = now - LAST_SEEN_PRECISION
    for kind in KINDS:
        model = RECORD_MODELS[kind]
        stale = model.objects.filter(source=source, last_seen_at__lt=cutoff)
        if plan.complete:
            stale.exclude(status=RecordStatus.WITHDRAWN).update(last_seen_at=now)
            continue
        ids = plan.unchanged_ids[kind]
        for start in range(0, len(ids), 5000):
            stale.filter(origin_id__in=ids[start : start + 5000]).update(last_seen_at=now)


def _save_issues(run: SyncRun, issues: list[RecordIssue]) -> None:
    for issue in issues:
        issue.run = run
    RecordIssue.objects.bulk_create(issues, batch_size=1000)
