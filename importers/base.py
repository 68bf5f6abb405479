"""The importer contract: documents in, `ParsedRecord`s and `RecordError`s out.

An importer reads one feed format. It fetches documents through the HTTP client it
is given, parses and validates them, and yields one item per record. It never
writes: `federation.sync.sync_source` does that. A bad record becomes a
`RecordError` and the rest of the feed goes on.

`ParsedRecord.data` is the canonical, format-independent shape below, so the sync
engine never needs to know which format a record came from.

Skipping unchanged records: an importer may split a document into `RawItem`s first
(`raw_items`), each with a fingerprint of the raw item, and parse one only when asked
(`parse_raw`). The engine parses an item only when its fingerprint differs from the one it
stored for the record, so an unchanged feed costs a hash per item (and whatever splitting
the document costs: PTV reads only each item's head), not a parse. An importer that does
not split (the default) has every record parsed, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypedDict

import httpx
import orjson

if TYPE_CHECKING:
    from typing_extensions import Buffer

RecordKind = Literal["organization", "service", "channel"]

# Text in several languages: {"fi": "…", "sv": "…"}. Keys are ISO 639 codes as the
# feed gives them (fi, sv, en, se, smn, sms …); empty values are left out.
LocalizedText = dict[str, str]


class OpeningHours(TypedDict, total=False):
    kind: str  # "regular" | "exceptional" | "holiday" | "24/7"
    weekday: int | None  # 0 = Monday … 6 = Sunday; None for date-bound entries
    opens: str | None  # "08:00"
    closes: str | None  # "16:00"
    valid_from: str | None  # ISO date
    valid_to: str | None
    closed: bool
    note: LocalizedText


class Address(TypedDict, total=False):
    street: LocalizedText
    street_number: str
    postal_code: str
    post_office: LocalizedText
    municipality_code: str | None  # official 3-digit code, e.g. "091"
    latitude: float | None  # WGS84
    longitude: float | None  # WGS84


class OrganizationData(TypedDict, total=False):
    name: LocalizedText
    description: LocalizedText  # sanitized HTML
    provider_kind: str  # "public" | "ngo" | "parish" | "company" | "other"
    business_id: str | None  # Finnish Y-tunnus, when known
    url: str | None
    email: str | None
    phone: str | None
    municipality_code: str | None
    parent_origin_id: str | None
    modified: str | None  # ISO 8601 as the feed gives it
    source_ref: str | None  # the publisher's own id for the record (PTV sourceId), if any


class ServiceData(TypedDict, total=False):
    name: LocalizedText
    summary: LocalizedText  # plain text
    description: LocalizedText  # sanitized HTML
    organization_origin_id: str | None
    channel_origin_ids: list[str]
    languages: list[str]  # languages the service is offered in
    target_groups: list[str]  # PTV ptvkohderyhmat codes ("KR1.2")
    life_events: list[str]  # PTV life-event codes ("KE1")
    service_classes: list[str]  # PTV ptvserclass2 codes ("P3.1")
    nationwide: bool
    municipality_codes: list[str]  # 3-digit codes
    county_codes: list[str]  # wellbeing services county codes "01"–"21", "90", "91"
    url: str | None  # original URL of the record (provenance)
    modified: str | None
    source_ref: str | None


class ChannelData(TypedDict, total=False):
    kind: str  # "location" | "phone" | "web" | "email" | "electronic" | "form"
    name: LocalizedText
    description: LocalizedText
    organization_origin_id: str | None
    service_origin_ids: list[str]
    phones: list[dict[str, str]]  # {"number": "+358…", "label": "…", "charge": "…"}
    emails: list[str]
    urls: list[dict[str, str]]  # {"url": "https://…", "language": "fi"}
    addresses: list[Address]
    opening_hours: list[OpeningHours]
    languages: list[str]
    accessibility: LocalizedText
    url: str | None
    modified: str | None
    source_ref: str | None


@dataclass(frozen=True)
class ParsedRecord:
    """One valid record. `withdrawn` marks a feed's own deletion (archived, deleted)."""

    kind: RecordKind
    source_id: str
    data: dict[str, Any]
    withdrawn: bool = False
    # Repairs made while parsing (dropped bad URL, converted coordinates …): kept for
    # the owner to see, the record itself is still imported.
    repairs: tuple[RecordError, ...] = field(default=())


