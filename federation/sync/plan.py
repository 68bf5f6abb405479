"""The plan of a run: what to create, update, reactivate and withdraw, decided before anything
is written, and the guards that hold a run that would change too much."""

from __future__ import annotations

from dataclasses import dataclass, field

from federation.models import RecordStatus, Source, SyncRun
from federation.sync import recency
from federation.sync.bulk import chunks
from federation.sync.reading import FeedRead
from federation.sync.records import KINDS, RECORD_MODELS
from federation.sync.stored_index import StoredIndex


@dataclass
class Plan:
    """Counts and ids decided before anything is written; the data itself stays spooled."""

    create: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    update: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    reactivate: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    # origin ids of live rows to withdraw
    withdraw: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    withdraw_reason: str = ""
    unchanged: int = 0
    hold_reason: str = ""
    hold_outcome: str = SyncRun.Outcome.HELD
    complete: bool = False
    rejected: int = 0
    # Records older than our stored copies: not applied (`recency`).
    stale: int = 0

    def summary(self) -> str:
        reactivated = sum(self.reactivate.values())
        parts = ["complete sync" if self.complete else "partial sync"]
        if reactivated:
            parts.append(f"{reactivated} reactivated")
        if self.stale:
            parts.append(f"{self.stale} stale, older than stored, not applied")
        return "; ".join(parts)

    def skip_stale(self, kind: str, current: int | None) -> None:
        self.stale += 1
        if current == StoredIndex.WITHDRAWN:
            self.reactivate[kind] -= 1


def plan_run(*, source: Source, run: SyncRun, feed_read: FeedRead) -> Plan:
    plan = Plan(complete=feed_read.complete, rejected=feed_read.rejected)
    nothing = not feed_read.valid_count and not any(feed_read.flagged_withdrawn.values())
    if nothing and feed_read.rejected:
        plan.hold_outcome = SyncRun.Outcome.FAILED
        plan.hold_reason = (
            f"no valid records: all {feed_read.rejected} records were rejected; nothing changed"
        )
        return plan
    if nothing and (feed_read.complete or run.trigger == SyncRun.Trigger.PUSH):
        plan.hold_reason = "the feed has no records; nothing changed"
        return plan
    if feed_read.complete and feed_read.valid_count < source.min_record_count:
        plan.hold_reason = (
            f"the feed has {feed_read.valid_count} records, fewer than the guard's minimum of "
            f"{source.min_record_count}; nothing changed"
        )
        return plan

    active_total = 0
    for kind in KINDS:
        existing, changed = feed_read.existing[kind], feed_read.changed[kind]
        if not existing:  # nothing stored (a first run): every spooled record is new
            plan.create[kind] = len(changed)
        for origin_id in changed.origin_ids() if existing else ():
            current = existing.get(origin_id)
            if current is None:
                plan.create[kind] += 1
            elif current == StoredIndex.WITHDRAWN:
                plan.reactivate[kind] += 1
            else:
                plan.update[kind] += 1
        flagged = feed_read.flagged_withdrawn[kind]
        gone: list[str] = []
        for origin_id, value in existing.items():
            if value == StoredIndex.WITHDRAWN:
                continue
            active_total += 1
            if value >= StoredIndex.SEEN:
                plan.unchanged += 1
            elif origin_id in flagged or (
                feed_read.complete
                and origin_id not in changed
                and origin_id not in feed_read.rejected_ids
            ):
                gone.append(origin_id)
        plan.withdraw[kind] = _fresh_withdrawals(
            source=source, kind=kind, origin_ids=gone, plan=plan, feed_read=feed_read
        )
    plan.withdraw_reason = (
        "missing from a complete sync" if feed_read.complete else "marked withdrawn by the feed"
    )

    to_withdraw = sum(len(ids) for ids in plan.withdraw.values())
    if to_withdraw and not feed_read.loaded_all:
        # An incremental run read only the rows its feed names: count the rest.
        active_total = sum(
            RECORD_MODELS[kind]
            .objects.filter(source=source)
            .exclude(status=RecordStatus.WITHDRAWN)
            .count()
            for kind in KINDS
        )
    if to_withdraw and active_total:
        share = to_withdraw / active_total
        if share * 100 > source.max_withdrawn_percent:
            plan.hold_reason = (
                f"would withdraw {to_withdraw} of {active_total} records ({share:.0%}), more than "
                f"the guard's {source.max_withdrawn_percent} %; nothing changed"
            )
    return plan


def _fresh_withdrawals(
    *, source: Source, kind: str, origin_ids: list[str], plan: Plan, feed_read: FeedRead
) -> list[str]:
    """`origin_ids` without the withdrawals the feed dates older than our stored copy."""
    flagged = feed_read.flagged_withdrawn[kind]
    dated = [origin_id for origin_id in origin_ids if flagged.get(origin_id)]
    stale: set[str] = set()
    for chunk in chunks(dated, 5000):
        rows = RECORD_MODELS[kind].objects.filter(source=source, origin_id__in=chunk)
        for origin_id, stored in rows.values_list("origin_id", "origin_modified"):
            message = recency.stale_message(flagged[origin_id], stored)
            if message:
                feed_read.stale(kind, origin_id, message)
                stale.add(origin_id)
    plan.stale += len(stale)
    return (
        [origin_id for origin_id in origin_ids if origin_id not in stale] if stale else origin_ids
    )
