"""PTV (Palvelutietovaranto) Open API v11: organisations, services and service channels.

Fetching follows the API's own two steps: paged id lists (`pageNumber`,
`pageCount`, `itemList` of `{id, name}`), then full records through
`{Entity}/list?guids=` in batches of 100. Incremental runs pass `date=` (the
`since` watermark, UTC) and also read the `status=Archived` and
`status=Withdrawn` id lists, so deletions reach us as withdrawn records.

Options (`Source.options`):
- `municipalities`: ["091", "049"] limits the run to those municipalities
  (the `/area/Municipality/code/{code}` endpoints).
- `areas`: [{"type": "WellbeingServiceCounty", "code": "16"}] for other area types.
- `include_whole_country`: also take nationwide records in an area run (default False).
- `entities`: subset of ["Organization", "Service", "ServiceChannel"].
- `max_seconds`: deadline for the whole run (default 3600).

`parse()` reads any document the API or its users produce: a single full record,
a list of them, a dict keyed by GUID, or a paged `itemList` envelope, with or
without a UTF-8 BOM.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import msgspec
import orjson

from importers.base import (
    Address,
    FeedMalformed,
    Importer,
    OpeningHours,
    ParsedRecord,
    RawItem,
    RecordError,
    RecordKind,
)
from importers.cleaning import (
    Cleaner,
    Repairs,
    clean_email,
    clean_html,
    clean_phone,
    clean_text,
    clean_url,
    etrs_point,
    language_code,
    localized,
    missing_essentials,
)
from importers.http import fetch
from importers.validation import (
    checked,
    duplicate_key_error,
    duplicate_keys,
    load_json,
    not_allowed,
)

ENTITIES: dict[str, RecordKind] = {
    "Organization": "organization",
    "Service": "service",
    "ServiceChannel": "channel",
}
GUID_BATCH = 100
MAX_PAGES = 10_000
WITHDRAWN_STATUSES = frozenset({"archived", "withdrawn", "deleted", "removed"})
# The API's lists (v11). A value outside its list rejects the record; a missing one does not.
PUBLISHING_STATUSES = (
    "Published",
    "Draft",
    "Modified",
    "OldPublished",
    "Deleted",
    "Removed",
    "Archived",
    "Withdrawn",
)
CHANNEL_TYPES = ("ServiceLocation", "Phone", "WebPage", "EChannel", "PrintableForm")
ORGANIZATION_TYPES = (
    "State",
    "Municipality",
    "RegionalOrganization",
    "Region",
    "Organization",
    "Company",
    "SotePublic",
    "SotePrivate",
    "WellbeingServiceCounty",
    "TT1",
    "TT2",
)
SERVICE_TYPES = ("Service", "PermitOrObligation", "ProfessionalQualification")
AREA_TYPES = (
    "Nationwide",
    "NationwideExceptAlandIslands",
    "LimitedType",
    "WholeCountry",
    "WholeCountryExceptAlandIslands",
)
CHANNEL_KINDS = {
    "servicelocation": "location",
    "phone": "phone",
    "webpage": "web",
    "echannel": "electronic",
    "printableform": "form",
}
NATIONWIDE_AREA_TYPES = frozenset(
    {"nationwide", "nationwideexceptaland", "wholecountry", "wholecountryexceptalandislands"}
)
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PUBLIC_ORGANIZATION_TYPES = frozenset(
    {
        "state",
        "municipality",
        "regionalorganization",
        "region",
        "sotepublic",
        "wellbeingservicecounty",
    }
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})")
# Hint that documents() adds to the id-only items of an archived/withdrawn list.
KIND_HINT = "pesaKind"

_CODE_PATTERNS = {
    "target_groups": re.compile(r"(?:^|[/:])(KR\d+(?:\.\d+)*)$", re.IGNORECASE),
    "life_events": re.compile(r"(?:^|[/:])(KE\d+(?:\.\d+)*)$", re.IGNORECASE),
    "service_classes": re.compile(r"(?:^|[/:])(P\d+(?:\.\d+)*)$", re.IGNORECASE),
}


def ptv_date(since: str) -> str:
    """ISO 8601 watermark → the API's "yyyy-MM-ddTHH:mm:ss" in UTC."""
    moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def extract_code(entry: Mapping[str, Any], field: str) -> str | None:
    """The KR/KE/P code of a classification: `code` first, then the URIs."""
    pattern = _CODE_PATTERNS[field]
    code = entry.get("code")
    if isinstance(code, str) and code.strip():
        match = pattern.search(code.strip())
        if match:
            return match.group(1).upper()
    for key in ("newUri", "uri", "Key"):
        uri = entry.get(key)
        if isinstance(uri, str):
            match = pattern.search(uri.strip().rstrip("/"))
            if match:
                return match.group(1).upper()
    return None


