"""The bench data generator: deterministic, calibrated, and readable by the real importers.

Pure tests: no database, small N.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import orjson
import pytest

from bench.articles import article_specs
from bench.generate import BASE_TIME, Dataset, main
from bench.vocabulary import load_words, vocabulary
from importers.base import ParsedRecord, RecordError
from importers.cleaning import inside_finland
from importers.hsds import HsdsImporter
from importers.ptv import PtvImporter

N = 200


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(N, seed=42)


@pytest.fixture(scope="module")
def ptv_documents(dataset: Dataset) -> list[tuple[str, bytes]]:
    return list(dataset.ptv_documents())


@pytest.fixture(scope="module")
def services(ptv_documents: list[tuple[str, bytes]]) -> list[dict]:
    return [r for e, doc in ptv_documents if e == "Service" for r in orjson.loads(doc)]


@pytest.fixture(scope="module")
def delta(dataset: Dataset) -> Dataset:
    return Dataset(1000, seed=7).delta(changed=0.01, connection_only_share=0.3)


def _ptv_parse(documents) -> tuple[list[ParsedRecord], list[RecordError]]:
    importer = PtvImporter(url="https://api.example.fi/api/v11", http=httpx.Client())
    records, errors = [], []
    for _entity, document in documents:
        for item in importer.parse(document):
            (errors if isinstance(item, RecordError) else records).append(item)
    return records, errors


def _hsds_parse(pages) -> tuple[list[ParsedRecord], list[RecordError]]:
    importer = HsdsImporter(
        url="https://hsds.example.fi",
        http=httpx.Client(),
        options={"language": "fi", "country": "FI"},
    )
    records, errors = [], []
    for page in pages:
        for item in importer.parse(page):
            (errors if isinstance(item, RecordError) else records).append(item)
    return records, errors


# -- determinism ----------------------------------------------------------------------


def test_same_seed_gives_byte_identical_feeds(ptv_documents):
    assert list(Dataset(N, seed=42).ptv_documents()) == ptv_documents
    assert list(Dataset(50, seed=42).hsds_pages()) == list(Dataset(50, seed=42).hsds_pages())


def test_different_seed_gives_different_feeds(ptv_documents):
    other = list(Dataset(N, seed=43).ptv_documents())
    assert [doc for _, doc in other] != [doc for _, doc in ptv_documents]
    ids = {r["id"] for _, doc in other for r in orjson.loads(doc)}
    assert not ids & {r["id"] for _, doc in ptv_documents for r in orjson.loads(doc)}


def test_records_do_not_depend_on_generation_order(dataset):
    fresh = Dataset(N, seed=42)
    assert fresh.ptv_service(137) == dataset.ptv_service(137)
    assert fresh.service(3)["names"] == dataset.service(3)["names"]


def test_cli_writes_the_same_files_twice(tmp_path: Path, capsys):
    for name in ("a", "b"):
        assert main(["--services", "120", "--seed", "9", "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.json"))
    assert Path("Service/00002.json") in files
    for relative in files:
        if relative.name != "manifest.json":
            assert (tmp_path / "a" / relative).read_bytes() == (
                tmp_path / "b" / relative
            ).read_bytes()
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["services"] == 120
    assert manifest["feeds"]["full"]["Service"]["files"] == 2


# -- shape and calibration ---------------------------------------------------------------


def test_every_ptv_document_parses_without_errors(dataset, ptv_documents):
    records, errors = _ptv_parse(ptv_documents)
    assert [e for e in errors if e.severity == "error"] == []
    assert [r.repairs for r in records if r.repairs] == []
    kinds = Counter(r.kind for r in records)
    assert kinds == {
        "service": N,
        "channel": dataset.channels,
        "organization": dataset.organizations,
    }
    assert dataset.channels > N  # more channels than services, as in PTV
    assert all(len(json.loads(doc)) <= 100 for _, doc in ptv_documents)


def test_every_hsds_page_parses_without_errors(dataset):
    pages = list(dataset.hsds_pages(per_page=50))
    assert len(pages) == 4
    envelope = orjson.loads(pages[0])
    assert envelope["total_items"] == N and envelope["total_pages"] == 4
    records, errors = _hsds_parse(pages)
    assert [e for e in errors if e.severity == "error"] == []
    assert [r.repairs for r in records if r.repairs] == []
    services = [r for r in records if r.kind == "service"]
    assert len(services) == N
    assert {r.source_id for r in services} == {dataset.service_id(i) for i in range(N)}
    assert all(r.data["target_groups"] and r.data["service_classes"] for r in services)


def test_ptv_and_hsds_describe_the_same_services(dataset):
    ptv, _ = _ptv_parse(dataset.ptv_documents(("Service",)))
    hsds, _ = _hsds_parse(dataset.hsds_pages())
    by_id = {r.source_id: r.data for r in hsds if r.kind == "service"}
    for record in ptv:
        other = by_id[record.source_id]
        assert other["name"]["fi"] == record.data["name"]["fi"]
        assert other["target_groups"] == record.data["target_groups"]
        assert other["nationwide"] == record.data["nationwide"]
        assert other["municipality_codes"] == record.data["municipality_codes"]


def test_language_shares(services):
    languages = Counter(n["language"] for s in services for n in s["serviceNames"])
    assert languages["fi"] == N
    assert 0.40 < languages["sv"] / N < 0.60
    assert 0.23 < languages["en"] / N < 0.43


def test_area_shares_and_real_codes(services):
    ptv, _ = _ptv_parse([("Service", orjson.dumps(services))])
    nationwide = sum(r.data["nationwide"] for r in ptv) / N
    county = sum(bool(r.data["county_codes"]) for r in ptv) / N
    single = (
        sum(len(r.data["municipality_codes"]) == 1 and not r.data["county_codes"] for r in ptv) / N
    )
    assert 0.05 < nationwide < 0.16
    assert 0.17 < county < 0.33
    assert 0.55 < single < 0.75
    codes = json.loads(Path("bench/data/areas.json").read_text())
    known = {m["code"] for m in codes["municipalities"]}
    assert {c for r in ptv for c in r.data["municipality_codes"]} <= known
    for record in ptv:
        assert all(code.startswith("KR") for code in record.data["target_groups"])
        assert all(code.startswith("P") for code in record.data["service_classes"])
        assert all(code.startswith("KE") for code in record.data["life_events"])


def test_channels_have_coordinates_in_finland_and_the_service_municipality(dataset, ptv_documents):
    records, _ = _ptv_parse(ptv_documents)
    channels = {r.source_id: r.data for r in records if r.kind == "channel"}
    located = [c for c in channels.values() if c["kind"] == "location"]
    assert located
    for channel in located:
        (address,) = channel["addresses"]
        assert inside_finland(address["latitude"], address["longitude"])
        assert channel["opening_hours"]
    raw = [r for e, doc in ptv_documents if e == "ServiceChannel" for r in orjson.loads(doc)]
    assert all(isinstance(a["streetAddress"]["latitude"], str) for r in raw for a in r["addresses"])
    for service in (r for r in records if r.kind == "service"):
        data = service.data
        if len(data["municipality_codes"]) == 1 and not data["county_codes"]:
            for channel_id in data["channel_origin_ids"]:
                for address in channels[channel_id]["addresses"]:
                    assert address["municipality_code"] == data["municipality_codes"][0]


def test_ptv_service_size_is_calibrated():
    data = Dataset(1000, seed=3)
    sizes = [len(orjson.dumps(record)) for record in data.ptv_records("Service")]
    assert 3800 < statistics.mean(sizes) < 5200


# -- vocabulary --------------------------------------------------------------------------


def test_vocabularies_are_real_words_ranked_by_frequency():
    fi, sv = load_words("fi"), load_words("sv")
    assert fi[0] == "ja" and sv[0] == "och"
    assert len(fi) > 5000 and len(sv) > 3000
    assert {"lapsen", "kunta", "neuvontaa"} <= set(fi[:200])
    assert {"barn", "kommunen"} <= set(sv[:200])


def test_descriptions_follow_zipf(services):
    documents = [
        set(d["value"].lower().replace(".", " ").split())
        for s in services
        for d in s["serviceDescriptions"]
        if d["language"] == "fi" and d["type"] == "Description"
    ]
    frequency = Counter(word for words in documents for word in words)
    counts = sorted(frequency.values(), reverse=True)
    assert counts[0] > 0.9 * len(documents)  # "ja" is in almost every record
    assert statistics.median(counts) <= 2  # most words are rare
    assert counts[0] > 50 * statistics.median(counts)
    zipf = vocabulary("fi").all
    assert zipf.probability(1) / zipf.probability(10) == pytest.approx(10**1.1)


# -- deltas ------------------------------------------------------------------------------


def _by_id(records) -> dict[str, dict]:
    return {r["id"]: r for r in records}


def test_zero_delta_is_the_base_feed():
    base = Dataset(300, seed=5)
    delta = base.delta(changed=0.0)
    assert list(delta.ptv_documents()) == list(base.ptv_documents())
    assert list(delta.ptv_documents(incremental=True)) == []


def test_one_percent_delta_changes_one_percent(delta):
    base = Dataset(1000, seed=7)
    changes = delta.changes
    assert len(changes.services) == 10
    assert len(changes.connection) == 3 and len(changes.content) == 7
    before = _by_id(base.ptv_records("Service"))
    after = _by_id(delta.ptv_records("Service"))
    changed = {i for i, r in after.items() if r != before[i]}
    assert changed == {delta.service_id(i) for i in changes.services}
    for i in changes.connection:
        old, new = before[delta.service_id(i)], after[delta.service_id(i)]
        assert new["modified"] == old["modified"]
        assert new["serviceDescriptions"] == old["serviceDescriptions"]
        assert new["serviceChannels"] != old["serviceChannels"]
    for i in changes.content:
        old, new = before[delta.service_id(i)], after[delta.service_id(i)]
        assert new["modified"] > old["modified"]
        assert datetime.fromisoformat(new["modified"]) >= changes.watermark


def test_connection_changes_show_on_both_sides_without_bumping_modified(delta):
    base = Dataset(1000, seed=7)
    before = _by_id(base.ptv_records("ServiceChannel"))
    after = _by_id(delta.ptv_records("ServiceChannel"))
    changed = [i for i, r in after.items() if r != before[i]]
    assert changed
    hours_ids = {delta.channel_id(j) for j in delta.changes.hours}
    for channel_id in changed:
        old, new = before[channel_id], after[channel_id]
        if channel_id in hours_ids:
            assert new["serviceHours"] != old["serviceHours"]
            assert new["modified"] > old["modified"]
        else:
            assert new["services"] != old["services"]
            assert new["modified"] == old["modified"]


def test_incremental_delta_holds_only_records_modified_after_the_watermark(delta):
    documents = list(delta.ptv_documents(incremental=True))
    records = [r for _, doc in documents for r in orjson.loads(doc)]
    assert records
    watermark = delta.changes.watermark
    assert all(datetime.fromisoformat(r["modified"]) >= watermark for r in records)
    services = {r["id"] for e, doc in documents if e == "Service" for r in orjson.loads(doc)}
    assert services == {delta.service_id(i) for i in delta.changes.content}
    # The full delta feed has exactly those records past the watermark, no others.
    full = [r for _, doc in delta.ptv_documents() for r in orjson.loads(doc)]
    assert {r["id"] for r in full if datetime.fromisoformat(r["modified"]) >= watermark} == {
        r["id"] for r in records
    }
    assert all(
        datetime.fromisoformat(r["modified"]) < BASE_TIME
        for r in Dataset(1000, seed=7).ptv_records("Service")
    )
    parsed, errors = _ptv_parse(documents)
    assert errors == [] and parsed
    hsds = [orjson.loads(page) for page in delta.hsds_pages(incremental=True)]
    hsds_ids = {s["id"] for page in hsds for s in page["contents"]}
    assert services <= hsds_ids
    assert all(
        s["last_modified"] >= watermark.isoformat() for page in hsds for s in page["contents"]
    )


def test_delta_cli_writes_full_and_incremental_feeds(tmp_path: Path, capsys):
    out = tmp_path / "delta"
    args = ["--services", "300", "--delta-from", "5", "--changed", "0.01", "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["delta"]["content_changed_services"] == 2
    assert manifest["delta"]["connection_only_services"] == 1
    assert (out / "full" / "Service" / "00003.json").exists()
    assert (out / "incremental" / "Service" / "00001.json").exists()
    assert not (out / "incremental" / "Organization").exists()


# -- articles ----------------------------------------------------------------------------


def test_article_specs_are_deterministic_and_link_internally():
    specs = list(article_specs(60, seed=1))
    assert specs == list(article_specs(60, seed=1))
    keys = {spec["key"] for spec in specs}
    allowed = {"paragraph", "heading", "callout", "faq", "link_list", "services", "internal_link"}
    for spec in specs:
        assert set(spec["translations"]) == {"fi", "sv", "en"}
        for language, translation in spec["translations"].items():
            assert len(translation["lead"]) <= 300
            assert translation["slug"].replace("-", "").isalnum() and translation["slug"].isascii()
            types = [block["type"] for block in translation["body"]]
            assert set(types) <= allowed and "paragraph" in types
            links = [
                b["value"]["article"] for b in translation["body"] if b["type"] == "internal_link"
            ]
            assert links and set(links) <= keys - {spec["key"]}, language
    for language in ("fi", "sv", "en"):
        slugs = [spec["translations"][language]["slug"] for spec in specs]
        assert len(set(slugs)) == len(slugs)
