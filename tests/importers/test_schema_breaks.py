"""Schema breaks are record issues, never silent, in every format: a key named twice and a
value outside the format's list reject the record (the rest of the feed goes on); text over
its maximum length is cut with a warning; a timestamp over a day ahead is clamped to now."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from importers.base import ParsedRecord, RawItem, RecordError
from importers.csv import CsvImporter
from importers.hsds import HsdsImporter
from importers.hsds_tabular import HsdsTabularImporter
from importers.http import build_http_client
from importers.ptv import PtvImporter, split_items

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PTV_SERVICE = FIXTURES / "ptv/service_synthetic_family_centre.json"
PTV_CHANNEL = FIXTURES / "real/ptv-releases-v11/OrganizationServiceChannel.json"
HSDS_SERVICE = FIXTURES / "real/openreferral-hsds-3.0/examples/service_full.json"
HSDS_CSV = FIXTURES / "real/openreferral-hsds-3.0/examples/csv"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CSV_HEADER = "id;name_fi;description_fi;status"

Items = list[ParsedRecord | RecordError]


def ptv_service(**changes: Any) -> dict[str, Any]:
    (item,) = json.loads(PTV_SERVICE.read_text())
    return {**item, **changes}


def ptv_items(document: bytes) -> Items:
    """The document as the sync engine reads it: raw items, each parsed when it must be."""
    importer = PtvImporter(url="https://ptv.example/api/v11", http=httpx.Client(), now=lambda: NOW)
    return [
        importer.parse_raw(item) if isinstance(item, RawItem) else item
        for item in importer.raw_items(document)
    ]


def ptv_parse(document: bytes) -> Items:
    importer = PtvImporter(url="https://ptv.example/api/v11", http=httpx.Client(), now=lambda: NOW)
    return list(importer.parse(document))


def hsds_service(**changes: Any) -> dict[str, Any]:
    return {**json.loads(HSDS_SERVICE.read_text()), **changes}


def hsds_parse(document: bytes) -> Items:
    importer = HsdsImporter(url="https://hsds.example/api", http=httpx.Client(), now=lambda: NOW)
    return list(importer.parse(document))


def csv_parse(text: str) -> Items:
    return list(CsvImporter(url="", http=httpx.Client(), now=lambda: NOW).parse(text.encode()))


def errors(items: Items) -> list[RecordError]:
    return [item for item in items if isinstance(item, RecordError) and item.severity == "error"]


def services(items: Items) -> dict[str, ParsedRecord]:
    return {i.source_id: i for i in items if isinstance(i, ParsedRecord) and i.kind == "service"}


def with_key_twice(item: dict[str, Any], key: str, value: Any) -> bytes:
    """The item's JSON with `key` written a second time, first, holding `value`."""
    return b"{" + orjson.dumps({key: value})[1:-1] + b"," + orjson.dumps(item)[1:]


# -- keys named twice -------------------------------------------------------------------


@pytest.mark.parametrize("read", [ptv_items, ptv_parse], ids=["raw items", "parse"])
def test_ptv_item_naming_a_key_twice_is_rejected_and_the_rest_of_the_page_goes_on(read) -> None:
    good = ptv_service(id="11111111-1111-4111-8111-111111111111")
    bad = ptv_service(id="22222222-2222-4222-8222-222222222222")
    document = (
        b"[" + orjson.dumps(good) + b"," + with_key_twice(bad, "publishingStatus", "x") + b"]"
    )
    items = read(document)
    (error,) = errors(items)
    assert error.source_id == bad["id"]
    assert '"publishingStatus"' in error.message and "more than once" in error.message
    assert list(services(items)) == [good["id"]]


def test_ptv_key_named_twice_deep_inside_an_item_is_found() -> None:
    item = ptv_service()
    raw = orjson.dumps([item]).replace(b'"language":"fi"', b'"language":"fi","language":"sv"', 1)
    (error,) = errors(ptv_items(raw))
    assert error.field is not None and error.field.endswith(".language")


def test_hsds_service_naming_a_key_twice_is_rejected_with_its_locations() -> None:
    good = hsds_service(id="s-good")
    bad = hsds_service(id="s-bad")
    page = (
        b'{"total_items": 2, "total_pages": 1, "contents": ['
        + orjson.dumps(good).replace(b'"id":"', b'"id":"good-', 0)
        + b","
        + with_key_twice(bad, "id", "s-other")
        + b"]}"
    )
    items = hsds_parse(page)
    (error,) = errors(items)
    assert error.source_id == "s-bad" and error.field == "contents[1].id"
    assert list(services(items)) == ["s-good"]
    assert all(item.source_id != "s-bad" for item in items if isinstance(item, ParsedRecord))


