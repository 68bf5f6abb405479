"""One-sheet CSV feed for small NGOs and parishes: one row per service.

A spreadsheet saved as CSV is the lowest bar we can offer a volunteer-run
organisation. The columns (header names are case-insensitive, any order,
unknown columns are ignored) — see docs/csv-feed-format.md for examples:

    id                required, stable across exports
    name_fi, name_sv, name_en        at least one required (also name_se …)
    summary_fi, summary_sv, summary_en          plain text
    description_fi, description_sv, description_en   text or simple HTML
    organization      organisation name (one organisation record per distinct name)
    municipality_codes  3-digit codes separated by spaces or commas ("091 049");
                      "koko suomi"/"nationwide" marks a nationwide service
    target_groups     PTV codes, e.g. "KR1.2"
    life_events       PTV codes, e.g. "KE1"
    service_classes   PTV codes, e.g. "P3.1"
    street_address, postal_code, post_office   visiting address (Finnish)
    latitude, longitude   WGS84 decimal degrees ("60,1699" is fine)
    phone, email, url
    opening_hours     "Mo-Fr 09:00-16:00; Sa 10:00-14:00" (also ma ti ke to pe la su)
    languages         "fi sv en"
    status            active (default) | inactive | withdrawn | deleted

UTF-8 with or without BOM; Windows-1252 is accepted with a warning. The
delimiter (";" as Finnish Excel writes it, or ",") is detected from the header.
Each row becomes a service, plus a location channel "<id>/location" when it
has an address, coordinates or contact details. Errors and warnings carry the
spreadsheet line as the field path: the header is line 1, so the first data row
is "row 2", and a column problem reads "row 2: email".
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from importers.base import FeedMalformed, Importer, OpeningHours, ParsedRecord, RecordError
from importers.cleaning import (
    Repairs,
    clean_email,
    clean_html,
    clean_phone,
    clean_text,
    clean_url,
    language_code,
    wgs84_point,
)
from importers.http import fetch
from importers.validation import checked, not_allowed

COLUMNS = (
    "id",
    "name_*",
    "summary_*",
    "description_*",
    "organization",
    "municipality_codes",
    "target_groups",
    "life_events",
    "service_classes",
    "street_address",
    "postal_code",
    "post_office",
    "latitude",
    "longitude",
    "phone",
    "email",
    "url",
    "opening_hours",
    "languages",
    "status",
)
WITHDRAWN = frozenset(
    {"inactive", "withdrawn", "deleted", "poistettu", "lopetettu", "ei aktiivinen"}
)
# The status column's list: any other value rejects the row.
STATUSES = ("active", "aktiivinen", *sorted(WITHDRAWN))
NATIONWIDE = frozenset({"koko suomi", "nationwide", "valtakunnallinen", "hela finland", "*"})
DAYS = {
    **{name: index for index, name in enumerate(["mo", "tu", "we", "th", "fr", "sa", "su"])},
    **{name: index for index, name in enumerate(["ma", "ti", "ke", "to", "pe", "la", "su"])},
}
_CODE = {
    "target_groups": re.compile(r"^KR\d+(?:\.\d+)*$"),
    "life_events": re.compile(r"^KE\d+(?:\.\d+)*$"),
    "service_classes": re.compile(r"^P\d+(?:\.\d+)*$"),
}
_HOURS = re.compile(
    r"^(?P<days>[a-zäö]{2}(?:\s*[-–,]\s*[a-zäö]{2})*)\s+(?P<opens>\d{1,2}(?::\d{2})?)\s*[-–]\s*(?P<closes>\d{1,2}(?::\d{2})?)$"
)


def decode(document: bytes) -> tuple[str, bool]:
    """(text, True when it was not UTF-8 and Windows-1252 was assumed)."""
    try:
        return document.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return document.decode("cp1252", errors="replace"), True


def sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", value.strip()) if part]


def _slug(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "organization"


def _hhmm(value: str) -> str:
    hours, _, minutes = value.partition(":")
    return f"{int(hours):02d}:{minutes or '00'}"


def parse_opening_hours(value: str) -> list[OpeningHours] | None:
    """ "Mo-Fr 09:00-16:00; Sa 10-14" → weekly hours; None when unreadable."""
    hours: list[OpeningHours] = []
    for part in [p.strip().lower() for p in value.split(";") if p.strip()]:
        match = _HOURS.match(part)
        if not match:
            return None
        days: list[int] = []
        for group in re.split(r"\s*,\s*", match.group("days")):
            ends = [d.strip() for d in re.split(r"[-–]", group)]
            if any(day not in DAYS for day in ends):
                return None
            first, last = DAYS[ends[0]], DAYS[ends[-1]]
            days.extend((first + step) % 7 for step in range(((last - first) % 7) + 1))
        opens, closes = _hhmm(match.group("opens")), _hhmm(match.group("closes"))
        for day in dict.fromkeys(days):
            hours.append(
                {
                    "kind": "regular",
                    "weekday": day,
                    "opens": opens,
                    "closes": closes,
                    "closed": False,
                }
            )
    return hours


class CsvImporter(Importer):
    """The one-sheet CSV format above. Options: `max_seconds`."""

    format = "csv"

    def documents(self) -> Iterator[bytes]:
        deadline = time.monotonic() + float(self.options.get("max_seconds", 600))
        yield fetch(self.http, self.url, deadline=deadline)

    def parse(self, document: bytes) -> Iterator[ParsedRecord | RecordError]:
        text, fallback = decode(document)
        if fallback:
            yield RecordError(
                source_id=None,
                message="the file is not UTF-8; read it as Windows-1252 (save as 'CSV UTF-8' to avoid this)",
                field="encoding",
                severity="warning",
            )
        text = text.replace("\x00", "")
        # A cell may be as long as the document; the maximum length of each text is applied
        # after reading (`checked`), with a warning, not by failing the whole file.
        csv.field_size_limit(max(csv.field_size_limit(), len(text)))
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
        header = [name.strip().lower().lstrip("\ufeff") for name in next(reader, [])]
        if not header:
            raise FeedMalformed("not a CSV feed: the file is empty")
        if "id" not in header or not any(n.startswith("name_") for n in header):
            raise FeedMalformed(
                "not a Pesä CSV feed: the header must have an 'id' column and at least one "
                f"name_<language> column (found: {', '.join(header[:8])})"
            )
        twice = {name for name in header if header.count(name) > 1}
        now = self.now()
        seen_ids: set[str] = set()
        organizations: set[str] = set()
        for line, cells in enumerate(reader, start=2):
            if not any(value.strip() for value in cells):
                continue
            row: dict[str, Any] = dict.fromkeys(header)
            conflicts: list[str] = []
            for name, value in zip(header, cells, strict=False):
                if name in twice and row[name] is not None and row[name].strip() != value.strip():
                    conflicts.append(name)
                row[name] = value
            if conflicts:
                yield RecordError(
                    source_id=(row.get("id") or "").strip() or None,
                    message=(
                        f"the column {conflicts[0]!r} appears more than once in the header and "
                        "this row gives it different values; which value is meant is "
                        "ambiguous, so the row was not imported"
                    ),
                    field=f"row {line}: {conflicts[0]}",
                    kind="service",
                )
                continue
            for result in self._row(row, f"row {line}", seen_ids, organizations):
                yield checked(result, now=now) if isinstance(result, ParsedRecord) else result

    def _row(
        self, row: dict[str, Any], where: str, seen_ids: set[str], organizations: set[str]
    ) -> Iterator[ParsedRecord | RecordError]:
        def cell(name: str) -> str:
            value = row.get(name)
            return value.strip() if isinstance(value, str) else ""

        source_id = cell("id")
        if not source_id:
            yield RecordError(
                source_id=None, message="missing id", field=f"{where}: id", kind="service"
            )
            return
        if source_id in seen_ids:
            yield RecordError(
                source_id=source_id,
                message=f"duplicate id {source_id}: an earlier row has the same id; the first one was kept",
                field=f"{where}: id",
                kind="service",
            )
            return
        seen_ids.add(source_id)
        status = cell("status").lower()
        if status:
            problem = not_allowed(
                status, STATUSES, field="status", source_id=source_id, kind="service"
            )
            if problem is not None:
                yield replace(problem, field=f"{where}: status")
                return
        repairs = Repairs(source_id=source_id, kind="service")

        def texts(prefix: str, *, html: bool = False) -> dict[str, str]:
            result: dict[str, str] = {}
            for column in row:
                if column and column.startswith(prefix):
                    language = language_code(column[len(prefix) :])
                    clean = clean_html if html else clean_text
                    value = clean(cell(column), repairs=repairs, field=f"{where}: {column}")
                    if language and value:
                        result[language] = value
            return result

        name = texts("name_")
        if not name:
            yield RecordError(
                source_id=source_id,
                message="missing name (no name_fi, name_sv or name_en)",
                field=f"{where}: name_fi",
                kind="service",
            )
            return

        organization_id = None
        organization_name = clean_text(cell("organization"))
        if organization_name:
            organization_id = f"org:{_slug(organization_name)}"
            if organization_id not in organizations:
                organizations.add(organization_id)
                yield ParsedRecord(
                    kind="organization",
                    source_id=organization_id,
                    data={"name": {"fi": organization_name}, "provider_kind": "ngo"},
                )

        municipality_codes: list[str] = []
        nationwide = cell("municipality_codes").lower() in NATIONWIDE
        if not nationwide:
            for code in _split(cell("municipality_codes")):
                if code.isdigit() and len(code) <= 3:
                    municipality_codes.append(code.zfill(3))
                else:
                    repairs.warn(
                        f"{where}: municipality_codes",
                        f"{code!r} is not a municipality code; ignored",
                    )
        codes: dict[str, list[str]] = {}
        for column, pattern in _CODE.items():
            codes[column] = []
            for code in _split(cell(column)):
                if pattern.match(code.upper()):
                    codes[column].append(code.upper())
                else:
                    repairs.warn(f"{where}: {column}", f"{code!r} is not a PTV code; ignored")

        channel = self._channel(cell, source_id, name, organization_id, repairs, where)
        if channel is not None:
            yield channel
        yield ParsedRecord(
            kind="service",
            source_id=source_id,
            data={
                "name": name,
                "summary": texts("summary_"),
                "description": texts("description_", html=True),
                "organization_origin_id": organization_id,
                "channel_origin_ids": [channel.source_id] if channel else [],
                "languages": [
                    c for c in (language_code(x) for x in _split(cell("languages"))) if c
                ],
                "target_groups": codes["target_groups"],
                "life_events": codes["life_events"],
                "service_classes": codes["service_classes"],
                "nationwide": nationwide,
                "municipality_codes": list(dict.fromkeys(municipality_codes)),
                "county_codes": [],
                "url": None,
                "modified": None,
            },
            withdrawn=status in WITHDRAWN,
            repairs=repairs.as_tuple(),
        )

    def _channel(
        self,
        cell: Callable[[str], str],
        source_id: str,
        name: dict[str, str],
        organization_id: str | None,
        repairs: Repairs,
        where: str,
    ) -> ParsedRecord | None:
        point = wgs84_point(
            cell("latitude"),
            cell("longitude"),
            repairs=repairs,
            field=f"{where}: latitude",
            require_finland=True,
        )
        email = clean_email(cell("email"), repairs=repairs, field=f"{where}: email")
        url = clean_url(cell("url"), repairs=repairs, field=f"{where}: url")
        phone = clean_phone(cell("phone"))
        street = clean_text(cell("street_address"))
        post_office = clean_text(cell("post_office"))
        postal_code = clean_text(cell("postal_code"))
        hours: list[OpeningHours] = []
        if cell("opening_hours"):
            parsed = parse_opening_hours(cell("opening_hours"))
            if parsed is None:
                repairs.warn(
                    f"{where}: opening_hours",
                    f"cannot read {cell('opening_hours')!r}; write e.g. 'Mo-Fr 09:00-16:00; Sa 10:00-14:00'",
                )
            else:
                hours = parsed
        has_address = bool(street or postal_code or point)
        if not (has_address or email or url or phone):
            return None
        return ParsedRecord(
            kind="channel",
            source_id=f"{source_id}/location",
            data={
                "kind": "location"
                if has_address
                else "phone"
                if phone
                else "email"
                if email
                else "web",
                "name": name,
                "description": {},
                "organization_origin_id": organization_id,
                "service_origin_ids": [source_id],
                "phones": [{"number": phone}] if phone else [],
                "emails": [email] if email else [],
                "urls": [{"url": url}] if url else [],
                "addresses": [
                    {
                        "street": {"fi": street} if street else {},
                        "postal_code": postal_code or "",
                        "post_office": {"fi": post_office} if post_office else {},
                        "municipality_code": None,
                        "latitude": point[0] if point else None,
                        "longitude": point[1] if point else None,
                    }
                ]
                if has_address
                else [],
                "opening_hours": hours,
                "languages": [],
                "accessibility": {},
                "url": None,
                "modified": None,
            },
        )
