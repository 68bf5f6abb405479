"""HSDS 3.0 tabular data package: the 21 CSV tables, as one zip.

The tables are joined back into the nested shape of the HSDS 3.0 JSON API
(service → organization, service_at_locations → location → addresses, phones,
schedules …) and then read by the JSON importer, so both forms map the same way.

A document is a zip holding the CSV files (folders inside the zip are ignored).
`documents()` fetches the zip at `url`, or, when `url` ends in
`datapackage.json`, fetches the package and every CSV resource it lists and zips
them together.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin

import orjson

from importers.base import FeedMalformed, ParsedRecord, RecordError
from importers.hsds import HsdsImporter
from importers.http import fetch
from importers.validation import DUPLICATE_HINT

MAX_UNCOMPRESSED = 200 * 1024 * 1024
# Table names as the spec's datapackage.json calls them; "schedule.csv" etc. are
# accepted too because the UK profile ships both spellings.
TABLE_ALIASES = {
    "schedule": "schedules",
    "address": "addresses",
    "attribute": "attributes",
    "taxonomy": "taxonomies",
    "service_at_locations": "service_at_location",
}

Row = dict[str, str]


def read_tables(document: bytes) -> dict[str, list[Row]]:
    """{table name: rows} from a zip of CSV files; refuses anything else."""
    if not document.startswith(b"PK"):
        raise FeedMalformed("not an HSDS tabular package: expected a zip of the CSV tables")
    try:
        archive = zipfile.ZipFile(io.BytesIO(document))
    except zipfile.BadZipFile as error:
        raise FeedMalformed(f"not an HSDS tabular package: {error}") from error
    tables: dict[str, list[Row]] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename).name
            if info.is_dir() or not name.lower().endswith(".csv"):
                continue
            total += info.file_size
            if total > MAX_UNCOMPRESSED:
                raise FeedMalformed("HSDS tabular package is larger than 200 MB uncompressed")
            table = name[:-4].lower()
            table = TABLE_ALIASES.get(table, table)
            text = archive.read(info).decode("utf-8-sig", errors="replace")
            tables.setdefault(table, []).extend(_rows(text))
    if "services" not in tables:
        raise FeedMalformed("HSDS tabular package has no services.csv")
    return tables


def _rows(text: str) -> Iterator[Row]:
    """The rows of one CSV table as {column: value}. A row that gives a column named twice
    in the header two different values carries `DUPLICATE_HINT`, so that its service is
    rejected (the last value would win silently otherwise)."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))  # long cells are cut later
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    for cells in reader:
        if not cells:
            continue
        row: dict[str, Any] = dict.fromkeys((name for name in header if name), "")
        seen: set[str] = set()
        conflicts: list[str] = []
        for name, value in zip(header, cells, strict=False):
            if not name:
                continue
            value = value.strip()
            if name in seen and row[name] != value and name not in conflicts:
                conflicts.append(name)
            seen.add(name)
            row[name] = value
        if conflicts:
            row[DUPLICATE_HINT] = conflicts
        yield row


def _nonempty(row: Mapping[str, str]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if value != ""}


