"""Rebuilds the derived files in bench/data/ from the vendored sources (see bench/data/SOURCES.md).

    uv run python -m bench.build_data [--ptv-bulk DIR]

The generator only reads bench/data/; this script is how those files were made, so
they can be checked and refreshed. Output is deterministic (sorted, fixed float rounding).
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import math
import random
import re
from pathlib import Path
from typing import Any

from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "real"
REFERENCE = ROOT / "federation" / "data" / "reference"
DEFAULT_PTV_BULK = Path("/work/shared/fixtures/real/ptv-kunta-api-v8-bulk-2018")

VOCABULARY_SOURCES = [
    FIXTURES / "ptv-general-descriptions-2017" / "gd.json",
    FIXTURES / "ptv-auroraai" / "recommender_api" / "tests" / "test_data" / "etalukio_service.json",
    FIXTURES
    / "ptv-auroraai"
    / "recommender_api"
    / "tests"
    / "test_data"
    / "otava_service_channel.json",
    FIXTURES
    / "ptv-auroraai"
    / "recommender_api"
    / "ptv_data_loader"
    / "tests"
    / "test_data"
    / "services.json",
    FIXTURES / "ptv-releases-v11" / "OrganizationServiceChannel.json",
]
LANGUAGES = ("fi", "sv", "en")
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")

# Approximate centre (WGS84 latitude, longitude) and spread radius (km) of each wellbeing
# services county, the City of Helsinki (90) and Åland (91). Written for this generator from
# general knowledge of Finland's geography: good enough to put a municipality's generated
# places in the right part of the country, not survey data.
COUNTY_CENTRES: dict[str, tuple[float, float, float]] = {
    "01": (60.42, 25.75, 22),
    "02": (60.55, 24.95, 20),
    "03": (60.25, 24.05, 30),
    "04": (60.33, 25.05, 7),
    "05": (60.60, 22.60, 40),
    "06": (61.45, 22.05, 35),
    "07": (60.95, 24.30, 28),
    "08": (61.60, 23.75, 50),
    "09": (61.10, 25.70, 30),
    "10": (60.72, 26.80, 28),
    "11": (61.10, 28.20, 32),
    "12": (61.80, 27.80, 50),
    "13": (62.95, 27.40, 60),
    "14": (62.75, 30.00, 55),
    "15": (62.30, 25.70, 60),
    "16": (62.75, 22.90, 50),
    "17": (63.00, 21.90, 45),
    "18": (63.75, 23.60, 30),
    "19": (64.90, 25.90, 80),
    "20": (64.30, 28.20, 60),
    "21": (67.00, 26.00, 150),
    "90": (60.19, 24.94, 5),
    "91": (60.20, 19.95, 12),
}


# -- vocabulary ------------------------------------------------------------


def _draftjs(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("{") and '"blocks"' in stripped:
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError:
            return text
        return "\n".join(
            block.get("text", "") for block in document.get("blocks", []) if isinstance(block, dict)
        )
    return text


def _texts(node: Any, out: dict[str, list[str]]) -> None:
    """Every (language, text) pair of a PTV or PTV data-import document."""
    if isinstance(node, dict):
        language = node.get("language") or node.get("Lang")
        value = node.get("value") if "language" in node else node.get("Label")
        if language in out and isinstance(value, str):
            out[language].append(_draftjs(value))
        for child in node.values():
            _texts(child, out)
    elif isinstance(node, list):
        for child in node:
            _texts(child, out)


def build_vocabularies(
    sources: list[Path] = VOCABULARY_SOURCES,
) -> dict[str, list[tuple[str, int]]]:
    texts: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    for path in sources:
        _texts(json.loads(path.read_text(encoding="utf-8-sig")), texts)
    result = {}
    for language, values in texts.items():
        counts: collections.Counter[str] = collections.Counter()
        for text in values:
            counts.update(word.lower() for word in _WORD.findall(_URL.sub(" ", text)))
        result[language] = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return result


# -- municipalities ----------------------------------------------------------


def _county_mapping() -> dict[str, str]:
    raw = (REFERENCE / "municipality_to_wellbeing_service_county_codes.csv").read_bytes()
    rows = csv.reader(io.StringIO(raw.decode("cp1252")), delimiter=";")
    mapping = {}
    for row in rows:
        if len(row) >= 3 and row[0].startswith("'"):
            mapping[row[0].strip("'")] = row[2].strip("'")
    return mapping


def build_municipalities() -> dict[str, Any]:
    codes = json.loads((REFERENCE / "municipality_codes_2023.json").read_text(encoding="utf-8"))
    counties_raw = json.loads(
        (REFERENCE / "codelist_wellbeing_counties.json").read_text(encoding="utf-8")
    )
    postcodes = json.loads((REFERENCE / "postcodes.json").read_text(encoding="utf-8"))
    county_of = _county_mapping()
    by_municipality: dict[str, list[list[str]]] = collections.defaultdict(list)
    for row in postcodes:
        if row["type_code"] == "1":
            by_municipality[row["municipal_code"]].append(
                [row["postcode"], row["postcode_fi_name"], row["postcode_sv_name"]]
            )
    to_etrs = Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True)
    municipalities = []
    for item in sorted(codes["results"], key=lambda x: x["codeValue"]):
        code = item["codeValue"]
        county = county_of[code]
        lat, lon, radius_km = COUNTY_CENTRES[county]
        # A stable anchor inside the county's disc, seeded by the municipality code only.
        rng = random.Random(f"anchor:{code}")
        angle = rng.random() * 2 * math.pi
        distance = math.sqrt(rng.random()) * radius_km * 0.8 * 1000
        east, north = to_etrs.transform(lon, lat)
        east += distance * math.cos(angle)
        north += distance * math.sin(angle)
        label = item["prefLabel"]
        municipalities.append(
            {
                "code": code,
                "names": {lang: label.get(lang) or label["fi"] for lang in LANGUAGES},
                "county": county,
                "postcodes": sorted(by_municipality.get(code, [])),
                "anchor": [round(north), round(east)],
                "spread": 1500 if county in ("04", "90") else 4000,
            }
        )
    counties = [
        {"code": c["codeValue"], "names": {lang: c["prefLabel"][lang] for lang in LANGUAGES}}
        for c in counties_raw["codes"]
    ]
    return {"municipalities": municipalities, "counties": counties}


# -- PTV code lists ------------------------------------------------------------


def _collect_codes(node: Any, out: dict[str, dict[str, dict[str, Any]]]) -> None:
    if isinstance(node, dict):
        for key in ("serviceClasses", "lifeEvents", "targetGroups"):
            for entry in node.get(key) or []:
                if isinstance(entry, dict) and entry.get("code"):
                    names = {n["language"]: n["value"] for n in entry.get("name") or []}
                    known = out[key].setdefault(
                        entry["code"], {"names": names, "uri": entry.get("uri"), "count": 0}
                    )
                    known["count"] += 1
        for key in ("serviceChannels", "organizations"):
            node = {k: v for k, v in node.items() if k != key}
        for child in node.values():
            if isinstance(child, dict | list):
                _collect_codes(child, out)
    elif isinstance(node, list):
        for child in node:
            _collect_codes(child, out)


def build_codes(ptv_bulk: Path) -> dict[str, Any]:
    found: dict[str, dict[str, dict[str, Any]]] = collections.defaultdict(dict)
    services = sorted((ptv_bulk / "services").glob("*.json"))
    for path in services:
        _collect_codes(json.loads(path.read_text(encoding="utf-8-sig")), found)
    target_groups = json.loads((ROOT / "cms" / "data" / "ptv_target_groups.json").read_text())
    tg_names = {c["codeValue"]: c["prefLabel"] for c in target_groups["codes"]}
    lists = {
        "target_groups": ("targetGroups", "ptvkohderyhmat"),
        "service_classes": ("serviceClasses", "ptvserclass2"),
        "life_events": ("lifeEvents", "ptvelamantilanteet"),
    }

    def sort_key(code: str) -> list[int]:
        return [int(part) for part in code[2 if code.startswith("K") else 1 :].split(".")]

    result: dict[str, Any] = {"services_counted": len(services)}
    for name, (key, scheme) in lists.items():
        entries = []
        for code in sorted(found[key], key=sort_key):
            entry = found[key][code]
            names = entry["names"]
            if name == "target_groups" and code in tg_names:
                names = tg_names[code]
            parent = code.rsplit(".", 1)[0] if "." in code else None
            entries.append(
                {
                    "code": code,
                    "names": {lang: names.get(lang) for lang in LANGUAGES},
                    "uri": entry["uri"],
                    "new_uri": f"http://uri.suomi.fi/codelist/ptv/{scheme}/code/{code}",
                    "parent": parent,
                    "share": round(entry["count"] / len(services), 4),
                }
            )
        result[name] = entries
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ptv-bulk", type=Path, default=DEFAULT_PTV_BULK)
    args = parser.parse_args()
    for language, words in build_vocabularies().items():
        lines = [f"{word}\t{count}" for word, count in words]
        (DATA / f"vocabulary_{language}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"vocabulary_{language}.txt: {len(words)} words")
    areas = build_municipalities()
    (DATA / "areas.json").write_text(
        json.dumps(areas, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"areas.json: {len(areas['municipalities'])} municipalities")
    if args.ptv_bulk.is_dir():
        codes = build_codes(args.ptv_bulk)
        (DATA / "ptv_codes.json").write_text(
            json.dumps(codes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        print({k: len(v) for k, v in codes.items() if isinstance(v, list)})
    else:
        print(f"{args.ptv_bulk} not found: ptv_codes.json left as it is")


if __name__ == "__main__":
    main()