def _codes(entries: Any, field: str) -> list[str]:
    codes: list[str] = []
    for entry in entries or []:
        if isinstance(entry, Mapping):
            code = extract_code(entry, field)
            if code and code not in codes:
                codes.append(code)
    return codes


def _typed_texts(
    items: Any,
    wanted: tuple[str, ...],
    *,
    clean: Cleaner = clean_text,
    repairs: Repairs,
    field: str,
) -> dict[str, str]:
    """{language: value} from PTV's `{language, value, type}` list, first wanted type wins."""
    result: dict[str, str] = {}
    for wanted_type in wanted:
        pairs = [
            (item.get("language"), item.get("value"))
            for item in items or []
            if isinstance(item, Mapping) and (item.get("type") or "").lower() == wanted_type.lower()
        ]
        for language, value in localized(pairs, clean=clean, repairs=repairs, field=field).items():
            result.setdefault(language, value)
    return result


def _language_items(
    items: Any, *, repairs: Repairs, field: str, key: str = "value"
) -> dict[str, str]:
    pairs = [
        (item.get("language"), item.get(key)) for item in items or [] if isinstance(item, Mapping)
    ]
    return localized(pairs, repairs=repairs, field=field)


def _load(document: bytes) -> tuple[Any, bool]:
    """(the decoded document, whether an object in it names a key twice)."""
    try:
        document.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FeedMalformed(f"not a PTV Open API document: not UTF-8 ({error})") from error
    try:
        return load_json(document.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as error:
        raise FeedMalformed(f"not a PTV Open API document: invalid JSON ({error})") from error


class _ItemHead(msgspec.Struct):
    """What `raw_items` decodes of an item before deciding whether to parse it: the id and
    the keys `record_kind` and `_looks_like_ptv` look at. The rest is skipped, not decoded."""

    id: Any = msgspec.UNSET
    type: Any = msgspec.UNSET
    kind_hint: Any = msgspec.field(default=msgspec.UNSET, name=KIND_HINT)
    # Present or not is all that counts: kept raw (an empty Raw when the key is absent).
    serviceNames: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    serviceChannelNames: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    organizationNames: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    serviceChannelType: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    organizationType: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    publishingStatus: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)

    def as_mapping(self) -> dict[str, Any]:
        """The decoded keys as `record_kind` and `_looks_like_ptv` see an item."""
        present: dict[str, Any] = {key: None for key in _PRESENCE_KEYS if len(getattr(self, key))}
        if self.type is not msgspec.UNSET:
            present["type"] = self.type
        if self.kind_hint is not msgspec.UNSET:
            present[KIND_HINT] = self.kind_hint
        return present


_PRESENCE_KEYS = (
    "serviceNames",
    "serviceChannelNames",
    "organizationNames",
    "serviceChannelType",
    "organizationType",
    "publishingStatus",
)
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_ITEM_HEAD = msgspec.json.Decoder(_ItemHead)


def _raw_list(document: bytes) -> list[tuple[msgspec.Raw, _ItemHead]] | None:
    """Each item of a plain JSON list of PTV records, raw, with its head; None for any other
    document (another shape, a BOM, bad JSON, an item that is not an object, an id twice, no
    item that looks like PTV), which the general path reads and reports."""
    try:
        raws = _RAW_LIST.decode(document)
        heads = [(raw, _ITEM_HEAD.decode(raw)) for raw in raws]
    except msgspec.DecodeError:
        return None
    ids = [head.id for _, head in heads if isinstance(head.id, str) and head.id]
    if len(set(ids)) != len(ids):
        return None
    if heads and not any(_looks_like_ptv(head.as_mapping()) for _, head in heads):
        return None
    return heads


def _decoded(raw: msgspec.Raw, *, source_id: str | None, kind: RecordKind | None) -> Any:
    """A raw item decoded, or why it cannot be: its bytes are checked only now (msgspec
    splits a list without validating the UTF-8 inside strings, nor keys named twice)."""
    try:
        item, twice = load_json(bytes(raw))
    except orjson.JSONDecodeError as error:
        return RecordError(
            source_id=source_id, message=f"item is not valid JSON in UTF-8 ({error})", kind=kind
        )
    if twice:
        return duplicate_key_error(item, source_id=source_id, kind=kind)
    return item


