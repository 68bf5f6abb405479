"""HsdsTabularImporter on the official HSDS 3.0 tabular example (21 CSV tables, zipped here)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest

from importers.base import FeedMalformed, ParsedRecord
from importers.hsds_tabular import HsdsTabularImporter

CSV_DIR = (
    Path(__file__).resolve().parent.parent / "fixtures/real/openreferral-hsds-3.0/examples/csv"
)


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def example_package() -> bytes:
    return zipped({f"examples/csv/{p.name}": p.read_bytes() for p in sorted(CSV_DIR.glob("*.csv"))})


def test_hsds_tabular_package_has_21_tables() -> None:
    assert len(list(CSV_DIR.glob("*.csv"))) == 21


def test_hsds_tabular_package_maps_like_the_json_api() -> None:
    importer = HsdsTabularImporter(url="", http=httpx.Client())
    items = list(importer.parse(example_package()))
    by_kind: dict[str, list[ParsedRecord]] = {}
    for item in items:
        assert isinstance(item, ParsedRecord), item
        by_kind.setdefault(item.kind, []).append(item)
    (service,) = by_kind["service"]
    assert service.source_id == "ac148810-d857-441c-9679-408f346de14b"
    assert service.data["name"] == {"en": "Community Counselling"}
    assert service.data["organization_origin_id"] == "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
    assert service.data["languages"] == ["ur"]
    (organization,) = by_kind["organization"]
    assert organization.data["name"] == {"en": "Example Organization Inc."}
    location = next(c for c in by_kind["channel"] if c.data["kind"] == "location")
    assert location.data["name"] == {"en": "MyCity Civic Center"}
    assert location.data["addresses"][0]["postal_code"] == "ABC 1234"
    assert location.data["addresses"][0]["latitude"] is None  # the example's latitude is 100
    assert any("latitude 100" in r.message for r in location.repairs)
    assert {(h["weekday"], h["opens"]) for h in location.data["opening_hours"]} == {
        (3, "10:00"),
        (4, "10:00"),
    }


def test_hsds_tabular_rejects_a_single_csv_file() -> None:
    importer = HsdsTabularImporter(url="", http=httpx.Client())
    with pytest.raises(FeedMalformed, match="expected a zip"):
        list(importer.parse((CSV_DIR / "services.csv").read_bytes()))


def test_hsds_tabular_rejects_a_zip_without_services() -> None:
    importer = HsdsTabularImporter(url="", http=httpx.Client())
    with pytest.raises(FeedMalformed, match="no services.csv"):
        list(importer.parse(zipped({"locations.csv": b"id,name\n1,x\n"})))


def test_hsds_tabular_errors_name_the_csv_line() -> None:
    services = b"id,name,organization_id\ns-1,,\ns-2,Kerho,\n"
    importer = HsdsTabularImporter(url="", http=httpx.Client())
    items = list(importer.parse(zipped({"services.csv": services})))
    assert items[0].field == "services.csv line 2.name"  # type: ignore[union-attr]
    assert isinstance(items[-1], ParsedRecord)
