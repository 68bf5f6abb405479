"""CsvImporter: the one-sheet CSV format for small NGOs (docs/csv-feed-format.md)."""

from __future__ import annotations

import httpx
import pytest

from importers.base import FeedMalformed, ParsedRecord, RecordError
from importers.cleaning import inside_finland
from importers.csv import CsvImporter, parse_opening_hours

HEADER = (
    "id;name_fi;name_sv;summary_fi;description_fi;organization;municipality_codes;target_groups;"
    "life_events;service_classes;street_address;postal_code;post_office;latitude;longitude;"
    "phone;email;url;opening_hours;languages;status"
)
ROW = (
    'kerho-1;Perhekerho;Familjeklubb;Avoin kerho vauvaperheille;"Tule mukaan!\n\nKahvia tarjolla.";'
    "MLL Espoo;049;KR1.2;KE1;P3.1;Kirkkokatu 1;02770;Espoo;60,2055;24,6559;"
    "+358 40 123 4567;kerho@example.fi;www.example.fi/kerho;ma-pe 9-12; la 10:00-14:00;fi sv;"
)


def parse(text: str, encoding: str = "utf-8") -> list[ParsedRecord | RecordError]:
    return list(CsvImporter(url="", http=httpx.Client()).parse(text.encode(encoding)))


def test_csv_row_becomes_service_organisation_and_location() -> None:
    # Cells holding ";" or line breaks are quoted, as Excel writes them.
    row = ROW.replace("ma-pe 9-12; la 10:00-14:00", '"ma-pe 9-12; la 10:00-14:00"')
    items = parse(f"{HEADER}\n{row}\n")
    organization, channel, service = items
    assert isinstance(service, ParsedRecord) and service.kind == "service"
    assert service.data["name"] == {"fi": "Perhekerho", "sv": "Familjeklubb"}
    assert service.data["summary"] == {"fi": "Avoin kerho vauvaperheille"}
    assert service.data["description"]["fi"] == "<p>Tule mukaan!</p><p>Kahvia tarjolla.</p>"
    assert service.data["municipality_codes"] == ["049"]
    assert service.data["target_groups"] == ["KR1.2"]
    assert service.data["life_events"] == ["KE1"]
    assert service.data["service_classes"] == ["P3.1"]
    assert service.data["languages"] == ["fi", "sv"]
    assert isinstance(organization, ParsedRecord)
    assert service.data["organization_origin_id"] == organization.source_id == "org:mll-espoo"
    assert isinstance(channel, ParsedRecord)
    assert service.data["channel_origin_ids"] == [channel.source_id]
    (address,) = channel.data["addresses"]
    assert inside_finland(address["latitude"], address["longitude"])
    assert address["street"] == {"fi": "Kirkkokatu 1"}
    assert channel.data["urls"] == [{"url": "https://www.example.fi/kerho"}]
    assert [(h["weekday"], h["opens"], h["closes"]) for h in channel.data["opening_hours"]] == [
        (0, "09:00", "12:00"),
        (1, "09:00", "12:00"),
        (2, "09:00", "12:00"),
        (3, "09:00", "12:00"),
        (4, "09:00", "12:00"),
        (5, "10:00", "14:00"),
    ]
    assert [r.message for r in service.repairs] == [
        "URL 'www.example.fi/kerho' had no scheme; assumed https://"
    ]


def test_csv_with_bom_and_commas_is_read() -> None:
    text = "\ufeffid,name_fi,email\nk-1,Vertaistukiryhmä,ryhma@example.fi\n"
    (channel, service) = parse(text)
    assert isinstance(service, ParsedRecord)
    assert service.data["name"] == {"fi": "Vertaistukiryhmä"}
    assert isinstance(channel, ParsedRecord) and channel.data["emails"] == ["ryhma@example.fi"]


def test_csv_in_windows_1252_is_read_with_a_warning() -> None:
    items = parse("id;name_fi\nk-1;Äitiysneuvola\n", encoding="cp1252")
    warning, service = items
    assert isinstance(warning, RecordError) and warning.severity == "warning"
    assert warning.field == "encoding"
    assert isinstance(service, ParsedRecord) and service.data["name"] == {"fi": "Äitiysneuvola"}


def test_csv_row_errors_carry_the_row_number() -> None:
    text = "id;name_fi;email;latitude;longitude\n;Nimetön;;;\nk-2;;;;\nk-3;Kerho;ei-osoite;100;25\nk-3;Kopio;;;\n"
    items = parse(text)
    rejected = [(i.field, i.message) for i in items if isinstance(i, RecordError)]
    assert rejected == [
        ("row 2: id", "missing id"),
        ("row 3: name_fi", "missing name (no name_fi, name_sv or name_en)"),
        ("row 5: id", "duplicate id k-3: an earlier row has the same id; the first one was kept"),
    ]
    (service,) = [i for i in items if isinstance(i, ParsedRecord)]
    assert {r.field for r in service.repairs} == {"row 4: email", "row 4: latitude"}


def test_csv_status_withdrawn_marks_the_service_withdrawn() -> None:
    (service,) = parse("id;name_fi;status\nk-1;Kerho;poistettu\n")
    assert isinstance(service, ParsedRecord) and service.withdrawn is True


def test_csv_without_id_or_name_columns_is_not_a_feed() -> None:
    with pytest.raises(FeedMalformed, match="'id' column"):
        parse("nimi;osoite\nKerho;Katu 1\n")


def test_csv_opening_hours_format() -> None:
    assert parse_opening_hours("Mo,We 10-12") == [
        {"kind": "regular", "weekday": 0, "opens": "10:00", "closes": "12:00", "closed": False},
        {"kind": "regular", "weekday": 2, "opens": "10:00", "closes": "12:00", "closed": False},
    ]
    assert parse_opening_hours("aina auki") is None