def _looks_like_ptv(item: Mapping[str, Any]) -> bool:
    return any(
        key in item
        for key in (
            "serviceNames",
            "serviceChannelNames",
            "organizationNames",
            "serviceChannelType",
            "organizationType",
            KIND_HINT,
            "publishingStatus",
        )
    )


def split_items(payload: Any) -> list[Any]:
    """The records of any accepted document shape (see module docstring)."""
    if isinstance(payload, list):
        items = payload
    elif isinstance(payload, dict) and "itemList" in payload:
        items = payload.get("itemList") or []
    elif isinstance(payload, dict) and "id" in payload:
        items = [payload]
    elif (
        isinstance(payload, dict)
        and payload
        and all(
            isinstance(value, dict) and value.get("id") == key for key, value in payload.items()
        )
    ):
        items = list(payload.values())
    else:
        raise FeedMalformed(
            "not a PTV Open API document: expected a record, a list of records, "
            "a dict keyed by GUID or a paged itemList envelope"
        )
    if not isinstance(items, list):
        raise FeedMalformed("not a PTV Open API document: itemList is not a list")
    dicts = [item for item in items if isinstance(item, dict)]
    if dicts and not any(_looks_like_ptv(item) for item in dicts):
        sample = ", ".join(sorted(dicts[0])[:6])
        hint = (
            " (PascalCase keys such as 'Id' and 'Name' look like a PTV data-import file, "
            "e.g. general descriptions)"
            if "Id" in dicts[0]
            else ""
        )
        raise FeedMalformed(
            "not a PTV Open API document: the items have no serviceNames, "
            f"serviceChannelNames or organizationNames (keys: {sample}){hint}"
        )
    return items


def record_kind(item: Mapping[str, Any]) -> RecordKind | None:
    hint = item.get(KIND_HINT)
    if hint in ("organization", "service", "channel"):
        return hint
    if "serviceChannelType" in item or "serviceChannelNames" in item:
        return "channel"
    if "organizationNames" in item or "organizationType" in item:
        return "organization"
    if "serviceNames" in item or item.get("type") in (
        "Service",
        "PermitOrObligation",
        "ProfessionalQualification",
    ):
        return "service"
    return None


def _merge_duplicates(items: list[Any]) -> tuple[list[Any], dict[str, int]]:
    """One item per id; later copies only fill fields the first copy lacks (e.g. sourceId).
    The first copy is completed in place: the items are the caller's own fresh JSON."""
    merged: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    order: list[Any] = []
    for item in items:
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str) or not item_id:
            order.append(item)
            continue
        if item_id in merged:
            counts[item_id] += 1
            kept = merged[item_id]
            for key, value in item.items():
                if kept.get(key) in (None, "", []) and value not in (None, "", []):
                    kept[key] = value
            continue
        merged[item_id] = item
        counts[item_id] = 1
        order.append(item)
    return order, counts


_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def _seen_key(id_: str) -> int | str:
    """An id as a member of a seen-set: a lowercase GUID (as PTV's) as its 128-bit number,
    half the memory of the string; anything else as itself. Exact: no two ids share a key."""
    return int(id_.replace("-", ""), 16) if _GUID.match(id_) else id_


