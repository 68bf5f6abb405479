"""HsdsImporter on the HSDS 3.0 examples, the invalid ORUK 3.0 mock and real ORUK v1 council feeds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from importers.base import FeedMalformed, ParsedRecord, RecordError
from importers.hsds import HsdsImporter, OrukV1Importer
from importers.http import build_http_client

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"
HSDS = REAL / "openreferral-hsds-3.0/examples"
FAIL = REAL / "oruk-validator-tpximpact/OpenReferralApi/Mocks/V3.0-UK-Fail"
BRISTOL = REAL / "oruk-live-feeds-2024-12/data/bristol-council.services.json"
NORTH_LINCS = REAL / "oruk-live-feeds-2024-12/data/north-lincolnshire-council.services.json"


def parse(path: Path, **options: object) -> list[ParsedRecord | RecordError]:
    importer = HsdsImporter(url="https://hsds.example/api", http=httpx.Client(), options=options)
    return list(importer.parse(path.read_bytes()))


def records(items: list[ParsedRecord | RecordError], kind: str) -> list[ParsedRecord]:
    return [i for i in items if isinstance(i, ParsedRecord) and i.kind == kind]


def errors(items: list[ParsedRecord | RecordError]) -> list[RecordError]:
    return [i for i in items if isinstance(i, RecordError)]


def test_hsds_full_service_maps_service_organization_location_and_contact_channel() -> None:
    items = parse(HSDS / "service_full.json")
    (service,) = records(items, "service")
    (organization,) = records(items, "organization")
    channels = {c.source_id: c for c in records(items, "channel")}
    assert service.data["name"] == {"en": "Community Counselling"}
    assert service.data["organization_origin_id"] == organization.source_id
    assert organization.data["name"] == {"en": "Example Organization Inc."}
    assert organization.data["url"] == "http://example.com"
    assert service.data["languages"] == ["ur"]
    assert service.data["channel_origin_ids"] == list(channels)
    location = channels["3a19ff88-4620-4d17-9830-ac1d859eb5d5"].data
    assert location["kind"] == "location"
    assert location["name"] == {"en": "MyCity Civic Center"}
    # Quotes around the number in the example are removed.
    assert location["phones"][0]["number"] == "+44 1234 234567"
    assert [(h["weekday"], h["opens"], h["closes"]) for h in location["opening_hours"]] == [
        (3, "10:00", "18:00"),
        (4, "10:00", "18:00"),
    ]
    contact = channels["ac148810-d857-441c-9679-408f346de14b/contact"].data
    assert contact["urls"] == [{"url": "http://example.com/counselling"}]
    assert contact["emails"] == ["email@example.com"]


def test_hsds_latitude_100_is_dropped_with_a_warning() -> None:
    items = parse(HSDS / "service_full.json")
    location = next(c for c in records(items, "channel") if c.data["kind"] == "location")
    assert all(a.get("latitude") is None for a in location.data["addresses"])
    (warning,) = location.repairs
    assert warning.severity == "warning"
    assert "latitude 100" in warning.message
    assert warning.field == "service_at_locations[0].location.latitude"


def test_hsds_paged_list_envelope_is_read() -> None:
    items = parse(HSDS / "service_list.json")
    assert [s.data["name"] for s in records(items, "service")] == [{"en": "Community Counselling"}]
    assert errors(items) == []


def test_invalid_oruk_page_gives_per_record_reasons_never_an_exception() -> None:
    items = parse(FAIL / "service_list.json")
    assert records(items, "service") == []
    rejected = [e for e in errors(items) if e.severity == "error"]
    assert [e.message.split(":")[0] for e in rejected] == [
        "missing name (no name in any language)",
        "missing name (no name in any language)",
        "missing name (no name in any language)",
        "duplicate id ac148810-d857-441c-9679-408f346de14b",
    ]
    assert [e.field for e in rejected] == [
        "contents[0].name",
        "contents[1].name",
        "contents[2].name",
        "contents[3].id",
    ]
    warnings = [e for e in errors(items) if e.severity == "warning"]
    messages = [w.message for w in warnings]
    assert messages[0] == "total_items says 1 but the page holds 4 records"
    assert "'example_counselling' is not an http(s) URL with a host; dropped" in messages
    assert "'email-example_com' is not a valid e-mail address; dropped" in messages
    assert "e-mail must be text, got 'False'; dropped" in messages
    assert "e-mail must be text, got '12345'; dropped" in messages


def test_invalid_oruk_single_service_is_kept_with_bad_url_and_email_dropped() -> None:
    items = parse(FAIL / "service_full.json")
    (service,) = records(items, "service")
    assert service.data["name"] == {"en": "Community Counselling"}
    assert {r.field: r.message for r in service.repairs} == {
        "url": "'example/counselling' is not an http(s) URL with a host; dropped",
        "email": "'email-example_com' is not a valid e-mail address; dropped",
    }


def test_bristol_feed_keeps_817_services_and_rejects_the_nameless_and_the_duplicate() -> None:
    items = parse(BRISTOL)
    services = records(items, "service")
    assert len(services) == 817
    rejected = [e for e in errors(items) if e.severity == "error"]
    assert [(e.source_id, e.message.split(":")[0]) for e in rejected] == [
        ("def5ccd4-f121-df4d-60d2-4dc0d69ff555", "missing name (no name in any language)"),
        (
            "2af617e5-4532-bebe-1036-ffdf2e93ce55",
            "duplicate id 2af617e5-4532-bebe-1036-ffdf2e93ce55",
        ),
    ]
    first = next(s for s in services if s.source_id == "2af617e5-4532-bebe-1036-ffdf2e93ce55")
    assert first.data["name"] == {"en": "Fishponds Yoga for Fitness & Wellbeing"}


def test_bristol_descriptions_are_sanitized_and_urls_repaired() -> None:
    services = {s.source_id: s for s in records(parse(BRISTOL), "service")}
    two_way = services["93657689-252d-5a77-de87-42ca43452b0e"]
    assert two_way.data["name"] == {"en": "2 Way St Bristol"}
    description = two_way.data["description"]["en"]
    assert "data-cke-saved-href" not in description
    assert '<a href="https://twitter.com/2waystAt2wayst"' in description
    assert two_way.data["modified"] == "2023-12-19"
    repaired = [r for s in services.values() for r in s.repairs]
    assert any(r.message.endswith("had no scheme; assumed https://") for r in repaired)
    assert all(
        u["url"].startswith(("http://", "https://"))
        for c in records(parse(BRISTOL), "channel")
        for u in c.data["urls"]
    )


def test_north_lincolnshire_feed_parses_every_service_with_its_organisation() -> None:
    items = parse(NORTH_LINCS)
    services = records(items, "service")
    assert len(services) == 738
    assert [e for e in errors(items) if e.severity == "error"] == []
    talk = next(s for s in services if s.source_id == "3cb7c2f8-441a-d42b-05f4-86aa3b4e56d6")
    assert talk.data["name"] == {"en": "#TalkSuicide"}
    assert "<li>funeral planning</li>" in talk.data["description"]["en"]
    organizations = {o.source_id: o for o in records(items, "organization")}
    assert organizations[talk.data["organization_origin_id"]].data["name"] == {
        "en": "North East Lincolnshire Mind"
    }
    # Organisations embedded in many services are emitted once.
    assert len(organizations) == len(records(items, "organization")) == 239


def test_hsds_language_option_sets_the_text_language() -> None:
    items = parse(HSDS / "service_list.json", language="fi")
    assert records(items, "service")[0].data["name"] == {"fi": "Community Counselling"}


def test_hsds_inactive_service_is_withdrawn() -> None:
    document = json.dumps({"id": "s-1", "name": "Kerho", "status": "inactive"}).encode()
    importer = HsdsImporter(url="", http=httpx.Client())
    (service,) = importer.parse(document)
    assert isinstance(service, ParsedRecord)
    assert service.withdrawn is True


def test_hsds_document_of_another_shape_is_feed_malformed() -> None:
    importer = HsdsImporter(url="", http=httpx.Client())
    with pytest.raises(FeedMalformed, match="not an HSDS document"):
        list(importer.parse(b'{"total": 3, "items": []}'))


def test_hsds_run_pages_with_modified_after_and_fetches_full_records_for_partial_items() -> None:
    full = json.loads((HSDS / "service_full.json").read_text(encoding="utf-8"))
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.path == "/api/services":
            page = int(request.url.params["page"])
            item = {"id": full["id"] if page == 1 else "other", "name": "partial"}
            return httpx.Response(
                200,
                json={
                    "total_items": 2,
                    "total_pages": 2,
                    "page_number": page,
                    "size": 1,
                    "contents": [item],
                },
            )
        if request.url.path == f"/api/services/{full['id']}":
            return httpx.Response(200, json=full)
        return httpx.Response(200, json={**full, "id": "other", "name": "Other service"})

    client = build_http_client(transport=httpx.MockTransport(handler))
    importer = HsdsImporter(
        url="https://hsds.example/api", http=client, since="2024-01-01T00:00:00Z"
    )
    items = list(importer.records())
    assert [s.data["name"]["en"] for s in records(items, "service")] == [
        "Community Counselling",
        "Other service",
    ]
    assert seen[0].params["modified_after"] == "2024-01-01T00:00:00Z"
    assert seen[0].params["per_page"] == "100"
    assert [u.path for u in seen] == [
        "/api/services",
        f"/api/services/{full['id']}",
        "/api/services",
        "/api/services/other",
    ]


def test_oruk_v1_importer_is_the_same_parser_without_modified_after() -> None:
    items = list(OrukV1Importer(url="", http=httpx.Client()).parse(NORTH_LINCS.read_bytes()))
    assert Counter(i.kind for i in items if isinstance(i, ParsedRecord))["service"] == 738
    assert OrukV1Importer.supports_modified_after is False
