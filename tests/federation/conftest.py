"""Feeds for the federation tests: a tiny importer over JSON lists, served through a
mock HTTP transport under the real guarded client (only the HTTP edge is faked)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from federation.models import Source, SyncRun
from federation.sync import sync_source
from importers.base import FeedMalformed, Importer, ParsedRecord, RawItem, RecordError
from importers.http import fetch
from tests.factories.federation import SourceFactory

TEST_FORMAT = "test-list"


class ListImporter(Importer):
    """A feed is a JSON list: {"id", "kind", "name" | "data", "withdrawn"} or {"id", "error"}."""

    format = TEST_FORMAT

    def documents(self) -> Iterator[bytes]:
        yield fetch(self.http, self.url)

    def parse(self, document: bytes) -> Iterator[ParsedRecord | RecordError]:
        try:
            items = orjson.loads(document)
        except orjson.JSONDecodeError as error:
            raise FeedMalformed(str(error)) from error
        for item in items:
            if "error" in item:
                yield RecordError(
                    source_id=item.get("id"),
                    message=item["error"],
                    field=item.get("field"),
                    kind=item.get("kind"),
                )
                continue
            data = item.get("data") or {"name": {"fi": item.get("name", item["id"])}}
            yield ParsedRecord(
                kind=item.get("kind", "service"),
                source_id=item["id"],
                data=data,
                withdrawn=item.get("withdrawn", False),
                repairs=tuple(
                    RecordError(source_id=item["id"], message=m, field="x", severity="warning")
                    for m in item.get("repairs", [])
                ),
            )


class FingerprintedListImporter(ListImporter):
    """The test list format, split into fingerprinted raw items first (`raw_items` /
    `parse_raw`). An item {"id", "invalid": "why"} is rejected when it is parsed."""

    def raw_items(self, document: bytes) -> Iterator[RawItem | ParsedRecord | RecordError]:
        for item in orjson.loads(document):
            yield RawItem(
                kind=item.get("kind", "service"),
                source_id=item["id"],
                fingerprint=self.fingerprint(item),
                item=item,
            )

    def parse_raw(self, raw: RawItem) -> ParsedRecord | RecordError:
        item: dict[str, Any] = raw.item
        if "invalid" in item:
            return RecordError(source_id=item["id"], message=item["invalid"], kind=raw.kind)
        (record,) = self.parse(orjson.dumps([item]))
        return record


class Feed:
    """What the fake feed server answers; `requests` keeps what it was asked."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.status = 200
        self.body: bytes | None = None
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status)
        return httpx.Response(
            200, content=self.body if self.body is not None else orjson.dumps(self.items)
        )

    def services(self, *ids: str, **names: str) -> None:
        self.items = [{"id": i, "name": names.get(i, f"Palvelu {i}")} for i in ids]


@pytest.fixture
def list_importer(monkeypatch: pytest.MonkeyPatch) -> type[ListImporter]:
    from importers import registry

    monkeypatch.setitem(registry.IMPORTERS, TEST_FORMAT, ListImporter)
    return ListImporter


@pytest.fixture
def feed(list_importer: type[ListImporter]) -> Feed:
    return Feed()


@pytest.fixture
def source(list_importer: type[ListImporter]) -> Source:
    return SourceFactory(format=TEST_FORMAT, url="https://feeds.example.org/services.json")


@pytest.fixture
def sync(feed: Feed):
    """sync(source, full=True) through the fake feed; returns the run (also when it failed)."""
    from federation.exceptions import SourceUnavailable

    def run(source: Source, *, full: bool = True, trigger: str = SyncRun.Trigger.CLI) -> SyncRun:
        try:
            return sync_source(source=source, trigger=trigger, full=full, transport=feed.transport)
        except SourceUnavailable as error:
            return error.run

    return run