class PtvImporter(Importer):
    """PTV Open API v11: full and incremental (`date=`) runs, optional area scope."""

    format = "ptv"
    # 2: keys named twice and values outside the API's lists are rejected, long texts cut,
    # future timestamps clamped.
    version = 2

    # -- fetching ---------------------------------------------------------

    @property
    def api_base(self) -> str:
        return self.url.rstrip("/")

    def _deadline(self) -> float:
        return time.monotonic() + float(self.options.get("max_seconds", 3600))

    def _scopes(self) -> list[tuple[str, str]]:
        scopes = [("Municipality", str(code)) for code in self.options.get("municipalities", [])]
        for area in self.options.get("areas", []):
            scopes.append((str(area["type"]), str(area["code"])))
        return scopes

    def _get_json(self, url: str, params: Mapping[str, Any], deadline: float) -> Any:
        return _load(fetch(self.http, url, params=params, deadline=deadline))[0]

    def _id_pages(
        self, url: str, params: Mapping[str, Any], deadline: float
    ) -> Iterator[list[str]]:
        """The ids of a paged guid list, a page at a time, in order."""
        page = 1
        while page <= MAX_PAGES:
            payload = self._get_json(url, {**params, "page": page}, deadline)
            if not isinstance(payload, dict) or "itemList" not in payload:
                raise FeedMalformed(f"not a PTV id list page: {url}")
            yield [
                item["id"]
                for item in payload.get("itemList") or []
                if isinstance(item, dict) and isinstance(item.get("id"), str)
            ]
            page_count = payload.get("pageCount") or 0
            if not isinstance(page_count, int) or page >= page_count:
                break
            page += 1

    def _list_ids(self, url: str, params: Mapping[str, Any], deadline: float) -> list[str]:
        """Every id of a paged guid list, in order, without repeats."""
        return list(dict.fromkeys(i for ids in self._id_pages(url, params, deadline) for i in ids))

    def documents(self) -> Iterator[bytes]:
        deadline = self._deadline()
        entities = self.options.get("entities") or list(ENTITIES)
        date = {"date": ptv_date(self.since)} if self.since else {}
        scopes = self._scopes()
        for entity in entities:
            if scopes:
                include_whole_country = str(
                    bool(self.options.get("include_whole_country", False))
                ).lower()
                pages = (
                    ids
                    for area, code in scopes
                    for ids in self._id_pages(
                        f"{self.api_base}/{entity}/area/{area}/code/{code}",
                        {**date, "includeWholeCountry": include_whole_country},
                        deadline,
                    )
                )
            else:
                pages = self._id_pages(f"{self.api_base}/{entity}", date, deadline)
            # Each id page's records are fetched as the page comes, GUID_BATCH at a time:
            # a national list (260k channels) is never held whole, only the ids already seen,
            # compactly (`_seen_key`), so that an id repeated across pages is fetched once.
            seen: set[int | str] = set()
            batch: list[str] = []
            for ids in pages:
                for id_ in ids:
                    key = _seen_key(id_)
                    if key in seen:
                        continue
                    seen.add(key)
                    batch.append(id_)
                    if len(batch) == GUID_BATCH:
                        yield self._records_of(entity, batch, deadline)
                        batch = []
            if batch:
                yield self._records_of(entity, batch, deadline)
            del seen
            if self.since:
                yield from self._withdrawn_documents(entity, date, deadline)

    def _records_of(self, entity: str, ids: list[str], deadline: float) -> bytes:
        # The query is written here, not passed as params: httpx encodes a 3.7 KB params
        # value char by char (0.4 ms a request, 2 s of a 200k re-sync). GUIDs need no
        # quoting, and `quote` returns safe text as it is.
        guids = quote(",".join(ids), safe=",")
        return fetch(self.http, f"{self.api_base}/{entity}/list?guids={guids}", deadline=deadline)

    def _withdrawn_documents(
        self, entity: str, date: Mapping[str, str], deadline: float
    ) -> Iterator[bytes]:
        """Archived and withdrawn ids since the watermark, as id-only records."""
        kind = ENTITIES[entity]
        for status in ("Archived", "Withdrawn"):
            ids = self._list_ids(f"{self.api_base}/{entity}", {**date, "status": status}, deadline)
            if ids:
                yield orjson.dumps(
                    [{"id": id_, "publishingStatus": status, KIND_HINT: kind} for id_ in ids]
                )

    # -- parsing ----------------------------------------------------------

    def parse(self, document: bytes) -> Iterator[ParsedRecord | RecordError]:
        for item in self._split(document):
            yield (
                item if isinstance(item, RecordError) else self.parse_item(item[0], copies=item[1])
            )

    def raw_items(self, document: bytes) -> Iterator[RawItem | ParsedRecord | RecordError]:
        """Every plain item unparsed, with its fingerprint (the whole item, connections
        included: PTV does not move `modified` when only a connection changes). Merged
        duplicates and items without a kind or id are parsed at once, so they are reported.

        A plain list of records (what `{Entity}/list?guids=` returns) is not decoded at all:
        each item's fingerprint is of its raw bytes, and only its head is read. Other shapes
        are decoded whole and fingerprinted as canonical JSON (`Importer.fingerprint`)."""
        heads = _raw_list(document)
        if heads is not None:
            for raw, head in heads:
                kind = record_kind(head.as_mapping())
                raw_id = head.id
                if kind is None or not isinstance(raw_id, str) or not raw_id.strip():
                    decoded = _decoded(raw, source_id=None, kind=None)
                    yield decoded if isinstance(decoded, RecordError) else self.parse_item(decoded)
                    continue
                yield RawItem(
                    kind=kind,
                    source_id=raw_id.strip(),
                    fingerprint=self.raw_fingerprint(raw),
                    item=raw,
                )
            return
        for item in self._split(document):
            if isinstance(item, RecordError):
                yield item
                continue
            record, copies = item
            kind = record_kind(record)
            raw_id = record.get("id")
            if copies > 1 or kind is None or not isinstance(raw_id, str) or not raw_id.strip():
                yield self.parse_item(record, copies=copies)
                continue
            yield RawItem(
                kind=kind,
                source_id=raw_id.strip(),
                fingerprint=self.fingerprint(record),
                item=record,
            )

    def parse_raw(self, raw: RawItem) -> ParsedRecord | RecordError:
        item = raw.item
        if isinstance(item, msgspec.Raw):
            item = _decoded(item, source_id=raw.source_id, kind=raw.kind)
            if isinstance(item, RecordError):
                return item
        return self.parse_item(item)

    def _split(self, document: bytes) -> Iterator[tuple[dict[str, Any], int] | RecordError]:
        """(item, copies in the page) for each item of a document, or why it is not one."""
        payload, twice = _load(document)
        items = split_items(payload)
        if twice:
            if isinstance(payload, dict) and not (items and items[0] is payload):
                envelope = [path for path in duplicate_keys(payload) if "." not in path]
                if envelope:
                    raise FeedMalformed(
                        f"not a PTV Open API document: the key {envelope[0]!r} appears more "
                        "than once in the document's envelope"
                    )
            kept = []
            for item in items:
                raw_id = item.get("id") if isinstance(item, dict) else None
                problem = duplicate_key_error(
                    item,
                    source_id=raw_id.strip() if isinstance(raw_id, str) else None,
                    kind=record_kind(item) if isinstance(item, dict) else None,
                )
                if problem is None:
                    kept.append(item)
                else:
                    yield problem
            items = kept
        items, counts = _merge_duplicates(items)
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                yield RecordError(
                    source_id=None, message="item is not a JSON object", field=f"itemList[{index}]"
                )
                continue
            yield item, counts.get(item.get("id"), 1)

    def parse_item(self, item: Mapping[str, Any], *, copies: int = 1) -> ParsedRecord | RecordError:
        """One full PTV record → ParsedRecord, or the reason it cannot be imported."""
        raw_id = item.get("id")
        source_id = raw_id.strip() if isinstance(raw_id, str) else None
        kind = record_kind(item)
        if kind is None:
            return RecordError(
                source_id=source_id,
                message="not a PTV service, service channel or organisation",
            )
        problem = self._unknown_value(item, kind, source_id)
        if problem is not None:
            return problem
        repairs = Repairs(source_id=source_id, kind=kind)
        if copies > 1:
            repairs.warn("id", f"the same item appeared {copies} times in one page; copies merged")
        status = str(item.get("publishingStatus") or "").lower()
        if status in WITHDRAWN_STATUSES:
            if not source_id:
                return RecordError(source_id=None, message="missing id", field="id", kind=kind)
            # Its timestamp, when the item has one: an older withdrawal does not win.
            modified = item.get("modified")
            return ParsedRecord(
                kind=kind,
                source_id=source_id,
                data={"modified": modified} if isinstance(modified, str) else {},
                withdrawn=True,
                repairs=repairs.as_tuple(),
            )
        if kind == "service":
            data: dict[str, Any] = self._service(item, repairs)
        elif kind == "channel":
            data = self._channel(item, repairs)
        else:
            data = self._organization(item, repairs)
        problem = missing_essentials(source_id, data.get("name") or {}, kind=kind)
        if problem or source_id is None:
            return problem or repairs.error("id", "missing id")
        record = ParsedRecord(kind=kind, source_id=source_id, data=data, repairs=repairs.as_tuple())
        return checked(record, now=self.now())

    def _unknown_value(
        self, item: Mapping[str, Any], kind: RecordKind, source_id: str | None
    ) -> RecordError | None:
        """The rejection for a value outside the API's list, in the first field that has one."""
        fields: list[tuple[str, tuple[str, ...]]] = [("publishingStatus", PUBLISHING_STATUSES)]
        if kind == "channel":
            fields += [("serviceChannelType", CHANNEL_TYPES), ("areaType", AREA_TYPES)]
        elif kind == "organization":
            fields.append(("organizationType", ORGANIZATION_TYPES))
        else:
            fields += [("type", SERVICE_TYPES), ("areaType", AREA_TYPES)]
        for field, allowed in fields:
            value = item.get(field)
            if value in (None, ""):
                continue
            problem = not_allowed(value, allowed, field=field, source_id=source_id, kind=kind)
            if problem is not None:
                return problem
        return None

    def _provenance(self, entity: str, source_id: Any) -> str | None:
        if not self.url or not isinstance(source_id, str):
            return None
        return f"{self.api_base}/{entity}/{source_id}"

    def _service(self, item: Mapping[str, Any], repairs: Repairs) -> dict[str, Any]:
        names = item.get("serviceNames")
        descriptions = item.get("serviceDescriptions")
        organizations = [o for o in item.get("organizations") or [] if isinstance(o, Mapping)]
        responsible = next(
            (o for o in organizations if o.get("roleType") == "Responsible"),
            organizations[0] if organizations else None,
        )
        organization_id = None
        if responsible is not None:
            inner = responsible.get("organization")
            organization_id = inner.get("id") if isinstance(inner, Mapping) else None
        channel_ids: list[str] = []
        for link in item.get("serviceChannels") or []:
            channel = link.get("serviceChannel") if isinstance(link, Mapping) else None
            if (
                isinstance(channel, Mapping)
                and isinstance(channel.get("id"), str)
                and channel["id"] not in channel_ids
            ):
                channel_ids.append(channel["id"])
        nationwide, municipalities, counties = _areas(item)
        return {
            "name": _typed_texts(names, ("Name",), repairs=repairs, field="serviceNames")
            or _typed_texts(names, ("AlternativeName",), repairs=repairs, field="serviceNames"),
            "summary": _typed_texts(
                descriptions,
                ("Summary", "ShortDescription"),
                repairs=repairs,
                field="serviceDescriptions",
            ),
            "description": _typed_texts(
                descriptions,
                ("Description",),
                clean=clean_html,
                repairs=repairs,
                field="serviceDescriptions",
            ),
            "organization_origin_id": organization_id,
            "channel_origin_ids": channel_ids,
            "languages": _languages(item.get("languages")),
            "target_groups": _codes(item.get("targetGroups"), "target_groups"),
            "life_events": _codes(item.get("lifeEvents"), "life_events"),
            "service_classes": _codes(item.get("serviceClasses"), "service_classes"),
            "nationwide": nationwide,
            "municipality_codes": municipalities,
            "county_codes": counties,
            "url": self._provenance("Service", item.get("id")),
            "modified": item.get("modified"),
            "source_ref": clean_text(item.get("sourceId")),
        }

    def _channel(self, item: Mapping[str, Any], repairs: Repairs) -> dict[str, Any]:
        descriptions = item.get("serviceChannelDescriptions")
        description = _typed_texts(
            descriptions,
            ("Description",),
            clean=clean_html,
            repairs=repairs,
            field="serviceChannelDescriptions",
        ) or _typed_texts(
            descriptions,
            ("Summary", "ShortDescription"),
            clean=clean_html,
            repairs=repairs,
            field="serviceChannelDescriptions",
        )
        service_ids: list[str] = []
        for link in item.get("services") or []:
            service = link.get("service") if isinstance(link, Mapping) else None
            if (
                isinstance(service, Mapping)
                and isinstance(service.get("id"), str)
                and service["id"] not in service_ids
            ):
                service_ids.append(service["id"])
        return {
            "kind": CHANNEL_KINDS.get(
                str(item.get("serviceChannelType") or "").lower(), "location"
            ),
            "name": _typed_texts(
                item.get("serviceChannelNames"),
                ("Name",),
                repairs=repairs,
                field="serviceChannelNames",
            )
            or _typed_texts(
                item.get("serviceChannelNames"),
                ("AlternativeName",),
                repairs=repairs,
                field="serviceChannelNames",
            ),
            "description": description,
            "organization_origin_id": item.get("organizationId"),
            "service_origin_ids": service_ids,
            "phones": _phones(item.get("phoneNumbers")),
            "emails": _emails(item, repairs),
            "urls": _urls(item, repairs),
            "addresses": _addresses(item.get("addresses"), repairs),
            "opening_hours": _opening_hours(item.get("serviceHours"), repairs),
            "languages": _languages(item.get("languages")),
            "accessibility": _accessibility(item.get("addresses"), repairs),
            "url": self._provenance("ServiceChannel", item.get("id")),
            "modified": item.get("modified"),
            "source_ref": clean_text(item.get("sourceId")),
        }

    def _organization(self, item: Mapping[str, Any], repairs: Repairs) -> dict[str, Any]:
        names = item.get("organizationNames")
        descriptions = item.get("organizationDescriptions")
        org_type = str(item.get("organizationType") or "").lower()
        if org_type in PUBLIC_ORGANIZATION_TYPES:
            provider_kind = "public"
        elif org_type == "organization":
            provider_kind = "ngo"
        elif org_type in ("company", "soteprivate"):
            provider_kind = "company"
        else:
            provider_kind = "other"
        web = _urls(item, repairs)
        emails = _emails(item, repairs)
        phones = _phones(item.get("phoneNumbers"))
        municipality = item.get("municipality")
        parent = item.get("parentOrganizationId") or item.get("parentOrganization")
        if isinstance(parent, Mapping):
            parent = parent.get("id")
        return {
            "name": _typed_texts(names, ("Name",), repairs=repairs, field="organizationNames")
            or _typed_texts(
                names, ("AlternativeName",), repairs=repairs, field="organizationNames"
            ),
            "description": _typed_texts(
                descriptions,
                ("Description", "Summary"),
                clean=clean_html,
                repairs=repairs,
                field="organizationDescriptions",
            ),
            "provider_kind": provider_kind,
            "business_id": clean_text(item.get("businessCode")),
            "url": web[0]["url"] if web else None,
            "email": emails[0] if emails else None,
            "phone": phones[0]["number"] if phones else None,
            "municipality_code": municipality.get("code")
            if isinstance(municipality, Mapping)
            else None,
            "parent_origin_id": parent if isinstance(parent, str) else None,
            "modified": item.get("modified"),
            "source_ref": clean_text(item.get("sourceId")),
        }


