"""Areas from the bundled reference files (federation/data/reference, see its SOURCES.md).

`load_areas` is idempotent: it creates what is missing, updates what changed and
leaves the rest alone. The data migration `0002_load_areas` runs it with historical
models; `manage.py load_areas` runs it again after the files are updated.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from django.db import transaction

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"
POSTAL_CODE_TYPES = {1, 2}  # ordinary and PO box codes; company and pick-up codes are left out
SPECIAL_KINDS = {"90": "city_of_helsinki", "91": "aland"}


@dataclass(frozen=True)
class AreaRow:
    code: str
    kind: str
    name: dict[str, str]
    parent_code: str | None


def _strip_code(value: str) -> str:
    return value.strip().strip('"').strip("'")


def municipality_to_county(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Statistics Finland's Windows-1252 correspondence table: "'091'" → "'90'"."""
    text = (
        (data_dir / "municipality_to_wellbeing_service_county_codes.csv")
        .read_bytes()
        .decode("cp1252")
    )
    lines = [line for line in text.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if line.startswith("sourcecode;"))
    mapping = {}
    for row in csv.reader(io.StringIO("\n".join(lines[header + 1 :])), delimiter=";"):
        if len(row) >= 3:
            mapping[_strip_code(row[0])] = _strip_code(row[2])
    return mapping


def area_rows(data_dir: Path = DATA_DIR) -> list[AreaRow]:
    """Counties (with Helsinki and Åland) first, then the 309 municipalities."""
    counties = orjson.loads((data_dir / "codelist_wellbeing_counties.json").read_bytes())["codes"]
    municipalities = orjson.loads((data_dir / "municipality_codes_2023.json").read_bytes())[
        "results"
    ]
    mapping = municipality_to_county(data_dir)
    rows = [
        AreaRow(
            code=item["codeValue"],
            kind=SPECIAL_KINDS.get(item["codeValue"], "wellbeing_services_county"),
            name=_names(item["prefLabel"]),
            parent_code=None,
        )
        for item in sorted(counties, key=lambda item: item["codeValue"])
    ]
    rows.extend(
        AreaRow(
            code=item["codeValue"],
            kind="municipality",
            name=_names(item["prefLabel"]),
            parent_code=mapping[item["codeValue"]],
        )
        for item in sorted(municipalities, key=lambda item: item["codeValue"])
    )
    return rows


def _names(labels: dict[str, Any]) -> dict[str, str]:
    return {lang: labels[lang] for lang in ("fi", "sv", "en") if labels.get(lang)}


def postal_code_rows(data_dir: Path = DATA_DIR) -> list[dict[str, Any]]:
    rows = []
    for item in orjson.loads((data_dir / "postcodes.json").read_bytes()):
        if int(item["type_code"]) not in POSTAL_CODE_TYPES:
            continue
        name = {"fi": item["postcode_fi_name"].title()}
        if item.get("postcode_sv_name"):
            name["sv"] = item["postcode_sv_name"].title()
        rows.append(
            {
                "code": item["postcode"],
                "name": name,
                "type_code": int(item["type_code"]),
                "municipality_code": item["municipal_code"],
            }
        )
    return rows


@transaction.atomic
def load_areas(*, area_model: Any = None, postal_code_model: Any = None) -> dict[str, int]:
    """Creates or updates every area and postal code; returns how many rows were written.

    Takes the models so the data migration can pass its historical ones.
    """
    if area_model is None or postal_code_model is None:
        from federation.models import Area, PostalCode

        area_model, postal_code_model = area_model or Area, postal_code_model or PostalCode
    written = {"areas": 0, "postal_codes": 0}
    existing = {area.code: area for area in area_model.objects.all()}
    for level in ("county", "municipality"):
        rows = [
            row for row in area_rows() if (row.kind == "municipality") == (level == "municipality")
        ]
        create, update = [], []
        for row in rows:
            parent_id = existing[row.parent_code].pk if row.parent_code else None
            area = existing.get(row.code)
            if area is None:
                create.append(
                    area_model(code=row.code, kind=row.kind, name=row.name, parent_id=parent_id)
                )
            elif (area.kind, area.name, area.parent_id) != (row.kind, row.name, parent_id):
                area.kind, area.name, area.parent_id = row.kind, row.name, parent_id
                update.append(area)
        area_model.objects.bulk_create(create)
        area_model.objects.bulk_update(update, ["kind", "name", "parent"])
        written["areas"] += len(create) + len(update)
        existing = {area.code: area for area in area_model.objects.all()}

    known = {code: area.pk for code, area in existing.items() if area.kind == "municipality"}
    current = {postal.code: postal for postal in postal_code_model.objects.all()}
    create, update = [], []
    for row in postal_code_rows():
        municipality_id = known.get(row["municipality_code"])
        if municipality_id is None:
            continue
        postal = current.get(row["code"])
        values = (row["name"], row["type_code"], municipality_id)
        if postal is None:
            create.append(
                postal_code_model(
                    code=row["code"],
                    name=row["name"],
                    type_code=row["type_code"],
                    municipality_id=municipality_id,
                )
            )
        elif (postal.name, postal.type_code, postal.municipality_id) != values:
            postal.name, postal.type_code, postal.municipality_id = values
            update.append(postal)
    postal_code_model.objects.bulk_create(create, batch_size=1000)
    postal_code_model.objects.bulk_update(
        update, ["name", "type_code", "municipality"], batch_size=1000
    )
    written["postal_codes"] = len(create) + len(update)
    return written
