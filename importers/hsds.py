"""Open Referral HSDS 3.0 JSON API, and the ORUK v1 feeds of UK councils.

One importer reads both shapes, detected per document and per record, because
real feeds mix them: HSDS 3.0 pages (`total_items`, `total_pages`,
`page_number`, `contents`), ORUK v1 pages (`totalElements`, `totalPages`,
`content`), bare lists of services (the Bristol and North Lincolnshire
snapshots) and single `/services/{id}` records. `OrukV1Importer` is the same
parser registered as "oruk-v1"; it only pages the v1 way (`per_page`, no
`modified_after`).

Each service becomes a service record; its embedded organisation an
organisation record; each location (through `service_at_locations`) a
"location" channel; the service's own phones, e-mail and website one contact
channel with id "<service id>/contact". Links are authoritative on the service
side (`channel_origin_ids`).

Options: `language` (default "en": HSDS carries no text language), `country`
("FI" also rejects coordinates outside Finland), `per_page` (default 100),
`fetch_full` (default True: fetch `/services/{id}` when list items are partial),
`max_seconds` (default 3600).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from importers.base import (
    Address,
    FeedMalformed,
    Importer,
    OpeningHours,
    ParsedRecord,
    RecordError,
    RecordKind,
)
from importers.cleaning import (
    Repairs,
    clean_email,
    clean_html,
    clean_phone,
    clean_text,
    clean_url,
    language_code,
    missing_essentials,
    wgs84_point,
)
from importers.http import fetch
from importers.validation import (
    DUPLICATE_HINT,
    carry_duplicates,
    checked,
    duplicate_key_error,
    duplicate_keys,
    not_allowed,
)
from importers.validation import (
    load_json as load_checked_json,
)

MAX_PAGES = 10_000
WITHDRAWN_STATUSES = frozenset({"inactive", "defunct", "withdrawn", "deleted"})
# HSDS 3.0's service statuses, and the two withdrawals some feeds write. A missing status
# reads as active; any other value rejects the service.
SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed", "withdrawn", "deleted")
BYDAY = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
WEEKDAY_NAMES = {
    name: index
    for index, names in enumerate(
        [
            ("monday", "mon", "mo"),
            ("tuesday", "tue", "tu"),
            ("wednesday", "wed", "we"),
            ("thursday", "thu", "th"),
            ("friday", "fri", "fr"),
            ("saturday", "sat", "sa"),
            ("sunday", "sun", "su"),
        ]
    )
    for name in names
}
_MUNICIPALITY_URI = re.compile(r"kunta[^/]*/code/(\d{1,3})$", re.IGNORECASE)
_CODE = {
    "target_groups": re.compile(r"^KR\d+(?:\.\d+)*$", re.IGNORECASE),
    "life_events": re.compile(r"^KE\d+(?:\.\d+)*$", re.IGNORECASE),
    "service_classes": re.compile(r"^P\d+(?:\.\d+)*$", re.IGNORECASE),
}
# Keys that only a full service record has: list items without them are partial.
FULL_RECORD_KEYS = ("service_at_locations", "phones", "schedules", "regular_schedules", "contacts")


def load_json(document: bytes, *, what: str) -> Any:
    """The decoded document; an object in it that names a key twice carries
    `DUPLICATE_HINT` once re-encoded (`carry_duplicates`), or is found by `duplicate_keys`."""
    return load_checked(document, what=what)[0]


def load_checked(document: bytes, *, what: str) -> tuple[Any, bool]:
    """(the decoded document, whether an object in it names a key twice)."""
    try:
        document.decode("utf-8-sig")
        return load_checked_json(document.removeprefix(b"\xef\xbb\xbf"))
    except (UnicodeDecodeError, orjson.JSONDecodeError) as error:
        raise FeedMalformed(f"not an {what} document: {error}") from error


def _envelope_duplicates(payload: Any) -> None:
    """A page envelope (not a record) that names a key twice is unreadable as a whole."""
    if isinstance(payload, dict) and ("contents" in payload or "content" in payload):
        envelope = [path for path in duplicate_keys(payload) if "." not in path]
        if envelope:
            raise FeedMalformed(
                f"not an HSDS document: the key {envelope[0]!r} appears more than once "
                "in the page envelope"
            )


def page_items(payload: Any) -> tuple[list[Any], RecordError | None]:
    """The services of a document, plus a warning when the envelope's count disagrees."""
    if isinstance(payload, list):
        return payload, None
    if not isinstance(payload, dict):
        raise FeedMalformed("not an HSDS document: expected a JSON object or list")
    for items_key, total_key, pages_key in (
        ("contents", "total_items", "total_pages"),
        ("content", "totalElements", "totalPages"),
    ):
        if items_key in payload:
            items = payload.get(items_key) or []
            if not isinstance(items, list):
                raise FeedMalformed(f"not an HSDS document: {items_key} is not a list")
            total, pages = payload.get(total_key), payload.get(pages_key)
            warning = None
            if isinstance(total, int) and pages in (1, 0, None) and total != len(items):
                warning = RecordError(
                    source_id=None,
                    message=f"{total_key} says {total} but the page holds {len(items)} records",
                    field=total_key,
                    severity="warning",
                )
            return items, warning
    if "id" in payload:
        return [payload], None
    raise FeedMalformed(
        "not an HSDS document: expected a page with contents/content, a list of services "
        "or a single service with an id"
    )