def _languages(values: Any) -> list[str]:
    languages: list[str] = []
    for value in values or []:
        code = language_code(value)
        if code and code not in languages:
            languages.append(code)
    return languages


def _areas(item: Mapping[str, Any]) -> tuple[bool, list[str], list[str]]:
    """(nationwide, municipality codes, wellbeing services county codes)."""
    area_type = str(item.get("areaType") or "").lower()
    nationwide = area_type in NATIONWIDE_AREA_TYPES
    municipalities: list[str] = []
    counties: list[str] = []
    for area in item.get("areas") or []:
        if not isinstance(area, Mapping):
            continue
        kind = str(area.get("type") or "").lower()
        code = area.get("code")
        if kind == "municipality" and isinstance(code, str) and code:
            municipalities.append(code.zfill(3))
        if kind.startswith("wellbeingservicecount") and isinstance(code, str) and code:
            counties.append(code.zfill(2))
        for municipality in area.get("municipalities") or []:
            if isinstance(municipality, Mapping) and isinstance(municipality.get("code"), str):
                municipalities.append(municipality["code"].zfill(3))
    return nationwide, list(dict.fromkeys(municipalities)), list(dict.fromkeys(counties))


def _phones(values: Any) -> list[dict[str, str]]:
    phones: list[dict[str, str]] = []
    for value in values or []:
        if not isinstance(value, Mapping):
            continue
        number = clean_phone(value.get("number"))
        if not number:
            continue
        prefix = clean_phone(value.get("prefixNumber")) or ""
        if prefix and not number.startswith("+"):
            number = (
                f"{prefix}{number.lstrip('0')}"
                if not value.get("isFinnishServiceNumber")
                else number
            )
        phone = {"number": number}
        for key, target in (
            ("additionalInformation", "label"),
            ("serviceChargeType", "charge"),
            ("chargeDescription", "charge_description"),
            ("language", "language"),
            ("type", "type"),
        ):
            text = clean_text(value.get(key))
            if text:
                phone[target] = text
        phones.append(phone)
    return phones