def test_csv_row_giving_a_repeated_column_two_values_is_rejected() -> None:
    text = "id;name_fi;name_fi\nk-1;Kerho;Klubi\nk-2;Kahvila;Kahvila\n"
    items = csv_parse(text)
    (error,) = errors(items)
    assert error.source_id == "k-1" and error.field == "row 2: name_fi"
    assert list(services(items)) == ["k-2"]


def tabular_package(services_csv: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(HSDS_CSV.glob("*.csv")):
            archive.writestr(
                path.name, services_csv if path.name == "services.csv" else path.read_bytes()
            )
    return buffer.getvalue()


def test_hsds_tabular_row_giving_a_repeated_column_two_values_is_rejected() -> None:
    header, *rows = (HSDS_CSV / "services.csv").read_bytes().decode().splitlines()
    changed = f"{header},status\n" + "\n".join(f"{row},bogus" for row in rows) + "\n"
    importer = HsdsTabularImporter(url="", http=httpx.Client(), now=lambda: NOW)
    items = list(importer.parse(tabular_package(changed.encode())))
    assert services(items) == {}
    assert errors(items) and all('"status"' in e.message for e in errors(items))


# -- values outside the format's list -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("publishingStatus", "Bogus", "Published, Draft, Modified"),
        ("type", "Bogus", "Service, PermitOrObligation, ProfessionalQualification"),
        ("areaType", "Bogus", "Nationwide, NationwideExceptAlandIslands, LimitedType"),
    ],
)
def test_ptv_service_with_a_value_outside_the_api_list_is_rejected(
    field: str, value: str, allowed: str
) -> None:
    document = orjson.dumps([ptv_service(**{field: value})])
    (error,) = errors(ptv_items(document))
    assert error.field == field
    assert f"{field} 'Bogus' is not one of the allowed values: {allowed}" in error.message
    assert services(ptv_items(orjson.dumps([ptv_service()])))


def test_ptv_channel_of_an_unknown_type_is_rejected_not_read_as_a_location() -> None:
    channel = split_items(json.loads(PTV_CHANNEL.read_bytes().decode("utf-8-sig")))[0]
    (error,) = errors(ptv_parse(orjson.dumps([{**channel, "serviceChannelType": "Hologram"}])))
    assert "ServiceLocation, Phone, WebPage, EChannel, PrintableForm" in error.message


def test_hsds_service_with_an_unknown_status_is_rejected_not_published_as_active() -> None:
    items = hsds_parse(orjson.dumps([hsds_service(status="bogus-status")]))
    assert services(items) == {}
    (error,) = errors(items)
    assert error.field == "contents[0].status"
    assert "active, inactive, defunct, temporarily closed" in error.message
    assert services(hsds_parse(orjson.dumps([hsds_service(status="temporarily closed")])))


def test_csv_row_with_an_unknown_status_is_rejected() -> None:
    items = csv_parse(f"{CSV_HEADER}\nk-1;Kerho;;bogus\nk-2;Kahvila;;aktiivinen\n")
    (error,) = errors(items)
    assert error.field == "row 2: status" and "active, aktiivinen" in error.message
    assert list(services(items)) == ["k-2"]


# -- maximum lengths ---------------------------------------------------------------------

MILLION = "Perhekahvila on avoinna kaikille. " * 30_000


def only_description_warning(record: ParsedRecord) -> str:
    cut = [r for r in record.repairs if "more than the maximum" in r.message]
    assert len(cut) == 1 and cut[0].severity == "warning"
    return cut[0].message


def test_ptv_million_character_description_is_cut_with_a_warning() -> None:
    item = ptv_service()
    item["serviceDescriptions"] = [{"type": "Description", "language": "fi", "value": MILLION}]
    (record,) = services(ptv_items(orjson.dumps([item]))).values()
    description = record.data["description"]["fi"]
    assert len(description) <= 50_000 and description.endswith("…</p>")
    assert "characters long, more than the maximum 50,000" in only_description_warning(record)


