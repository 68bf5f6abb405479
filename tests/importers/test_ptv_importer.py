"""PtvImporter on real PTV v11 samples and on a faked PTV API (httpx.MockTransport)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from importers.base import FeedMalformed, ParsedRecord, RawItem, RecordError
from importers.cleaning import inside_finland
from importers.http import build_http_client
from importers.ptv import PtvImporter, _seen_key, extract_code, ptv_date

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL = FIXTURES / "real"
PHARMACY_PAGE = REAL / "ptv-releases-v11/OrganizationServiceChannel.json"
LIPERI_SERVICES = (
    REAL / "ptv-auroraai/recommender_api/ptv_data_loader/tests/test_data/services.json"
)
ETALUKIO = REAL / "ptv-auroraai/recommender_api/tests/test_data/etalukio_service.json"
OTAVA_CHANNEL = REAL / "ptv-auroraai/recommender_api/tests/test_data/otava_service_channel.json"
GENERAL_DESCRIPTIONS = REAL / "ptv-general-descriptions-2017/gd.json"
API = "https://ptv.example/api/v11"


def importer(**kwargs: object) -> PtvImporter:
    return PtvImporter(url=API, http=httpx.Client(), **kwargs)  # type: ignore[arg-type]


def parse(path: Path) -> list[ParsedRecord | RecordError]:
    return list(importer().parse(path.read_bytes()))


def only_record(items: list[ParsedRecord | RecordError]) -> ParsedRecord:
    assert len(items) == 1, items
    assert isinstance(items[0], ParsedRecord), items[0]
    return items[0]


def test_ptv_page_with_bom_and_duplicate_item_gives_one_channel_with_source_id() -> None:
    assert PHARMACY_PAGE.read_bytes().startswith(b"\xef\xbb\xbf")
    channel = only_record(parse(PHARMACY_PAGE))
    assert channel.kind == "channel"
    assert channel.source_id == "bf64185c-dd2c-4291-af54-998b23347265"
    assert channel.data["source_ref"] == "pharma-123"
    assert channel.data["name"] == {"en": "One organization location"}
    assert [r.message for r in channel.repairs] == [
        "the same item appeared 2 times in one page; copies merged"
    ]


def test_ptv_channel_coordinates_are_converted_to_wgs84_inside_finland() -> None:
    channel = only_record(parse(PHARMACY_PAGE))
    (address,) = channel.data["addresses"]
    # ETRS-TM35FIN 6974202.909 N / 534246.773 E is Asemakatu 44, Kuopio.
    assert address["latitude"] == pytest.approx(62.8962, abs=1e-4)
    assert address["longitude"] == pytest.approx(27.6737, abs=1e-4)
    assert inside_finland(address["latitude"], address["longitude"])
    assert address["municipality_code"] == "297"
    assert address["postal_code"] == "70110"
    assert address["street_number"] == "44"


def test_ptv_addresses_keep_all_six_languages_including_sami() -> None:
    channel = only_record(parse(PHARMACY_PAGE))
    (address,) = channel.data["addresses"]
    assert set(address["street"]) == {"fi", "sv", "en", "se", "smn", "sms"}
    assert address["post_office"]["smn"] == "KUOPIO"


def test_ptv_dict_keyed_by_guid_parses_the_liperi_service() -> None:
    service = only_record(parse(LIPERI_SERVICES))
    data = service.data
    assert service.kind == "service"
    assert service.source_id == "6c00d407-d3fd-4c7e-a373-57be9f3b2cff"
    assert data["name"] == {"fi": "Yksilöllistetty oppimäärä"}
    assert data["summary"]["fi"].startswith("Oppimäärää voidaan yksilöllistää")
    assert data["description"]["fi"].startswith("<p>Liperin koulut noudattavat")
    assert data["target_groups"] == ["KR1.2", "KR1"]
    assert data["service_classes"] == ["P6.2"]
    assert data["municipality_codes"] == ["426", "123"]
    assert data["nationwide"] is False
    assert data["organization_origin_id"] == "a6e72986-0d23-4d4b-8619-b49fa0c5baa3"
    assert len(data["channel_origin_ids"]) == 5
    assert data["url"] == f"{API}/Service/6c00d407-d3fd-4c7e-a373-57be9f3b2cff"


def test_ptv_nationwide_service_uses_name_not_alternative_name() -> None:
    data = only_record(parse(ETALUKIO)).data
    assert data["name"] == {"fi": "Nettilukio aikuisille"}
    assert data["nationwide"] is True
    assert data["summary"] == {"fi": "Aikuislukio verkko-opintoina."}
    assert data["service_classes"][:2] == ["P6.10", "P6.8"]


def test_ptv_service_location_channel_has_phones_emails_hours_and_accessibility() -> None:
    channel = only_record(parse(OTAVA_CHANNEL))
    data = channel.data
    assert data["kind"] == "location"
    assert data["name"] == {"fi": "Otavan Opisto / Otavia"}
    assert data["phones"][0]["number"] == "+358447943552"
    assert "info@otavia.fi" in data["emails"]
    assert data["urls"][0] == {
        "url": "http://www.otavanopisto.fi/",
        "language": "fi",
        "label": "Otavan Opiston verkkosivut",
    }
    (address,) = data["addresses"]
    assert inside_finland(address["latitude"], address["longitude"])
    assert address["latitude"] == pytest.approx(61.645, abs=1e-3)  # Otava, south of Mikkeli
    weekly = [h for h in data["opening_hours"] if h["kind"] == "regular"]
    assert [h["weekday"] for h in weekly] == [0, 1, 2, 3, 4]
    assert weekly[0]["opens"] == "08:00"
    assert weekly[0]["closes"] == "16:00"
    assert data["accessibility"]["fi"].startswith("Liikkumisesteisten")
    assert len(data["service_origin_ids"]) == 8


def test_ptv_codes_come_from_code_field_or_uri_in_both_forms() -> None:
    assert extract_code({"code": "P3.1"}, "service_classes") == "P3.1"
    assert (
        extract_code(
            {"uri": "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P3.1"}, "service_classes"
        )
        == "P3.1"
    )
    assert (
        extract_code(
            {"code": "KR1.2", "uri": "http://urn.fi/URN:NBN:fi:au:ptvl:v2003"}, "target_groups"
        )
        == "KR1.2"
    )
    assert extract_code({"uri": "http://urn.fi/URN:NBN:fi:au:ptvl:v2003"}, "target_groups") is None


def test_ptv_synthetic_service_maps_areas_codes_languages_and_sanitizes_html() -> None:
    record = only_record(parse(FIXTURES / "ptv/service_synthetic_family_centre.json"))
    data = record.data
    assert data["name"] == {"fi": "Perhekeskus", "sv": "Familjecenter", "se": "Bearašguovddáš"}
    assert data["county_codes"] == ["16"]
    assert data["municipality_codes"] == ["491", "091"]
    assert data["target_groups"] == ["KR1.2"]
    assert data["life_events"] == ["KE1"]
    assert data["service_classes"] == ["P3.1"]
    assert data["organization_origin_id"] == "df0c2f24-d2bd-4ba7-bdcd-fcfc9f0d65a7"
    assert data["source_ref"] == "perhekeskus-1"
    description = data["description"]["fi"]
    assert "<script" not in description
    assert "\x00" not in description
    assert "<li>neuvola</li>" in description
    fields = {(r.field, r.message) for r in record.repairs}
    assert ("serviceDescriptions.fi", "removed NUL or other control characters") in fields
    assert (
        "serviceDescriptions.fi",
        "removed unsafe HTML (scripts, styles, event handlers)",
    ) in fields


def test_ptv_archived_item_becomes_a_withdrawn_record() -> None:
    document = json.dumps(
        {
            "pageNumber": 1,
            "pageCount": 1,
            "itemList": [
                {
                    "id": "6c00d407-d3fd-4c7e-a373-57be9f3b2cff",
                    "serviceNames": [],
                    "publishingStatus": "Archived",
                }
            ],
        }
    ).encode()
    record = only_record(list(importer().parse(document)))
    assert record.withdrawn is True
    assert record.kind == "service"


def test_ptv_archived_item_keeps_its_timestamp_so_an_older_withdrawal_does_not_win() -> None:
    item = {"id": "6c00d407-d3fd-4c7e-a373-57be9f3b2cff", "serviceNames": []}
    archived = {**item, "publishingStatus": "Archived", "modified": "2026-11-02T08:00:00"}
    document = json.dumps({"pageNumber": 1, "pageCount": 1, "itemList": [archived]}).encode()

    record = only_record(list(importer().parse(document)))

    assert record.withdrawn is True
    assert record.data == {"modified": "2026-11-02T08:00:00"}


def test_ptv_record_without_name_is_rejected_with_a_reason() -> None:
    document = json.dumps(
        [{"id": "x-1", "serviceNames": [{"language": "fi", "value": " ", "type": "Name"}]}]
    )
    (error,) = importer().parse(document.encode())
    assert isinstance(error, RecordError)
    assert error.severity == "error"
    assert error.source_id == "x-1"
    assert "missing name" in error.message


def test_ptv_general_descriptions_import_file_is_rejected_as_a_whole() -> None:
    with pytest.raises(FeedMalformed, match="not a PTV Open API document"):
        parse(GENERAL_DESCRIPTIONS)


def test_ptv_invalid_json_is_feed_malformed() -> None:
    with pytest.raises(FeedMalformed, match="invalid JSON"):
        list(importer().parse(b"<html>503</html>"))


def test_ptv_date_is_utc_without_offset() -> None:
    assert ptv_date("2024-05-01T12:00:00+03:00") == "2024-05-01T09:00:00"
    assert ptv_date("2024-05-01T12:00:00Z") == "2024-05-01T12:00:00"


# -- the fake API -----------------------------------------------------------


class FakePtv:
    """Serves guid pages and `/list?guids=` from dicts; records every request."""

    def __init__(
        self,
        *,
        ids: dict[str, list[str]],
        records: dict[str, dict],
        page_size: int = 2,
        archived: dict[str, list[str]] | None = None,
    ) -> None:
        self.ids = ids
        self.records = records
        self.page_size = page_size
        self.archived = archived or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/v11/")
        query = parse_qs(request.url.query.decode())
        if path.endswith("/list"):
            guids = query["guids"][0].split(",")
            return httpx.Response(200, json=[self.records[g] for g in guids if g in self.records])
        entity = path.split("/")[0]
        status = query.get("status", ["Published"])[0]
        ids = (
            self.archived.get(entity, [])
            if status != "Published" and status == "Archived"
            else ([] if status != "Published" else self.ids.get(entity, []))
        )
        page = int(query.get("page", ["1"])[0])
        chunk = ids[(page - 1) * self.page_size : page * self.page_size]
        page_count = max(1, -(-len(ids) // self.page_size))
        return httpx.Response(
            200,
            json={
                "pageNumber": page,
                "pageSize": self.page_size,
                "pageCount": page_count,
                "itemList": [{"id": i, "name": "x"} for i in chunk],
            },
        )


def run(fake: FakePtv, **kwargs: object) -> list[ParsedRecord | RecordError]:
    client = build_http_client(transport=httpx.MockTransport(fake))
    ptv = PtvImporter(url=API, http=client, **kwargs)  # type: ignore[arg-type]
    return list(ptv.records())


def real_service(path: Path) -> dict:
    payload = json.loads(path.read_text(encoding="utf-8"))
    return next(iter(payload.values())) if "id" not in payload else payload


def test_ptv_run_follows_every_page_of_the_id_list() -> None:
    liperi, etalukio = real_service(LIPERI_SERVICES), real_service(ETALUKIO)
    synthetic = json.loads((FIXTURES / "ptv/service_synthetic_family_centre.json").read_text())[0]
    pages = [json.loads((FIXTURES / f"ptv/service_guid_page_{n}.json").read_text()) for n in (1, 2)]
    ids = [item["id"] for page in pages for item in page["itemList"]]
    fake = FakePtv(
        ids={"Service": ids}, records={r["id"]: r for r in (liperi, etalukio, synthetic)}
    )
    records = run(fake, options={"entities": ["Service"]})
    assert [r.source_id for r in records] == [liperi["id"], etalukio["id"], synthetic["id"]]
    list_calls = [r for r in fake.requests if r.url.path.endswith("/list")]
    assert len(list_calls) == 1  # the id repeated across pages is fetched once


def test_ptv_full_records_are_fetched_in_batches_of_100_guids() -> None:
    template = real_service(ETALUKIO)
    ids = [f"00000000-0000-0000-0000-{n:012d}" for n in range(250)]
    fake = FakePtv(
        ids={"Service": ids}, records={i: {**template, "id": i} for i in ids}, page_size=1000
    )
    records = run(fake, options={"entities": ["Service"]})
    assert len(records) == 250
    batches = [
        parse_qs(r.url.query.decode())["guids"][0].split(",")
        for r in fake.requests
        if r.url.path.endswith("/list")
    ]
    assert [len(b) for b in batches] == [100, 100, 50]


def test_ptv_records_are_fetched_as_their_id_pages_come() -> None:
    template = real_service(ETALUKIO)
    ids = [f"00000000-0000-0000-0000-{n:012d}" for n in range(250)]
    fake = FakePtv(
        ids={"Service": ids}, records={i: {**template, "id": i} for i in ids}, page_size=100
    )
    records = run(fake, options={"entities": ["Service"]})

    # A national id list is never held whole: each page's batch is fetched before the next
    # page is asked for (the last, partial batch when the list ends).
    steps = ["list" if r.url.path.endswith("/list") else "ids" for r in fake.requests]
    assert steps == ["ids", "list", "ids", "list", "ids", "list"]
    assert [r.source_id for r in records] == ids


def test_ptv_ids_seen_are_told_apart_exactly() -> None:
    guid = "0a1b2c3d-0000-4000-8000-00000000abcd"

    assert _seen_key(guid) != _seen_key(guid.upper())
    assert _seen_key(guid) == _seen_key(str(guid))
    assert _seen_key("service-12") == "service-12"
    assert _seen_key(guid) != guid  # kept as a number, not the string


def test_ptv_incremental_run_sends_date_and_withdraws_archived_items() -> None:
    template = real_service(ETALUKIO)
    fake = FakePtv(
        ids={"Service": [template["id"]]},
        records={template["id"]: template},
        archived={"Service": ["dead-0000"]},
    )
    records = run(fake, since="2024-03-01T10:00:00+02:00", options={"entities": ["Service"]})
    list_pages = [r for r in fake.requests if not r.url.path.endswith("/list")]
    assert all(
        parse_qs(r.url.query.decode())["date"] == ["2024-03-01T08:00:00"] for r in list_pages
    )
    withdrawn = [r for r in records if isinstance(r, ParsedRecord) and r.withdrawn]
    assert [(r.kind, r.source_id) for r in withdrawn] == [("service", "dead-0000")]


def test_ptv_full_run_does_not_ask_for_archived_items() -> None:
    template = real_service(ETALUKIO)
    fake = FakePtv(ids={"Service": [template["id"]]}, records={template["id"]: template})
    run(fake, options={"entities": ["Service"]})
    assert not any("status" in parse_qs(r.url.query.decode()) for r in fake.requests)
    assert not any("date" in parse_qs(r.url.query.decode()) for r in fake.requests)


def test_ptv_area_scope_uses_the_municipality_area_endpoints() -> None:
    template = real_service(ETALUKIO)
    fake = FakePtv(ids={"Service": [template["id"]]}, records={template["id"]: template})
    run(fake, options={"entities": ["Service"], "municipalities": ["091", "049"]})
    paths = [r.url.path for r in fake.requests if not r.url.path.endswith("/list")]
    assert paths == [
        "/api/v11/Service/area/Municipality/code/091",
        "/api/v11/Service/area/Municipality/code/049",
    ]


def test_ptv_run_reads_organizations_services_and_channels_in_that_order() -> None:
    fake = FakePtv(ids={}, records={})
    run(fake)
    assert [r.url.path for r in fake.requests] == [
        "/api/v11/Organization",
        "/api/v11/Service",
        "/api/v11/ServiceChannel",
    ]


# -- raw items and fingerprints (skipping unchanged items, importers/base.py) --------------


def test_ptv_raw_items_parse_to_the_same_records_as_parse() -> None:
    document = LIPERI_SERVICES.read_bytes()
    raw_items = list(importer().raw_items(document))

    assert all(isinstance(item, RawItem) for item in raw_items)
    assert [(r.kind, r.source_id) for r in raw_items] == [
        ("service", "6c00d407-d3fd-4c7e-a373-57be9f3b2cff")
    ]
    assert [importer().parse_raw(r) for r in raw_items] == list(importer().parse(document))


def test_ptv_fingerprint_of_a_decoded_item_ignores_key_order_but_sees_a_connection_change() -> None:
    (raw,) = importer().raw_items(LIPERI_SERVICES.read_bytes())
    item = dict(raw.item)
    reordered = dict(reversed(list(item.items())))
    linked = {**item, "serviceChannels": [{"serviceChannel": {"id": "c-1"}}]}

    assert importer().fingerprint(reordered) == raw.fingerprint
    assert importer().fingerprint(linked) != raw.fingerprint


# A plain list of records, as `{Entity}/list?guids=` returns it: items stay raw bytes.


def plain_list(*items: dict, layout: str = "") -> bytes:
    return (
        "["
        + layout
        + ("," + layout).join(json.dumps(i, ensure_ascii=False) for i in items)
        + layout
        + "]"
    ).encode()


def test_ptv_plain_list_items_stay_raw_and_parse_to_the_same_records_as_parse() -> None:
    liperi, etalukio = real_service(LIPERI_SERVICES), real_service(ETALUKIO)
    document = plain_list(liperi, etalukio)

    raw_items = list(importer().raw_items(document))

    assert all(isinstance(r, RawItem) and not isinstance(r.item, dict) for r in raw_items)
    assert [(r.kind, r.source_id) for r in raw_items] == [
        ("service", liperi["id"]),
        ("service", etalukio["id"]),
    ]
    assert [importer().parse_raw(r) for r in raw_items] == list(importer().parse(document))


def test_ptv_plain_list_fingerprint_is_of_the_item_bytes_wherever_they_stand() -> None:
    liperi, etalukio = real_service(LIPERI_SERVICES), real_service(ETALUKIO)
    alone, _ = importer().raw_items(plain_list(liperi, etalukio))
    _, elsewhere = importer().raw_items(plain_list(etalukio, liperi, layout="\n  "))
    (linked,) = importer().raw_items(
        plain_list({**liperi, "serviceChannels": [{"serviceChannel": {"id": "c-1"}}]})
    )
    (reordered,) = importer().raw_items(plain_list(dict(reversed(list(liperi.items())))))

    assert elsewhere.fingerprint == alone.fingerprint
    assert linked.fingerprint != alone.fingerprint
    # Other bytes for the same record cost a parse, never a wrong skip: the record is equal.
    assert reordered.fingerprint != alone.fingerprint
    assert importer().parse_raw(reordered) == importer().parse_raw(alone)


def test_ptv_plain_list_item_that_is_not_utf8_is_rejected_alone() -> None:
    liperi, etalukio = real_service(LIPERI_SERVICES), real_service(ETALUKIO)
    broken = plain_list({**liperi, "sourceId": "BROKEN"}, etalukio).replace(b"BROKEN", b"\xff")

    first, second = importer().raw_items(broken)

    error = importer().parse_raw(first)
    assert isinstance(error, RecordError)
    assert error.source_id == liperi["id"]
    assert "not valid JSON in UTF-8" in error.message
    assert isinstance(importer().parse_raw(second), ParsedRecord)


def test_ptv_plain_list_items_without_id_or_kind_come_parsed_with_their_reason() -> None:
    liperi = real_service(LIPERI_SERVICES)
    no_id = {key: value for key, value in liperi.items() if key != "id"}
    no_kind = {"id": "5b7d5e3c-0000-4000-8000-000000000001", "name": "?"}

    items = list(importer().raw_items(plain_list(liperi, no_id, no_kind)))

    assert isinstance(items[0], RawItem)
    assert [type(i) for i in items[1:]] == [RecordError, RecordError]
    assert items[1].field == "id"
    assert items[2].source_id == no_kind["id"]
    assert "not a PTV service" in items[2].message


def test_ptv_plain_list_with_a_repeated_id_or_a_non_object_is_read_whole() -> None:
    liperi = real_service(LIPERI_SERVICES)

    (merged,) = importer().raw_items(plain_list(liperi, {**liperi, "sourceId": "x"}))
    record, not_an_object = importer().raw_items(b"[" + plain_list(liperi)[1:-1] + b", 7]")

    assert isinstance(merged, ParsedRecord)
    assert "copies merged" in merged.repairs[0].message
    assert isinstance(record, RawItem)
    assert isinstance(not_an_object, RecordError)
    assert not_an_object.message == "item is not a JSON object"


def test_ptv_withdrawn_id_only_items_keep_their_kind_hint_on_the_raw_path() -> None:
    document = json.dumps(
        [{"id": "c-1", "publishingStatus": "Withdrawn", "pesaKind": "channel"}]
    ).encode()

    (raw,) = importer().raw_items(document)
    record = importer().parse_raw(raw)

    assert isinstance(raw, RawItem) and not isinstance(raw.item, dict)
    assert (raw.kind, raw.source_id) == ("channel", "c-1")
    assert isinstance(record, ParsedRecord)
    assert (record.kind, record.withdrawn) == ("channel", True)


def test_ptv_plain_list_without_any_ptv_item_is_feed_malformed() -> None:
    with pytest.raises(FeedMalformed, match="serviceNames"):
        list(importer().raw_items(plain_list({"id": "a", "name": "x"})))


def test_ptv_fingerprint_changes_with_the_importer_version_and_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (raw,) = importer().raw_items(LIPERI_SERVICES.read_bytes())
    elsewhere = PtvImporter(url="https://other.example/api/v11", http=httpx.Client())

    assert elsewhere.fingerprint(raw.item) != raw.fingerprint
    monkeypatch.setattr(PtvImporter, "version", PtvImporter.version + 1)
    assert importer().fingerprint(raw.item) != raw.fingerprint


def test_ptv_merged_duplicates_come_parsed_so_the_repair_is_reported() -> None:
    (item,) = importer().raw_items(PHARMACY_PAGE.read_bytes())

    assert isinstance(item, ParsedRecord)
    assert [r.message for r in item.repairs] == [
        "the same item appeared 2 times in one page; copies merged"
    ]