def _emails(item: Mapping[str, Any], repairs: Repairs) -> list[str]:
    emails: list[str] = []
    for key in ("emails", "supportEmails"):
        for index, value in enumerate(item.get(key) or []):
            raw = value.get("value") if isinstance(value, Mapping) else value
            email = clean_email(raw, repairs=repairs, field=f"{key}[{index}]")
            if email and email not in emails:
                emails.append(email)
    return emails


def _urls(item: Mapping[str, Any], repairs: Repairs) -> list[dict[str, str]]:
    urls: list[dict[str, str]] = []
    seen: set[str] = set()
    for key in ("webPages", "channelUrls", "urls", "webPage"):
        for index, value in enumerate(item.get(key) or []):
            if not isinstance(value, Mapping):
                continue
            raw = value.get("url") or value.get("value")
            url = clean_url(raw, repairs=repairs, field=f"{key}[{index}]")
            if not url or url in seen:
                continue
            seen.add(url)
            entry = {"url": url}
            language = language_code(value.get("language"))
            if language:
                entry["language"] = language
            label = clean_text(value.get("value")) if value.get("url") else None
            if label:
                entry["label"] = label
            urls.append(entry)
    return urls


def _addresses(values: Any, repairs: Repairs) -> list[Address]:
    addresses: list[Address] = []
    for index, value in enumerate(values or []):
        if not isinstance(value, Mapping):
            continue
        if str(value.get("type") or "").lower() not in ("location", "visiting"):
            continue
        street = value.get("streetAddress")
        if not isinstance(street, Mapping):
            continue
        field = f"addresses[{index}].streetAddress"
        point = etrs_point(
            street.get("latitude"), street.get("longitude"), repairs=repairs, field=field
        )
        municipality = street.get("municipality")
        address: Address = {
            "street": _language_items(
                street.get("street"), repairs=repairs, field=f"{field}.street"
            ),
            "street_number": clean_text(street.get("streetNumber")) or "",
            "postal_code": clean_text(street.get("postalCode")) or "",
            "post_office": _language_items(
                street.get("postOffice"), repairs=repairs, field=f"{field}.postOffice"
            ),
            "municipality_code": municipality.get("code")
            if isinstance(municipality, Mapping)
            else None,
            "latitude": point[0] if point else None,
            "longitude": point[1] if point else None,
        }
        addresses.append(address)
    return addresses