@dataclass(frozen=True)
class RecordError:
    """A record that could not be imported, or a repair made to one.

    `field` is a path into the source record ("addresses[0].latitude"), so the feed
    owner can find it. `severity` is "error" for a rejected record, "warning" for a repair.
    """

    source_id: str | None
    message: str
    field: str | None = None
    severity: Literal["error", "warning"] = "error"
    kind: RecordKind | None = None


@dataclass(frozen=True, slots=True)
class RawItem:
    """One feed item before parsing: what the sync engine needs to decide whether to parse it.

    `fingerprint` (from `Importer.fingerprint`) is equal for two items only when parsing them
    would give the same record. `item` is opaque to the engine: it goes back to `parse_raw`.
    """

    kind: RecordKind
    source_id: str
    fingerprint: int
    item: Any


class FeedUnavailable(Exception):
    """The feed could not be fetched at all (network, HTTP status, size or time limit)."""


class FeedMalformed(Exception):
    """The feed answered, but the document as a whole cannot be read (not JSON, wrong envelope)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Importer:
    """Reads one feed format. Parses and validates; never touches the database."""

    format: ClassVar[str]
    # Bump whenever parsing or mapping changes what an item becomes: every stored
    # fingerprint then stops matching, so the next run parses every record again.
    version: ClassVar[int] = 1
    # The salted hash state `fingerprint` copies, made on first use.
    _fingerprint_salt: Any = None

    def __init__(
        self,
        *,
        url: str,
        http: httpx.Client,
        since: str | None = None,
        options: Mapping[str, Any] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = url
        self.http = http
        # ISO 8601 watermark for incremental runs; None means a complete full sync.
        self.since = since
        # Format-specific settings from the source registry (e.g. PTV area scope).
        self.options = dict(options or {})
        # The clock that future timestamps are judged by: injected, so parsing stays pure.
        self.now = now or _utc_now

    @property
    def is_complete(self) -> bool:
        """True when the run saw the whole feed, so missing records may be withdrawn."""
        return self.since is None

    def documents(self) -> Iterator[bytes]:
        raise NotImplementedError

    def parse(self, document: bytes) -> Iterator[ParsedRecord | RecordError]:
        raise NotImplementedError

    def records(self) -> Iterator[ParsedRecord | RecordError]:
        for document in self.documents():
            yield from self.parse(document)

    def raw_items(self, document: bytes) -> Iterator[RawItem | ParsedRecord | RecordError]:
        """The document's items, as `RawItem`s where this format can fingerprint them.

        The default fingerprints nothing: every record comes parsed, as from `parse`. An item
        that is yielded parsed (or as an error) is always processed in full; a format yields
        a parsed record wherever parsing reports something (a repair, a merged duplicate).
        """
        yield from self.parse(document)

    def parse_raw(self, raw: RawItem) -> ParsedRecord | RecordError:
        """Parse one `RawItem` from `raw_items` (only formats that yield them implement it)."""
        raise NotImplementedError

    def fingerprint(self, item: Any) -> int:
        """The fingerprint of a decoded item: of its canonical JSON (sorted keys)."""
        return self.raw_fingerprint(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))

    def raw_fingerprint(self, raw: Buffer) -> int:
        """64 bits of SHA-256 over an item's bytes, salted with the format, `version` and URL,
        which is all that parsing depends on besides the item. The same bytes always give the
        same fingerprint; bytes that differ only in layout give another, which costs a parse,
        never a wrong skip."""
        salted = self._fingerprint_salt
        if salted is None:
            salt = f"{self.format}\n{self.version}\n{self.url}\n".encode()
            salted = self._fingerprint_salt = hashlib.sha256(salt)
        digest = salted.copy()
        digest.update(raw)
        return int.from_bytes(digest.digest()[:8], "big", signed=True)