def nest_services(tables: Mapping[str, list[Row]]) -> list[dict[str, Any]]:
    """The HSDS 3.0 JSON shape of every service in the tables."""

    def by(table: str, key: str) -> dict[str, list[Row]]:
        index: dict[str, list[Row]] = defaultdict(list)
        for row in tables.get(table, []):
            if row.get(key):
                index[row[key]].append(row)
        return index

    organizations = {row["id"]: row for row in tables.get("organizations", []) if row.get("id")}
    locations = {row["id"]: row for row in tables.get("locations", []) if row.get("id")}
    terms = {row["id"]: row for row in tables.get("taxonomy_terms", []) if row.get("id")}
    phones = {
        key: by("phones", key)
        for key in ("service_id", "location_id", "organization_id", "service_at_location_id")
    }
    schedules = {
        key: by("schedules", key) for key in ("service_id", "location_id", "service_at_location_id")
    }
    languages = {key: by("languages", key) for key in ("service_id", "location_id")}
    addresses = by("addresses", "location_id")
    accessibility = by("accessibility", "location_id")
    contacts = by("contacts", "service_id")
    areas = by("service_areas", "service_id")
    attributes = by("attributes", "link_id")
    links = by("service_at_location", "service_id")

    def phone_list(key: str, value: str) -> list[dict[str, Any]]:
        return [_nonempty(row) for row in phones[key].get(value, [])]

    def location(location_id: str) -> dict[str, Any] | None:
        row = locations.get(location_id)
        if row is None:
            return None
        return {
            **_nonempty(row),
            "addresses": [_nonempty(a) for a in addresses.get(location_id, [])],
            "phones": phone_list("location_id", location_id),
            "schedules": [_nonempty(s) for s in schedules["location_id"].get(location_id, [])],
            "languages": [_nonempty(x) for x in languages["location_id"].get(location_id, [])],
            "accessibility": [_nonempty(a) for a in accessibility.get(location_id, [])],
        }

    services: list[dict[str, Any]] = []
    for row in tables.get("services", []):
        service_id = row.get("id", "")
        service: dict[str, Any] = _nonempty(row)
        organization = organizations.get(row.get("organization_id", ""))
        if organization is not None:
            service["organization"] = {
                **_nonempty(organization),
                "phones": phone_list("organization_id", organization["id"]),
            }
        service["phones"] = phone_list("service_id", service_id)
        service["schedules"] = [_nonempty(s) for s in schedules["service_id"].get(service_id, [])]
        service["languages"] = [_nonempty(x) for x in languages["service_id"].get(service_id, [])]
        service["contacts"] = [_nonempty(c) for c in contacts.get(service_id, [])]
        service["service_areas"] = [_nonempty(a) for a in areas.get(service_id, [])]
        service["attributes"] = [
            {**_nonempty(a), "taxonomy_term": _nonempty(terms[a["taxonomy_term_id"]])}
            for a in attributes.get(service_id, [])
            if a.get("taxonomy_term_id") in terms
        ]
        service["service_at_locations"] = []
        for link in links.get(service_id, []):
            nested = location(link.get("location_id", ""))
            if nested is None:
                continue
            service["service_at_locations"].append(
                {
                    **_nonempty(link),
                    "location": nested,
                    "phones": phone_list("service_at_location_id", link.get("id", "")),
                    "schedules": [
                        _nonempty(s)
                        for s in schedules["service_at_location_id"].get(link.get("id", ""), [])
                    ],
                }
            )
        services.append(service)
    return services


class HsdsTabularImporter(HsdsImporter):
    """HSDS 3.0 as CSV tables; same mapping and options as the JSON importer."""

    format = "hsds-tabular"

    def documents(self) -> Iterator[bytes]:
        deadline = time.monotonic() + float(self.options.get("max_seconds", 3600))
        if not self.url.rstrip("/").endswith("datapackage.json"):
            yield fetch(self.http, self.url, deadline=deadline)
            return
        package = orjson.loads(fetch(self.http, self.url, deadline=deadline))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for resource in package.get("resources", []) if isinstance(package, dict) else []:
                path = resource.get("path") if isinstance(resource, dict) else None
                if not isinstance(path, str) or not path.endswith(".csv"):
                    continue
                body = fetch(self.http, urljoin(self.url, path), deadline=deadline)
                archive.writestr(PurePosixPath(path).name, body)
        yield buffer.getvalue()

    def parse(self, document: bytes) -> Iterator[ParsedRecord | RecordError]:
        # Header is line 1 of services.csv, so service n sits on line n + 2.
        services = nest_services(read_tables(document))
        yield from self.parse_services(
            services, path="services.csv line {}", first=2, duplicate_noun="column"
        )