def test_hsds_million_character_description_and_long_name_are_cut() -> None:
    items = hsds_parse(orjson.dumps([hsds_service(description=MILLION, name="Nimi " * 200)]))
    (record,) = services(items).values()
    assert len(record.data["description"]["en"]) <= 50_000
    assert len(record.data["name"]["en"]) <= 500 and record.data["name"]["en"].endswith("Nimi…")
    assert {r.field for r in record.repairs} >= {"description.en", "name.en"}


def test_csv_million_character_description_is_cut() -> None:
    (record,) = services(csv_parse(f"{CSV_HEADER}\nk-1;Kerho;{MILLION};\n")).values()
    assert len(record.data["description"]["fi"]) <= 50_000
    only_description_warning(record)


# -- timestamps in the future -------------------------------------------------------------


def test_ptv_modified_in_2099_is_clamped_to_now_with_a_warning() -> None:
    items = ptv_items(orjson.dumps([ptv_service(modified="2099-01-01T00:00:00")]))
    (record,) = services(items).values()
    assert record.data["modified"] == "2026-01-15T00:00:00+00:00"
    assert any("more than a day in the future" in r.message for r in record.repairs)


def test_hsds_last_modified_in_2099_is_clamped_and_a_past_one_kept() -> None:
    future = hsds_parse(orjson.dumps([hsds_service(last_modified="2099-01-01T00:00:00Z")]))
    (record,) = services(future).values()
    assert record.data["modified"] == "2026-01-15T00:00:00+00:00"
    past = services(hsds_parse(HSDS_SERVICE.read_bytes()))
    assert [r.data["modified"] for r in past.values()] == ["2023-03-15T10:30:45.123Z"]


def test_hsds_full_record_naming_a_key_twice_stays_rejected_when_the_page_is_completed() -> None:
    full = hsds_service(id="s-1")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/services":
            page = {"total_items": 2, "total_pages": 1, "contents": [{"id": "s-1"}, {"id": "s-2"}]}
            return httpx.Response(200, json=page)
        if request.url.path == "/api/services/s-1":
            return httpx.Response(200, content=with_key_twice(full, "status", "inactive"))
        return httpx.Response(200, json={**full, "id": "s-2"})

    client = build_http_client(transport=httpx.MockTransport(handler))
    importer = HsdsImporter(url="https://hsds.example/api", http=client, now=lambda: NOW)
    items = list(importer.records())
    (error,) = errors(items)
    assert error.source_id == "s-1" and '"status"' in error.message
    assert list(services(items)) == ["s-2"]


@pytest.mark.parametrize("organization_type", ["Bogus", "Kunta"])
def test_ptv_organisation_of_an_unknown_type_is_rejected_not_read_as_other(
    organization_type: str,
) -> None:
    organization = {
        "id": "33333333-3333-4333-8333-333333333333",
        "organizationNames": [{"language": "fi", "value": "Kunta X", "type": "Name"}],
        "organizationType": organization_type,
        "publishingStatus": "Published",
    }
    (error,) = errors(ptv_items(orjson.dumps([organization])))
    assert error.kind == "organization" and error.field == "organizationType"
    assert "State, Municipality, RegionalOrganization" in error.message
    valid = {**organization, "organizationType": "Municipality"}
    (record,) = ptv_items(orjson.dumps([valid]))
    assert isinstance(record, ParsedRecord) and record.data["provider_kind"] == "public"


def tabular_services(old: str, new: str) -> Items:
    services_csv = (HSDS_CSV / "services.csv").read_text().replace(old, new)
    assert old != new and services_csv != (HSDS_CSV / "services.csv").read_text()
    importer = HsdsTabularImporter(url="", http=httpx.Client(), now=lambda: NOW)
    return list(importer.parse(tabular_package(services_csv.encode())))


def test_hsds_tabular_service_with_an_unknown_status_is_rejected() -> None:
    items = tabular_services(",active,", ",bogus-status,")
    assert services(items) == {}
    (error,) = errors(items)
    assert error.field == "services.csv line 2.status" and "allowed values" in error.message


def test_hsds_tabular_future_last_modified_is_clamped() -> None:
    items = tabular_services("2023-03-15T10:30:45.123Z", "2099-03-15T10:30:45.123Z")
    (record,) = services(items).values()
    assert record.data["modified"] == "2026-01-15T00:00:00+00:00"


def test_hsds_tabular_million_character_description_is_cut() -> None:
    items = tabular_services('"Counselling Services', '"' + MILLION + " Counselling Services")
    (record,) = services(items).values()
    assert len(record.data["description"]["en"]) <= 50_000
    only_description_warning(record)