def _time(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    match = _TIME.match(value.strip())
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else None


def _date(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and len(value) >= 10 else None


def _weekday(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(value.strip().lower())
    return None


def _opening_hours(values: Any, repairs: Repairs) -> list[OpeningHours]:
    hours: list[OpeningHours] = []
    for index, value in enumerate(values or []):
        if not isinstance(value, Mapping):
            continue
        hour_type = str(value.get("serviceHourType") or "").lower()
        kind = "regular" if hour_type in ("daysoftheweek", "standard") else "exceptional"
        note = _language_items(
            value.get("additionalInformation"),
            repairs=repairs,
            field=f"serviceHours[{index}].additionalInformation",
        )
        common: OpeningHours = {
            "valid_from": _date(value.get("validFrom")),
            "valid_to": _date(value.get("validTo")),
            "closed": bool(value.get("isClosed")),
            "note": note,
        }
        if value.get("isAlwaysOpen"):
            hours.append({**common, "kind": "24/7", "weekday": None, "opens": None, "closes": None})
            continue
        openings = [o for o in value.get("openingHour") or [] if isinstance(o, Mapping)]
        if not openings:
            hours.append({**common, "kind": kind, "weekday": None, "opens": None, "closes": None})
            continue
        for opening in openings:
            first = _weekday(opening.get("dayFrom"))
            last = _weekday(opening.get("dayTo"))
            days: list[int | None] = [first]
            if first is not None and last is not None and last != first:
                days = [(first + step) % 7 for step in range(((last - first) % 7) + 1)]
            for day in days:
                hours.append(
                    {
                        **common,
                        "kind": kind,
                        "weekday": day,
                        "opens": _time(opening.get("from")),
                        "closes": _time(opening.get("to")),
                    }
                )
    return hours


def _accessibility(values: Any, repairs: Repairs) -> dict[str, str]:
    """Entrance accessibility sentences flattened into one text per language."""
    lines: dict[str, list[str]] = {}
    for value in values or []:
        if not isinstance(value, Mapping):
            continue
        for entrance in value.get("entrances") or []:
            if not isinstance(entrance, Mapping):
                continue
            for group in entrance.get("accessibilitySentences") or []:
                if not isinstance(group, Mapping):
                    continue
                for sentence in group.get("sentences") or []:
                    if not isinstance(sentence, Mapping):
                        continue
                    for language, text in _language_items(
                        sentence.get("sentence"), repairs=repairs, field="accessibility"
                    ).items():
                        lines.setdefault(language, []).append(text)
    return {language: "\n".join(texts) for language, texts in lines.items()}
