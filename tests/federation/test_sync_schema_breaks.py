"""A feed that breaks its schema: the broken records are record issues the owner sees and
nothing of them is stored; the rest of the feed is synced (HSDS 3.0 page, real sample)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from federation.models import RecordIssue, Service, SyncRun
from tests.factories.federation import SourceFactory

pytestmark = pytest.mark.django_db

SAMPLE = (
    Path(__file__).resolve().parent.parent
    / "fixtures/real/openreferral-hsds-3.0/examples/service_full.json"
)


def service(source_id: str, **changes: Any) -> dict[str, Any]:
    item = json.loads(SAMPLE.read_text())
    # Each service its own locations and organisation, so that nothing is shared.
    item["organization"] = {**item["organization"], "id": f"org-{source_id}"}
    item["service_at_locations"] = []
    return {**item, "id": source_id, **changes}


@pytest.fixture
def hsds_source():
    return SourceFactory(format="hsds", url="https://hsds.example.org/api")


def test_broken_records_are_issues_and_are_not_stored(feed, sync, hsds_source) -> None:
    good = orjson.dumps(service("good", description="Sana " * 200_000))
    twice = orjson.dumps(service("twice"))
    twice = b'{"name":"Another name",' + twice[1:]
    bogus = orjson.dumps(service("bogus", status="bogus-status"))
    feed.body = (
        b'{"total_items":3,"total_pages":1,"contents":[' + b",".join([good, twice, bogus]) + b"]}"
    )

    run = sync(hsds_source)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    stored = Service.objects.get(source=hsds_source)
    assert stored.origin_id == "good"
    assert len(stored.description["en"]) <= 50_000
    issues = {(i.origin_id, i.severity): i.message for i in RecordIssue.objects.filter(run=run)}
    assert '"name" appears more than once' in issues[("twice", "error")]
    assert "allowed values: active, inactive" in issues[("bogus", "error")]
    assert "more than the maximum 50,000" in issues[("good", "warning")]