class HsdsImporter(Importer):
    """HSDS 3.0 (and ORUK v1) services with their organisations and locations."""

    format = "hsds"
    # 2: keys named twice and unknown statuses are rejected, long texts cut, future
    # timestamps clamped.
    version = 2
    page_size_param = "per_page"
    supports_modified_after = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seen: dict[RecordKind, set[str]] = {
            "service": set(),
            "organization": set(),
            "channel": set(),
        }

    @property
    def language(self) -> str:
        return language_code(self.options.get("language")) or "en"

    # -- fetching ---------------------------------------------------------

    def documents(self) -> Iterator[bytes]:
        deadline = time.monotonic() + float(self.options.get("max_seconds", 3600))
        base = self.url.rstrip("/")
        params: dict[str, Any] = {self.page_size_param: int(self.options.get("per_page", 100))}
        if self.since and self.supports_modified_after:
            params["modified_after"] = self.since
        page = 1
        while page <= MAX_PAGES:
            body = fetch(
                self.http, f"{base}/services", params={**params, "page": page}, deadline=deadline
            )
            payload, twice = load_checked(body, what="HSDS")
            if twice:
                _envelope_duplicates(payload)
            items, _ = page_items(payload)
            partial = [
                item
                for item in items
                if isinstance(item, dict)
                and isinstance(item.get("id"), str)
                and not any(key in item for key in FULL_RECORD_KEYS)
            ]
            if partial and self.options.get("fetch_full", True) and isinstance(payload, dict):
                full: dict[str, Any] = {}
                for item in partial:
                    record, record_twice = load_checked(
                        fetch(self.http, f"{base}/services/{item['id']}", deadline=deadline),
                        what="HSDS",
                    )
                    # Re-encoding drops a key named twice: the hint keeps the record rejected.
                    full[item["id"]] = carry_duplicates(record) if record_twice else record
                key = "contents" if "contents" in payload else "content"
                payload[key] = [
                    full.get(item.get("id"), item) if isinstance(item, dict) else item
                    for item in items
                ]
                if twice:
                    payload[key] = [carry_duplicates(item) for item in payload[key]]
                body = orjson.dumps(payload)
            yield body
            if not items or not isinstance(payload, dict):
                break
            total_pages = payload.get("total_pages", payload.get("totalPages"))
            last = payload.get("last_page", payload.get("last"))
            if last is True or not isinstance(total_pages, int) or page >= total_pages:
                break
            page += 1

    # -- parsing ----------------------------------------------------------

    def parse(self, document: bytes) -> Iterator[ParsedRecord | RecordError]:
        payload, twice = load_checked(document, what="HSDS")
        if twice:
            _envelope_duplicates(payload)
        items, warning = page_items(payload)
        if warning is not None:
            yield warning
        # Keys named twice are looked for only in a document that has some.
        check = twice or DUPLICATE_HINT.encode() in document
        yield from self.parse_services(items, check_duplicates=check)

    def parse_services(
        self,
        items: list[Any],
        *,
        path: str = "contents[{}]",
        first: int = 0,
        check_duplicates: bool = True,
        duplicate_noun: str = "key",
    ) -> Iterator[ParsedRecord | RecordError]:
        """`path` names a service's place (index + `first`) in the document for messages.
        A service with a key named twice anywhere inside is rejected whole, with its
        organisation and locations."""
        now = self.now()
        for index, item in enumerate(items):
            where = path.format(index + first)
            if not isinstance(item, dict):
                yield RecordError(
                    source_id=None,
                    message="service is not a JSON object",
                    field=where,
                    kind="service",
                )
                continue
            if check_duplicates:
                raw_id = item.get("id")
                problem = duplicate_key_error(
                    item,
                    source_id=str(raw_id).strip() if isinstance(raw_id, str | int) else None,
                    kind="service",
                    where=where,
                    noun=duplicate_noun,
                )
                if problem is not None:
                    yield problem
                    continue
            for result in self._service(item, where):
                yield checked(result, now=now) if isinstance(result, ParsedRecord) else result

    def _first_time(self, kind: RecordKind, source_id: str) -> bool:
        if source_id in self._seen[kind]:
            return False
        self._seen[kind].add(source_id)
        return True

    def _text(
        self, value: Any, repairs: Repairs, field: str, *, html: bool = False
    ) -> dict[str, str]:
        cleaned = (clean_html if html else clean_text)(value, repairs=repairs, field=field)
        return {self.language: cleaned} if cleaned else {}

    def _service(self, item: Mapping[str, Any], where: str) -> Iterator[ParsedRecord | RecordError]:
        raw_id = item.get("id")
        source_id = (
            str(raw_id).strip()
            if isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
            else ""
        )
        repairs = Repairs(source_id=source_id or None, kind="service")
        name = self._text(item.get("name"), repairs, "name")
        # Checked up front so a rejected record still lists every problem at once.
        website = clean_url(item.get("url"), repairs=repairs, field="url")
        email = clean_email(item.get("email"), repairs=repairs, field="email")
        problem = missing_essentials(source_id, {"-": "-"}, kind="service")
        if problem is None and not self._first_time("service", source_id):
            problem = RecordError(
                source_id=source_id,
                message=f"duplicate id {source_id}: an earlier service in this feed has the same id; the first one was kept",
                field="id",
                kind="service",
            )
        if problem is None:
            problem = missing_essentials(source_id, name, kind="service")
        status = str(item.get("status") or "").strip().lower()
        if problem is None and status:
            problem = not_allowed(
                item.get("status"),
                SERVICE_STATUSES,
                field="status",
                source_id=source_id,
                kind="service",
            )
        if problem is not None:
            yield RecordError(
                source_id=problem.source_id,
                message=problem.message,
                field=f"{where}.{problem.field}",
                kind="service",
            )
            yield from repairs.items
            return

        organization = item.get("organization")
        organization_id = item.get("organization_id")
        if isinstance(organization, Mapping):
            organization_id = organization.get("id") or organization_id
            yield from self._organization(organization)

        channel_ids: list[str] = []
        for position, link in enumerate(item.get("service_at_locations") or []):
            if not isinstance(link, Mapping):
                continue
            location = link.get("location") if isinstance(link.get("location"), Mapping) else None
            if location is None:
                continue
            record = self._location(
                location, link, source_id, f"service_at_locations[{position}].location"
            )
            if isinstance(record, ParsedRecord):
                channel_ids.append(record.source_id)
                yield record
            elif isinstance(record, RecordError):
                yield record
            elif isinstance(location.get("id"), str):
                channel_ids.append(location["id"])

        contact = self._contact_channel(item, source_id, repairs, website=website, email=email)
        if contact is not None:
            channel_ids.append(contact.source_id)
            yield contact

        taxonomy = self._taxonomy_codes(item)
        municipalities, nationwide = self._service_areas(item.get("service_areas"))
        data: dict[str, Any] = {
            "name": name,
            "summary": {},
            "description": self._text(item.get("description"), repairs, "description", html=True),
            "organization_origin_id": organization_id if isinstance(organization_id, str) else None,
            "channel_origin_ids": list(dict.fromkeys(channel_ids)),
            "languages": self._languages(item.get("languages")),
            "target_groups": taxonomy["target_groups"],
            "life_events": taxonomy["life_events"],
            "service_classes": taxonomy["service_classes"],
            "nationwide": nationwide,
            "municipality_codes": municipalities,
            "county_codes": [],
            "url": f"{self.url.rstrip('/')}/services/{source_id}" if self.url else None,
            "modified": self._modified(item),
        }
        yield ParsedRecord(
            kind="service",
            source_id=source_id,
            data=data,
            withdrawn=status in WITHDRAWN_STATUSES,
            repairs=repairs.as_tuple(),
        )

    def _modified(self, item: Mapping[str, Any]) -> str | None:
        metadata = item.get("pc_metadata")
        modified = item.get("last_modified")
        if not modified and isinstance(metadata, Mapping):
            modified = metadata.get("date_modified")
        return modified if isinstance(modified, str) and modified else None

    def _organization(self, item: Mapping[str, Any]) -> Iterator[ParsedRecord | RecordError]:
        raw_id = item.get("id")
        if (
            not isinstance(raw_id, str)
            or not raw_id.strip()
            or not self._first_time("organization", raw_id.strip())
        ):
            return
        source_id = raw_id.strip()
        repairs = Repairs(source_id=source_id, kind="organization")
        name = self._text(item.get("name"), repairs, "organization.name")
        problem = missing_essentials(
            source_id, name, kind="organization", field="organization.name"
        )
        if problem is not None:
            yield problem
            return
        phones = [
            clean_phone(p.get("number")) for p in item.get("phones") or [] if isinstance(p, Mapping)
        ]
        identifiers = [
            i
            for i in item.get("organization_identifiers") or []
            if isinstance(i, Mapping)
            and str(i.get("identifier_scheme") or "").upper() in ("FI:YTUNNUS", "FI-YTJ", "FI:PRH")
        ]
        yield ParsedRecord(
            kind="organization",
            source_id=source_id,
            data={
                "name": name,
                "description": self._text(
                    item.get("description"), repairs, "organization.description", html=True
                ),
                "provider_kind": "other",
                "business_id": clean_text(identifiers[0].get("identifier"))
                if identifiers
                else None,
                "url": clean_url(
                    item.get("website") or item.get("url"),
                    repairs=repairs,
                    field="organization.website",
                ),
                "email": clean_email(
                    item.get("email"), repairs=repairs, field="organization.email"
                ),
                "phone": next((p for p in phones if p), None),
                "municipality_code": None,
                "parent_origin_id": item.get("parent_organization_id")
                if isinstance(item.get("parent_organization_id"), str)
                else None,
                "modified": self._modified(item),
            },
            repairs=repairs.as_tuple(),
        )

    def _location(
        self, location: Mapping[str, Any], link: Mapping[str, Any], service_id: str, field: str
    ) -> ParsedRecord | RecordError | None:
        raw_id = location.get("id")
        if not isinstance(raw_id, str) or not raw_id.strip():
            return RecordError(
                source_id=None, message="location without an id", field=field, kind="channel"
            )
        source_id = raw_id.strip()
        if not self._first_time("channel", source_id):
            return None
        repairs = Repairs(source_id=source_id, kind="channel")
        name = self._text(location.get("name"), repairs, f"{field}.name")
        problem = missing_essentials(source_id, name, kind="channel", field=f"{field}.name")
        if problem is not None:
            return problem
        point = wgs84_point(
            location.get("latitude"),
            location.get("longitude"),
            repairs=repairs,
            field=f"{field}.latitude",
            require_finland=self.options.get("country") == "FI",
        )
        addresses: list[Address] = []
        raw_addresses = [
            a
            for a in location.get("addresses") or location.get("physical_addresses") or []
            if isinstance(a, Mapping)
        ]
        visiting = [
            a
            for a in raw_addresses
            if str(a.get("address_type") or "physical").lower() in ("physical", "visiting")
        ]
        # A postal address is better than none for finding the place.
        for address in visiting or raw_addresses[:1]:
            street = " ".join(
                part
                for part in (
                    clean_text(address.get("address_1")),
                    clean_text(address.get("address_2")),
                )
                if part
            )
            city = clean_text(address.get("city"))
            addresses.append(
                {
                    "street": {self.language: street} if street else {},
                    "street_number": "",
                    "postal_code": clean_text(address.get("postal_code")) or "",
                    "post_office": {self.language: city} if city else {},
                    "municipality_code": None,
                    "latitude": point[0] if point else None,
                    "longitude": point[1] if point else None,
                }
            )
        if not addresses and point is not None:
            addresses.append(
                {
                    "street": {},
                    "postal_code": "",
                    "post_office": {},
                    "latitude": point[0],
                    "longitude": point[1],
                }
            )
        phones = self._phones(location, link)
        emails = [
            email
            for index, contact in enumerate(location.get("contacts") or [])
            if isinstance(contact, Mapping)
            for email in [
                clean_email(
                    contact.get("email"), repairs=repairs, field=f"{field}.contacts[{index}].email"
                )
            ]
            if email
        ]
        url = clean_url(location.get("url"), repairs=repairs, field=f"{field}.url")
        accessibility = " ".join(
            text
            for entry in (
                location.get("accessibility")
                or location.get("accessibility_for_disabilities")
                or []
            )
            if isinstance(entry, Mapping)
            for text in [clean_text(entry.get("description") or entry.get("accessibility"))]
            if text
        )
        schedules = [
            *(location.get("schedules") or []),
            *(link.get("schedules") or []),
            *(location.get("regular_schedules") or []),
            *(link.get("regular_schedules") or []),
        ]
        return ParsedRecord(
            kind="channel",
            source_id=source_id,
            data={
                "kind": "location",
                "name": name,
                "description": self._text(
                    location.get("description"), repairs, f"{field}.description", html=True
                ),
                "organization_origin_id": location.get("organization_id")
                if isinstance(location.get("organization_id"), str)
                else None,
                "service_origin_ids": [service_id],
                "phones": phones,
                "emails": list(dict.fromkeys(emails)),
                "urls": [{"url": url}] if url else [],
                "addresses": addresses,
                "opening_hours": self._schedules(
                    schedules,
                    [
                        *(location.get("holiday_schedules") or []),
                        *(link.get("holiday_schedules") or []),
                    ],
                ),
                "languages": self._languages(location.get("languages")),
                "accessibility": {self.language: accessibility} if accessibility else {},
                "url": None,
                "modified": None,
            },
            repairs=repairs.as_tuple(),
        )

    def _contact_channel(
        self,
        item: Mapping[str, Any],
        service_id: str,
        repairs: Repairs,
        *,
        website: str | None,
        email: str | None,
    ) -> ParsedRecord | None:
        """The service's own phones, e-mail and website as one channel."""
        phones = self._phones(item)
        emails = [email] if email else []
        for index, contact in enumerate(item.get("contacts") or []):
            if isinstance(contact, Mapping):
                email = clean_email(
                    contact.get("email"), repairs=repairs, field=f"contacts[{index}].email"
                )
                if email and email not in emails:
                    emails.append(email)
        url = website
        if not (phones or emails or url):
            return None
        kind = "phone" if phones else "email" if emails else "web"
        name = clean_text(item.get("name")) or service_id
        return ParsedRecord(
            kind="channel",
            source_id=f"{service_id}/contact",
            data={
                "kind": kind,
                "name": {self.language: name},
                "description": {},
                "organization_origin_id": None,
                "service_origin_ids": [service_id],
                "phones": phones,
                "emails": emails,
                "urls": [{"url": url}] if url else [],
                "addresses": [],
                "opening_hours": self._schedules(
                    item.get("schedules") or item.get("regular_schedules") or [],
                    item.get("holiday_schedules") or [],
                ),
                "languages": self._languages(item.get("languages")),
                "accessibility": {},
                "url": None,
                "modified": None,
            },
        )

    def _phones(self, *holders: Mapping[str, Any]) -> list[dict[str, str]]:
        phones: list[dict[str, str]] = []
        seen: set[str] = set()
        for holder in holders:
            sources = list(holder.get("phones") or [])
            for contact in holder.get("contacts") or []:
                if isinstance(contact, Mapping):
                    sources.extend(contact.get("phones") or [])
            for phone in sources:
                if not isinstance(phone, Mapping):
                    continue
                number = clean_phone(phone.get("number"))
                if not number or number in seen:
                    continue
                seen.add(number)
                entry = {"number": number}
                label = clean_text(phone.get("description"))
                if label:
                    entry["label"] = label
                if phone.get("type"):
                    entry["type"] = str(phone["type"])
                phones.append(entry)
        return phones

    def _schedules(self, regular: list[Any], holidays: list[Any]) -> list[OpeningHours]:
        hours: list[OpeningHours] = []
        seen: set[str] = set()
        for schedule in regular:
            if not isinstance(schedule, Mapping):
                continue
            # The same schedule often hangs on both the location and the link.
            if isinstance(schedule.get("id"), str):
                if schedule["id"] in seen:
                    continue
                seen.add(schedule["id"])
            days: list[int | None] = []
            byday = schedule.get("byday") or schedule.get("weekday")
            if isinstance(byday, str):
                for token in re.split(r"[,\s]+", byday.strip()):
                    token = re.sub(r"^[+-]?\d+", "", token).upper()
                    day = (
                        BYDAY.get(token[:2])
                        if token[:2] in BYDAY
                        else WEEKDAY_NAMES.get(token.lower())
                    )
                    if day is not None and day not in days:
                        days.append(day)
            opens, closes = _hhmm(schedule.get("opens_at")), _hhmm(schedule.get("closes_at"))
            if not days and not (opens or closes):
                continue
            note = clean_text(schedule.get("description") or schedule.get("notes"))
            for day in days or [None]:
                hours.append(
                    {
                        "kind": "regular",
                        "weekday": day,
                        "opens": opens,
                        "closes": closes,
                        "valid_from": _iso_date(schedule.get("valid_from")),
                        "valid_to": _iso_date(schedule.get("valid_to")),
                        "closed": False,
                        "note": {self.language: note} if note else {},
                    }
                )
        for schedule in holidays:
            if not isinstance(schedule, Mapping):
                continue
            hours.append(
                {
                    "kind": "holiday",
                    "weekday": None,
                    "opens": _hhmm(schedule.get("opens_at")),
                    "closes": _hhmm(schedule.get("closes_at")),
                    "valid_from": _iso_date(schedule.get("start_date")),
                    "valid_to": _iso_date(schedule.get("end_date")),
                    "closed": bool(schedule.get("closed")),
                    "note": {},
                }
            )
        return hours

    def _languages(self, values: Any) -> list[str]:
        languages: list[str] = []
        for value in values or []:
            code = (
                language_code(value.get("code"))
                if isinstance(value, Mapping)
                else language_code(value)
            )
            if code and code not in languages:
                languages.append(code)
        return languages

    def _taxonomy_codes(self, item: Mapping[str, Any]) -> dict[str, list[str]]:
        """PTV codes (KR…, KE…, P…) found among the service's taxonomy terms."""
        terms: list[Mapping[str, Any]] = []
        for attribute in item.get("attributes") or []:
            if isinstance(attribute, Mapping) and isinstance(
                attribute.get("taxonomy_term"), Mapping
            ):
                terms.append(attribute["taxonomy_term"])
        for link in item.get("service_taxonomys") or []:
            if isinstance(link, Mapping) and isinstance(link.get("taxonomy"), Mapping):
                terms.append(link["taxonomy"])
        result: dict[str, list[str]] = {key: [] for key in _CODE}
        for term in terms:
            candidates = [
                term.get("code"),
                term.get("id"),
                str(term.get("term_uri") or "").rstrip("/").rsplit("/", 1)[-1],
            ]
            for candidate in candidates:
                if not isinstance(candidate, str):
                    continue
                for field, pattern in _CODE.items():
                    if (
                        pattern.match(candidate.strip())
                        and candidate.strip().upper() not in result[field]
                    ):
                        result[field].append(candidate.strip().upper())
        return result

    def _service_areas(self, areas: Any) -> tuple[list[str], bool]:
        """Finnish municipality codes from service area URIs; "nationwide" by name."""
        codes: list[str] = []
        nationwide = False
        for area in areas or []:
            if not isinstance(area, Mapping):
                continue
            uri = str(area.get("uri") or "").rstrip("/")
            match = _MUNICIPALITY_URI.search(uri)
            if match:
                codes.append(match.group(1).zfill(3))
            name = str(area.get("name") or area.get("service_area") or "").strip().lower()
            if name in ("nationwide", "koko suomi", "valtakunnallinen", "hela finland"):
                nationwide = True
        return list(dict.fromkeys(codes)), nationwide


class OrukV1Importer(HsdsImporter):
    """ORUK v1 (Placecube Open Place Directory) feeds: same parser, v1 paging."""

    format = "oruk-v1"
    supports_modified_after = False


def _hhmm(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    match = re.match(r"^\s*(\d{1,2}):(\d{2})", value)
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else None


def _iso_date(value: Any) -> str | None:
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None
