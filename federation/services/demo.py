"""Demo sources: bundled real samples (federation/demo_feeds, see its SOURCES.md), imported
through the real importers and the real sync engine. Safe to run again: the second
run of an unchanged sample writes nothing."""

from __future__ import annotations

from federation.models import Source, SyncRun
from federation.sync import sync_source

DEMO_SOURCES = [
    {
        "slug": "demo-ptv-samples",
        "name": "PTV samples (AuroraAI, PTV v11)",
        "owner": "Digital and Population Data Services Agency (DVV)",
        "kind": Source.Kind.NATIONAL,
        "format": "ptv",
        "url": "file:ptv-samples",
        "trust_tier": Source.TrustTier.OFFICIAL,
    },
    {
        "slug": "demo-hsds-example",
        "name": "Open Referral HSDS 3.0 example",
        "owner": "Open Referral",
        "kind": Source.Kind.NGO,
        "format": "hsds",
        "url": "file:hsds-example",
        "trust_tier": Source.TrustTier.COMMUNITY,
    },
    {
        "slug": "demo-oruk-bristol",
        "name": "Bristol service directory (ORUK, 2024-12 snapshot)",
        "owner": "Bristol City Council",
        "kind": Source.Kind.MUNICIPALITY,
        "format": "oruk-v1",
        "url": "file:oruk-bristol",
        "trust_tier": Source.TrustTier.VERIFIED,
    },
]


def load_demo_sources() -> list[SyncRun]:
    """Registers the demo sources (disabled schedules: they are files) and syncs each once."""
    runs = []
    for spec in DEMO_SOURCES:
        source, _created = Source.objects.update_or_create(
            slug=spec["slug"],
            defaults={**spec, "incremental_interval_minutes": 0, "full_sync_interval_hours": 0},
        )
        runs.append(sync_source(source=source, trigger=SyncRun.Trigger.CLI, full=True))
    return runs
