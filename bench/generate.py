"""Deterministic PTV v11 and HSDS 3.0 test feeds for the benchmarks.

    uv run python -m bench.generate --services 10000 --seed 42 --format ptv --out var/bench/ptv-10k
    uv run python -m bench.generate --services 10000 --delta-from 42 --changed 0.01 \\
        --connection-only-share 0.3 --format ptv --out var/bench/ptv-10k-delta

In process:

    from bench.generate import Dataset
    data = Dataset(services=10_000, seed=42)
    for entity, document in data.ptv_documents():   # ("Service", b'[{…}, …]'), ≤ 100 records
        ...
    for page in data.hsds_pages(): ...               # b'{"total_items": …, "contents": [...]}'
    delta = data.delta(changed=0.01, connection_only_share=0.3)
    delta.ptv_documents(incremental=True)            # only records with modified ≥ watermark

Every record is a pure function of (seed, kind, index), so records are generated one at a
time in any order and nothing grows with N except a few small per-organisation arrays:
200k services stream in constant memory. Layout: organisations own contiguous blocks of
services and of channels; a service links only to channels of its own organisation, so a
channel's `services` list is found by looking at one organisation's services.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import math
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson
from pyproj import Transformer

from bench.vocabulary import vocabulary

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("fi", "sv", "en")
ENTITIES = ("Organization", "Service", "ServiceChannel")
BATCH = 100
# The moment the base feed was taken; every base `modified` is before it. Deltas change
# records after it, so it is also the watermark of the incremental feed.
BASE_TIME = datetime(2025, 5, 1, 12, 0, 0)
HISTORY = timedelta(days=4 * 365)

# Calibration (see bench/README.md): language shares of names/descriptions, area scope.
SV_SHARE = 0.5
EN_SHARE = 1 / 3
AREA_SHARES = (("nationwide", 0.10), ("county", 0.25), ("municipality", 0.65))
SERVICES_PER_ORGANIZATION = 70
CHANNELS_PER_SERVICE = 1.3
LINKS_PER_SERVICE = (1, 2, 2, 3, 3, 4)  # real PTV: median 3, long tail
CHANNEL_KINDS = (
    ("ServiceLocation", 0.40),
    ("WebPage", 0.28),
    ("Phone", 0.20),
    ("EChannel", 0.06),
    ("PrintableForm", 0.06),
)
ORGANIZATION_TYPES = (
    ("Municipality", 0.45),
    ("WellbeingServiceCounty", 0.10),
    ("Organization", 0.30),
    ("Company", 0.15),
)
DEPARTMENTS = (
    ("Perhekeskus", "Familjecentralen", "Family centre"),
    ("Sivistyspalvelut", "Bildningstjänster", "Education services"),
    ("Varhaiskasvatus", "Småbarnspedagogik", "Early childhood education"),
    ("Nuorisopalvelut", "Ungdomstjänster", "Youth services"),
    ("Kirjasto", "Biblioteket", "Library"),
    ("Liikuntapalvelut", "Idrottstjänster", "Sports services"),
    ("Kunta", "Kommun", "Municipality"),
)
NGO_KINDS = (
    ("Perheyhdistys", "Familjeföreningen", "Family association"),
    ("Vanhempainyhdistys", "Föräldraföreningen", "Parents' association"),
    ("Nuorisoseura", "Ungdomsföreningen", "Youth society"),
    ("Seurakunta", "Församlingen", "Parish"),
    ("Vertaistukiyhdistys", "Kamratstödsföreningen", "Peer support association"),
)
COMPANY_KINDS = (
    ("Perhepalvelu", "Familjeservice", "Family services"),
    ("Terapiakeskus", "Terapicentret", "Therapy centre"),
    ("Lääkäriasema", "Läkarstationen", "Medical centre"),
)
PLACE_KINDS = (
    ("Neuvola", "Rådgivningen", "Child health clinic"),
    ("Perhekeskus", "Familjecentralen", "Family centre"),
    ("Kirjasto", "Biblioteket", "Library"),
    ("Terveysasema", "Hälsostationen", "Health centre"),
    ("Kohtaamispaikka", "Mötesplatsen", "Meeting place"),
    ("Nuorisotila", "Ungdomsgården", "Youth centre"),
    ("Päiväkoti", "Daghemmet", "Day-care centre"),
    ("Koulu", "Skolan", "School"),
    ("Palvelupiste", "Servicepunkten", "Service point"),
    ("Perheneuvola", "Familjerådgivningen", "Family counselling centre"),
)
STREETS = (
    ("Koulukatu", "Skolgatan"),
    ("Asemakatu", "Stationsgatan"),
    ("Kirkkotie", "Kyrkvägen"),
    ("Rantatie", "Strandvägen"),
    ("Puistokatu", "Parkgatan"),
    ("Kauppakatu", "Handelsgatan"),
    ("Myllytie", "Kvarnvägen"),
    ("Sairaalantie", "Sjukhusvägen"),
    ("Keskuskatu", "Centralgatan"),
    ("Torikatu", "Torggatan"),
    ("Koivukuja", "Björkgränden"),
    ("Mäntytie", "Tallvägen"),
    ("Kuusitie", "Granvägen"),
    ("Pappilantie", "Prästgårdsvägen"),
    ("Urheilutie", "Idrottsvägen"),
    ("Satamatie", "Hamnvägen"),
    ("Peltotie", "Åkervägen"),
    ("Järvitie", "Sjövägen"),
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HSDS_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
OPENING_PATTERNS = (  # (opens, closes) Monday–Friday; weighted by repetition
    ("08:00", "16:00"),
    ("08:00", "16:00"),
    ("08:00", "15:30"),
    ("09:00", "15:00"),
    ("07:30", "17:00"),
    ("10:00", "18:00"),
    ("12:00", "20:00"),
)
PHONE_PREFIXES = ("40", "50", "44", "45", "9", "2", "3", "5", "6", "8", "13", "14", "15", "17")
PTV_API = "https://api.palvelutietovaranto.suomi.fi/api/v11"


# -- reference data ------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    code: str
    names: dict[str, str]
    uri: str | None
    new_uri: str
    parent: str | None
    share: float


@dataclass(frozen=True)
class Reference:
    municipalities: list[dict[str, Any]]
    municipality_cum: list[float]  # weights: ordinary postal codes (a size proxy)
    by_code: dict[str, dict[str, Any]]
    counties: dict[str, dict[str, Any]]
    county_members: dict[str, list[str]]
    codes: dict[str, list[Code]]
    code_cum: dict[str, list[float]]


@lru_cache(maxsize=1)
def reference() -> Reference:
    areas = json.loads((DATA / "areas.json").read_text(encoding="utf-8"))
    municipalities = areas["municipalities"]
    members: dict[str, list[str]] = {}
    for municipality in municipalities:
        members.setdefault(municipality["county"], []).append(municipality["code"])
    raw_codes = json.loads((DATA / "ptv_codes.json").read_text(encoding="utf-8"))
    codes = {
        name: [Code(**entry) for entry in raw_codes[name]]
        for name in ("target_groups", "service_classes", "life_events")
    }
    return Reference(
        municipalities=municipalities,
        municipality_cum=list(accumulate(max(1, len(m["postcodes"])) for m in municipalities)),
        by_code={m["code"]: m for m in municipalities},
        counties={c["code"]: c for c in areas["counties"]},
        county_members=members,
        codes=codes,
        code_cum={
            name: list(accumulate(max(c.share, 0.001) for c in entries))
            for name, entries in codes.items()
        },
    )


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)


def etrs_to_wgs84(north: float, east: float) -> tuple[float, float]:
    longitude, latitude = _to_wgs84().transform(east, north)
    return round(latitude, 6), round(longitude, 6)


# -- small helpers -----------------------------------------------------------------


def stable_uuid(*parts: object) -> str:
    """A UUID4-shaped id from a seeded hash: same parts, same id, on every machine."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _rng(*parts: object) -> random.Random:
    return random.Random("|".join(map(str, parts)))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random()
    for value, share in weighted:
        roll -= share
        if roll < 0:
            return value
    return weighted[-1][0]


def _slug(text: str) -> str:
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "é": "e", "ü": "u", "'": ""})
    out = "".join(
        ch if ch.isascii() and ch.isalnum() else "-" for ch in text.lower().translate(table)
    )
    return "-".join(part for part in out.split("-") if part)


def business_id(rng: random.Random) -> str:
    """A Finnish Y-tunnus with a valid check digit."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(7)]
        digits[0] = rng.randint(1, 3)
        remainder = sum(d * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if remainder == 1:
            continue
        check = 0 if remainder == 0 else 11 - remainder
        return "".join(map(str, digits)) + f"-{check}"


def ptv_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _texts(values: dict[str, str], kind: str) -> list[dict[str, Any]]:
    return [{"language": lang, "value": value, "type": kind} for lang, value in values.items()]


def _named(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"value": value, "language": lang} for lang, value in values.items()]


# -- changes (deltas) ---------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """What a delta changes relative to the base feed of the same seed.

    `content`: services whose text changed (their `modified` moves past the watermark);
    `connection`: services whose channel links changed WITHOUT any `modified` moving, as
    PTV behaves; `hours`: location channels whose opening hours changed (modified moves).
    """

    seed: int
    content: frozenset[int] = frozenset()
    connection: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    at: datetime = BASE_TIME + timedelta(hours=20)
    watermark: datetime = BASE_TIME

    @property
    def services(self) -> frozenset[int]:
        return self.content | self.connection


# -- the dataset ---------------------------------------------------------------------


@dataclass
class Dataset:
    """A whole PTV catalogue of `services` services, generated on demand from `seed`."""

    services: int
    seed: int = 42
    channels_per_service: float = CHANNELS_PER_SERVICE
    services_per_organization: int = SERVICES_PER_ORGANIZATION
    changes: Changes | None = None
    service_bounds: list[int] = field(init=False, repr=False)
    channel_bounds: list[int] = field(init=False, repr=False)
    _organizations: dict[int, dict[str, Any]] = field(init=False, repr=False, compare=False)
    _heads: dict[int, dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.services < 1:
            raise ValueError("services must be at least 1")
        self._organizations = {}
        self._heads = {}
        rng = _rng(self.seed, "layout", self.services)
        count = max(3, round(self.services / self.services_per_organization))
        count = min(count, self.services)
        # Organisation sizes vary a lot (log-normal), as in PTV; every one has a service.
        weights = [math.exp(rng.gauss(0, 1.0)) for _ in range(count)]
        total = sum(weights)
        spare = self.services - count
        sizes = [1 + math.floor(spare * w / total) for w in weights]
        for index in range(self.services - sum(sizes)):
            sizes[index % count] += 1
        self.service_bounds = [0, *accumulate(sizes)]
        self.channel_bounds = [
            0,
            *accumulate(max(2, round(size * self.channels_per_service)) for size in sizes),
        ]

    # -- layout --------------------------------------------------------------

    @property
    def organizations(self) -> int:
        return len(self.service_bounds) - 1

    @property
    def channels(self) -> int:
        return self.channel_bounds[-1]

    def organization_of_service(self, index: int) -> int:
        return bisect.bisect_right(self.service_bounds, index) - 1

    def organization_of_channel(self, index: int) -> int:
        return bisect.bisect_right(self.channel_bounds, index) - 1

    def service_id(self, index: int) -> str:
        return stable_uuid(self.seed, "service", index)

    def channel_id(self, index: int) -> str:
        return stable_uuid(self.seed, "channel", index)

    def organization_id(self, index: int) -> str:
        return stable_uuid(self.seed, "organization", index)

    # -- deltas --------------------------------------------------------------

    def delta(
        self,
        changed: float = 0.01,
        connection_only_share: float = 0.3,
        *,
        seed: int | None = None,
        hours_share: float = 0.5,
    ) -> Dataset:
        """The same catalogue with `changed` of its services changed (see `Changes`)."""
        delta_seed = self.seed if seed is None else seed
        rng = _rng(self.seed, "delta", delta_seed, changed, connection_only_share)
        chosen = rng.sample(range(self.services), round(self.services * changed))
        split = round(len(chosen) * connection_only_share)
        content = frozenset(chosen[split:])
        hours = set()
        base = Dataset(
            self.services, self.seed, self.channels_per_service, self.services_per_organization
        )
        for index in sorted(content):
            if rng.random() < hours_share:
                located = [
                    j for j in base.links(index) if base.channel_kind(j) == "ServiceLocation"
                ]
                if located:
                    hours.add(located[0])
        return Dataset(
            self.services,
            self.seed,
            self.channels_per_service,
            self.services_per_organization,
            changes=Changes(
                seed=delta_seed,
                content=content,
                connection=frozenset(chosen[:split]),
                hours=frozenset(hours),
            ),
        )

    # -- organisations ------------------------------------------------------------

    def organization(self, k: int) -> dict[str, Any]:
        """Organisation `k` (cached: there are about services / 70 of them)."""
        cached = self._organizations.get(k)
        if cached is None:
            cached = self._organizations[k] = self._make_organization(k)
        return cached

    def _make_organization(self, k: int) -> dict[str, Any]:
        ref = reference()
        rng = _rng(self.seed, "o", k)
        kind = _pick(rng, ORGANIZATION_TYPES)
        municipality = rng.choices(ref.municipalities, cum_weights=ref.municipality_cum)[0]
        county = ref.counties[municipality["county"]]
        m_names = municipality["names"]
        if kind == "WellbeingServiceCounty":
            names = dict(county["names"])
        elif kind == "Municipality":
            dept = rng.choice(DEPARTMENTS)
            names = {lang: f"{dept[n]} {m_names[lang]}" for n, lang in enumerate(LANGUAGES)}
        elif kind == "Organization":
            ngo = rng.choice(NGO_KINDS)
            names = {lang: f"{ngo[n]} {m_names[lang]} ry" for n, lang in enumerate(LANGUAGES)}
        else:
            company = rng.choice(COMPANY_KINDS)
            word = vocabulary("fi").word(rng).capitalize()
            names = {lang: f"{company[n]} {word} Oy" for n, lang in enumerate(LANGUAGES)}
        languages = ["fi"]
        if rng.random() < SV_SHARE:
            languages.append("sv")
        if rng.random() < EN_SHARE:
            languages.append("en")
        domain = f"{_slug(names['fi'])}.fi"
        modified = BASE_TIME - HISTORY * rng.random()
        return {
            "index": k,
            "id": self.organization_id(k),
            "kind": kind,
            "municipality": municipality["code"],
            "county": municipality["county"],
            "names": {lang: names[lang] for lang in languages},
            "languages": languages,
            "domain": domain,
            "business_id": business_id(rng),
            "phone": _phone(rng),
            "description": {
                lang: vocabulary(lang).sentences(rng, rng.randint(2, 4)) for lang in languages
            },
            "modified": modified,
        }

    def ptv_organization(self, k: int) -> dict[str, Any]:
        org = self.organization(k)
        municipality = reference().by_code[org["municipality"]]
        return {
            "id": org["id"],
            "sourceId": None,
            "oid": None,
            "parentOrganizationId": None,
            "organizationRootId": org["id"],
            "organizationType": org["kind"],
            "businessCode": org["business_id"],
            "businessName": org["names"]["fi"],
            "organizationNames": _texts(org["names"], "Name"),
            "displayNameType": [{"type": "Name", "language": lang} for lang in org["languages"]],
            "areaType": "LimitedType",
            "areas": [],
            "organizationDescriptions": _texts(org["description"], "Description"),
            "emails": [{"value": f"info@{org['domain']}", "language": "fi"}],
            "phoneNumbers": [_ptv_phone(org["phone"], None, "fi")],
            "webPages": [
                {
                    "url": f"https://www.{org['domain']}/",
                    "value": org["names"]["fi"],
                    "language": "fi",
                }
            ],
            "addresses": [],
            "municipality": {"code": municipality["code"], "name": _named(municipality["names"])},
            "publishingStatus": "Published",
            "modified": ptv_time(org["modified"]),
        }

    # -- services ------------------------------------------------------------------

    def service_head(self, i: int) -> dict[str, Any]:
        """Organisation, area, languages, classification and names of service `i`."""
        head = self._heads.get(i)
        if head is None:
            if len(self._heads) > 4096:
                self._heads.clear()
            head = self._heads[i] = self._make_service_head(i)
        return head

    def _make_service_head(self, i: int) -> dict[str, Any]:
        ref = reference()
        k = self.organization_of_service(i)
        org = self.organization(k)
        rng = _rng(self.seed, "s", i)
        area = _pick(rng, AREA_SHARES)
        languages = ["fi"]
        if rng.random() < SV_SHARE:
            languages.append("sv")
        if rng.random() < EN_SHARE:
            languages.append("en")
        classes = _codes(
            rng, ref, "service_classes", 1 + (rng.random() < 0.3) + (rng.random() < 0.06)
        )
        groups = _codes(rng, ref, "target_groups", 1 + (rng.random() < 0.4) + (rng.random() < 0.1))
        events = _codes(rng, ref, "life_events", (rng.random() < 0.05) + 0)
        municipality = ref.by_code[org["municipality"]]
        primary = classes[0].names
        names = {}
        for lang in languages:
            word = vocabulary(lang).word(rng)
            label = primary.get(lang) or primary["fi"]
            if lang == "fi":
                name = f"{word.capitalize()} {label[:1].lower()}{label[1:]}"
            else:
                name = f"{label} – {word}"
            if area == "municipality":
                name += f", {municipality['names'][lang]}"
            names[lang] = name
        return {
            "index": i,
            "id": self.service_id(i),
            "organization": k,
            "area": area,
            "municipality": municipality["code"],
            "county": municipality["county"],
            "languages": languages,
            "names": names,
            "service_classes": classes,
            "target_groups": groups,
            "life_events": events,
        }

    def service(self, i: int) -> dict[str, Any]:
        """The generator's own model of service `i` (format-independent)."""
        head = self.service_head(i)
        languages = head["languages"]
        body = _rng(self.seed, "s", i, "body")
        texts: dict[str, dict[str, str]] = {"summary": {}, "description": {}, "instruction": {}}
        keywords: dict[str, list[str]] = {}
        has_instruction = body.random() < 0.6
        for lang in languages:
            words = vocabulary(lang)
            texts["summary"][lang] = words.sentence(body, 8, 14)
            texts["description"][lang] = words.paragraphs(body, body.randint(1, 3), (1, 3))
            if has_instruction:
                texts["instruction"][lang] = words.sentences(body, body.randint(1, 3))
            keywords[lang] = words.keywords(body, body.randint(1, 3))
        modified = BASE_TIME - HISTORY * body.random()
        if self.changes is not None and i in self.changes.content:
            edit = _rng(self.seed, "s", i, "edit", self.changes.seed)
            for lang in languages:
                texts["description"][lang] += " " + vocabulary(lang).sentence(edit)
            modified = self.changes.at + timedelta(seconds=edit.randint(0, 3600))
        return {
            **head,
            "type": "PermitOrObligation" if body.random() < 0.05 else "Service",
            "charge": body.choice(("FreeOfCharge", "FreeOfCharge", "Chargeable", None)),
            "self_produced": body.random() < 0.4,
            "keywords": keywords,
            **texts,
            "links": self.links(i),
            "modified": modified,
        }

    def service_name(self, i: int) -> str:
        return self.service_head(i)["names"]["fi"]

    def links(self, i: int) -> list[int]:
        """Channel indexes service `i` links to, all within its organisation."""
        k = self.organization_of_service(i)
        first, last = self.channel_bounds[k], self.channel_bounds[k + 1]
        rng = _rng(self.seed, "links", i)
        count = min(rng.choice(LINKS_PER_SERVICE), last - first)
        chosen = sorted(rng.sample(range(first, last), count))
        if self.changes is not None and i in self.changes.connection:
            edit = _rng(self.seed, "relink", i, self.changes.seed)
            if len(chosen) >= 2 and edit.random() < 0.5:
                chosen.pop(edit.randrange(len(chosen)))
            else:
                spare = [j for j in range(first, last) if j not in chosen]
                if spare:
                    chosen = sorted([*chosen, edit.choice(spare)])
                else:
                    chosen.pop(edit.randrange(len(chosen)))
        return chosen

    def channel_services(self, k: int) -> dict[int, list[int]]:
        """{channel index: [service indexes]} for organisation `k`."""
        inverse: dict[int, list[int]] = {
            j: [] for j in range(self.channel_bounds[k], self.channel_bounds[k + 1])
        }
        for i in range(self.service_bounds[k], self.service_bounds[k + 1]):
            for j in self.links(i):
                inverse[j].append(i)
        return inverse

    def ptv_service(self, i: int, *, service: dict[str, Any] | None = None) -> dict[str, Any]:
        s = service or self.service(i)
        org = self.organization(s["organization"])
        ref = reference()
        descriptions: list[dict[str, Any]] = []
        for lang in s["languages"]:
            descriptions.append({"language": lang, "value": s["summary"][lang], "type": "Summary"})
            descriptions.append(
                {"language": lang, "value": s["description"][lang], "type": "Description"}
            )
            if lang in s["instruction"]:
                descriptions.append(
                    {"language": lang, "value": s["instruction"][lang], "type": "UserInstruction"}
                )
        descriptions.append({"language": "fi", "value": None, "type": "ChargeTypeAdditionalInfo"})
        if s["area"] == "nationwide":
            area_type, areas = "Nationwide", []
        elif s["area"] == "county":
            county = ref.counties[s["county"]]
            area_type = "LimitedType"
            areas = [
                {
                    "type": "WellbeingServiceCounty",
                    "code": county["code"],
                    "name": _named(county["names"]),
                    "municipalities": [
                        {"code": code, "name": _named(ref.by_code[code]["names"])}
                        for code in ref.county_members[s["county"]]
                    ],
                }
            ]
        else:
            area_type = "LimitedType"
            areas = [
                {
                    "type": "Municipality",
                    "code": None,
                    "name": None,
                    "municipalities": [
                        {
                            "code": s["municipality"],
                            "name": _named(ref.by_code[s["municipality"]]["names"]),
                        }
                    ],
                }
            ]
        links = []
        for j in s["links"]:
            channel = self.channel_head(j)
            links.append(
                {
                    "serviceChannel": {"id": channel["id"], "name": channel["names"]["fi"]},
                    "serviceChargeType": None,
                    "description": [],
                    "extraTypes": [],
                    "serviceHours": [],
                    "contactDetails": None,
                    "digitalAuthorizations": [],
                    "modified": ptv_time(min(s["modified"], channel["created"])),
                }
            )
        org_ref = {"id": org["id"], "name": org["names"]["fi"]}
        return {
            "id": s["id"],
            "sourceId": None,
            "generalDescriptionId": None,
            "subType": None,
            "type": s["type"],
            "fundingType": "MarketFunded" if org["kind"] == "Company" else "PubliclyFunded",
            "serviceNames": _texts(s["names"], "Name"),
            "serviceChargeType": s["charge"],
            "areaType": area_type,
            "areas": areas,
            "serviceDescriptions": descriptions,
            "languages": s["languages"],
            "serviceClasses": [_ptv_code(c, "ptvserclass2") for c in s["service_classes"]],
            "ontologyTerms": [],
            "targetGroups": [_ptv_code(c, "ptvkohderyhmat") for c in s["target_groups"]],
            "lifeEvents": [_ptv_code(c, "ptvelamantilanteet") for c in s["life_events"]],
            "industrialClasses": [],
            "legislation": [],
            "keywords": [
                {"value": word, "language": lang}
                for lang, words in s["keywords"].items()
                for word in words
            ],
            "requirements": [],
            "serviceChannels": links,
            "organizations": [
                {
                    "organization": org_ref,
                    "roleType": "Responsible",
                    "provisionType": None,
                    "additionalInformation": [],
                },
                *(
                    [
                        {
                            "organization": org_ref,
                            "roleType": "Producer",
                            "provisionType": "SelfProducedServices",
                            "additionalInformation": [],
                        }
                    ]
                    if s["self_produced"]
                    else []
                ),
            ],
            "serviceVouchersInUse": False,
            "serviceVouchers": [],
            "serviceCollections": [],
            "publishingStatus": "Published",
            "modified": ptv_time(s["modified"]),
            "responsibleSoteOrganization": None,
        }

    # -- channels ------------------------------------------------------------------

    def channel_kind(self, j: int) -> str:
        return _pick(_rng(self.seed, "c", j), CHANNEL_KINDS)

    def channel_head(self, j: int) -> dict[str, Any]:
        """Id, kind, names and place of channel `j`: what a link to it needs."""
        rng = _rng(self.seed, "c", j)
        kind = _pick(rng, CHANNEL_KINDS)
        k = self.organization_of_channel(j)
        org = self.organization(k)
        municipality = reference().by_code[org["municipality"]]
        languages = ["fi"]
        if rng.random() < SV_SHARE:
            languages.append("sv")
        if rng.random() < EN_SHARE:
            languages.append("en")
        street = rng.choice(STREETS)
        if kind == "ServiceLocation":
            place = rng.choice(PLACE_KINDS)
            names = {
                lang: f"{place[n]} {municipality['names'][lang]}, {street[1] if lang == 'sv' else street[0]}"
                for n, lang in enumerate(LANGUAGES)
            }
        elif kind == "Phone":
            labels = ("puhelinneuvonta", "telefonrådgivning", "telephone advice")
            names = {
                lang: f"{org['names'].get(lang, org['names']['fi'])} {labels[n]}"
                for n, lang in enumerate(LANGUAGES)
            }
        elif kind == "WebPage":
            labels = ("verkkosivut", "webbplats", "website")
            names = {
                lang: f"{org['names'].get(lang, org['names']['fi'])} {labels[n]}"
                for n, lang in enumerate(LANGUAGES)
            }
        else:
            labels = (
                ("sähköinen asiointi", "e-tjänst", "e-service")
                if kind == "EChannel"
                else ("lomake", "blankett", "form")
            )
            word = vocabulary("fi").word(rng)
            names = {lang: f"{word.capitalize()}: {labels[n]}" for n, lang in enumerate(LANGUAGES)}
        return {
            "index": j,
            "id": self.channel_id(j),
            "organization": k,
            "kind": kind,
            "languages": languages,
            "names": {lang: names[lang] for lang in languages},
            "municipality": municipality["code"],
            "street": street,
            "created": BASE_TIME - HISTORY * rng.random(),
        }

    def channel(self, j: int) -> dict[str, Any]:
        """The generator's own model of channel `j` (without its service list)."""
        head = self.channel_head(j)
        org = self.organization(head["organization"])
        rng = _rng(self.seed, "c", j, "body")
        municipality = reference().by_code[head["municipality"]]
        texts = {"summary": {}, "description": {}}
        for lang in head["languages"]:
            words = vocabulary(lang)
            texts["summary"][lang] = words.sentence(rng, 6, 12)
            texts["description"][lang] = words.sentences(rng, rng.randint(1, 3))
        modified = head["created"] + (BASE_TIME - head["created"]) * rng.random()
        model: dict[str, Any] = {**head, **texts, "modified": modified}
        model["phones"] = []
        model["emails"] = []
        model["urls"] = []
        model["hours"] = []
        model["always_open"] = False
        model["closed_days"] = []
        kind = head["kind"]
        if kind in ("ServiceLocation", "Phone"):
            model["phones"] = [_phone(rng) for _ in range(rng.choice((1, 1, 2)))]
            pattern = rng.choice(OPENING_PATTERNS)
            model["always_open"] = rng.random() < 0.03
            model["hours"] = [(day, *pattern) for day in range(5)]
            if rng.random() < 0.3:
                model["hours"][1] = (1, pattern[0], "19:00")
            if rng.random() < 0.2:
                model["hours"].append((5, "10:00", "14:00"))
            if rng.random() < 0.4:
                model["closed_days"] = [f"{BASE_TIME.year}-12-24", f"{BASE_TIME.year}-12-25"]
            if self.changes is not None and j in self.changes.hours:
                edit = _rng(self.seed, "hours", j, self.changes.seed)
                day = edit.randrange(len(model["hours"]))
                weekday, opens, closes = model["hours"][day]
                model["hours"][day] = (weekday, opens, "14:00" if closes != "14:00" else "15:00")
                model["modified"] = self.changes.at + timedelta(seconds=edit.randint(0, 3600))
        if kind == "ServiceLocation":
            postcodes = municipality["postcodes"] or [
                ["00000", municipality["names"]["fi"].upper(), municipality["names"]["sv"].upper()]
            ]
            model["postcode"] = rng.choice(postcodes[:12])
            model["street_number"] = str(rng.randint(1, 60)) + rng.choice(("", "", "", " A", " B"))
            spread = municipality["spread"]
            north = municipality["anchor"][0] + rng.uniform(-spread, spread)
            east = municipality["anchor"][1] + rng.uniform(-spread, spread)
            model["point"] = (round(north, 3), round(east, 3))
            model["emails"] = [f"{_slug(head['names']['fi'])[:30]}@{org['domain']}"]
        if kind in ("WebPage", "EChannel", "PrintableForm"):
            path = _slug(head["names"]["fi"])[:40]
            suffix = ".pdf" if kind == "PrintableForm" else ""
            model["urls"] = [
                {"url": f"https://www.{org['domain']}/{lang}/{path}{suffix}", "language": lang}
                for lang in head["languages"]
            ]
        return model

    def ptv_channel(self, j: int, services: list[int]) -> dict[str, Any]:
        c = self.channel(j)
        municipality = reference().by_code[c["municipality"]]
        service_links = []
        for i in services:
            service_links.append(
                {
                    "service": {"id": self.service_id(i), "name": self.service_name(i)},
                    "serviceChargeType": None,
                    "description": [],
                    "extraTypes": [],
                    "serviceHours": [],
                    "contactDetails": None,
                    "digitalAuthorizations": [],
                    "modified": ptv_time(c["created"]),
                }
            )
        hours: list[dict[str, Any]] = []
        if c["hours"] or c["always_open"]:
            hours.append(
                {
                    "serviceHourType": "DaysOfTheWeek",
                    "validFrom": None,
                    "validTo": None,
                    "isClosed": False,
                    "validForNow": True,
                    "isAlwaysOpen": c["always_open"],
                    "isReservation": False,
                    "additionalInformation": [],
                    "openingHour": []
                    if c["always_open"]
                    else [
                        {
                            "dayFrom": WEEKDAYS[day],
                            "dayTo": "",
                            "from": f"{opens}:00",
                            "to": f"{closes}:00",
                        }
                        for day, opens, closes in c["hours"]
                    ],
                }
            )
        for day in c["closed_days"]:
            hours.append(
                {
                    "serviceHourType": "Exceptional",
                    "validFrom": f"{day}T00:00:00",
                    "validTo": f"{day}T00:00:00",
                    "isClosed": True,
                    "validForNow": False,
                    "isAlwaysOpen": False,
                    "isReservation": False,
                    "additionalInformation": [],
                    "openingHour": [],
                }
            )
        addresses = []
        if c["kind"] == "ServiceLocation":
            bilingual = municipality["names"]["sv"] != municipality["names"]["fi"]
            street_fi, street_sv = c["street"]
            postcode, office_fi, office_sv = c["postcode"]
            addresses.append(
                {
                    "type": "Location",
                    "subType": "Single",
                    "postOfficeBoxAddress": None,
                    "streetAddress": {
                        "street": [
                            {"value": street_fi, "language": "fi"},
                            {"value": street_sv if bilingual else street_fi, "language": "sv"},
                            {"value": street_fi, "language": "en"},
                        ],
                        "streetNumber": c["street_number"],
                        "postalCode": postcode,
                        "postOffice": [
                            {"value": office_sv, "language": "sv"},
                            {"value": office_fi, "language": "en"},
                            {"value": office_fi, "language": "fi"},
                        ],
                        "municipality": {
                            "code": municipality["code"],
                            "name": _named(municipality["names"]),
                        },
                        "additionalInformation": [],
                        "latitude": f"{c['point'][0]:.3f}",
                        "longitude": f"{c['point'][1]:.3f}",
                        "coordinateState": "Ok",
                    },
                    "otherAddress": None,
                    "locationAbroad": None,
                    "entrances": [],
                    "country": "FI",
                }
            )
        descriptions = []
        for lang in c["languages"]:
            descriptions.append({"language": lang, "value": c["summary"][lang], "type": "Summary"})
            descriptions.append(
                {"language": lang, "value": c["description"][lang], "type": "Description"}
            )
        area_type, areas = (
            "LimitedType",
            [
                {
                    "type": "Municipality",
                    "code": None,
                    "name": None,
                    "municipalities": [
                        {"code": municipality["code"], "name": _named(municipality["names"])}
                    ],
                }
            ],
        )
        return {
            "id": c["id"],
            "sourceId": None,
            "oid": None,
            "serviceChannelType": c["kind"],
            "organizationId": self.organization_id(c["organization"]),
            "serviceChannelNames": _texts(c["names"], "Name"),
            "displayNameType": [{"type": "Name", "language": lang} for lang in c["languages"]],
            "serviceChannelDescriptions": descriptions,
            "areaType": area_type,
            "areas": areas,
            "phoneNumbers": [_ptv_phone(phone, None, "fi") for phone in c["phones"]],
            "emails": [{"value": email, "language": "fi"} for email in c["emails"]],
            "languages": c["languages"],
            "webPages": [
                {"url": u["url"], "value": c["names"].get(u["language"]), "language": u["language"]}
                for u in c["urls"]
            ],
            "addresses": addresses,
            "serviceHours": hours,
            "services": service_links,
            "publishingStatus": "Published",
            "modified": ptv_time(c["modified"]),
            "responsibleSoteOrganization": None,
            "ontologyTerms": [],
        }

    # -- PTV streams -----------------------------------------------------------------

    def _service_changed(self, i: int) -> bool:
        return self.changes is not None and i in self.changes.content

    def _channel_changed(self, j: int) -> bool:
        return self.changes is not None and j in self.changes.hours

    def ptv_records(self, entity: str, *, incremental: bool = False) -> Iterator[dict[str, Any]]:
        """Full PTV records of one entity, in index order.

        `incremental` keeps only records with `modified` ≥ the watermark, like `?date=`.
        """
        if incremental and self.changes is None:
            return
        if entity == "Organization":
            if incremental:
                return  # organisations never change in a delta
            for k in range(self.organizations):
                yield self.ptv_organization(k)
        elif entity == "Service":
            indexes = (
                sorted(self.changes.content)
                if incremental and self.changes
                else range(self.services)
            )
            for i in indexes:
                yield self.ptv_service(i)
        elif entity == "ServiceChannel":
            if incremental and self.changes is not None:
                by_org: dict[int, list[int]] = {}
                for j in sorted(self.changes.hours):
                    by_org.setdefault(self.organization_of_channel(j), []).append(j)
                for k, channels in by_org.items():
                    inverse = self.channel_services(k)
                    for j in channels:
                        yield self.ptv_channel(j, inverse[j])
                return
            for k in range(self.organizations):
                for j, services in self.channel_services(k).items():
                    yield self.ptv_channel(j, services)
        else:
            raise ValueError(f"unknown PTV entity {entity!r}")

    def ptv_documents(
        self, entities: tuple[str, ...] = ENTITIES, *, incremental: bool = False, batch: int = BATCH
    ) -> Iterator[tuple[str, bytes]]:
        """(entity, JSON array of ≤ `batch` full records), like `{Entity}/list?guids=`."""
        for entity in entities:
            chunk: list[dict[str, Any]] = []
            for record in self.ptv_records(entity, incremental=incremental):
                chunk.append(record)
                if len(chunk) == batch:
                    yield entity, orjson.dumps(chunk)
                    chunk = []
            if chunk:
                yield entity, orjson.dumps(chunk)

    # -- HSDS ------------------------------------------------------------------

    def hsds_service(
        self,
        i: int,
        *,
        service: dict[str, Any] | None = None,
        channels: dict[int, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Service `i` as one full HSDS 3.0 record (Finnish text; HSDS has one language)."""
        s = service or self.service(i)
        org = self.organization(s["organization"])
        ref = reference()
        models = [
            (channels[j] if channels is not None and j in channels else self.channel(j))
            for j in s["links"]
        ]
        locations = [c for c in models if c["kind"] == "ServiceLocation"]
        phones = [p for c in models if c["kind"] == "Phone" for p in c["phones"]]
        web = next((u["url"] for c in models for u in c["urls"] if c["kind"] == "WebPage"), None)
        modified = max([s["modified"], *(c["modified"] for c in locations)])
        if s["area"] == "nationwide":
            areas = [{"id": stable_uuid(self.seed, "area", i), "name": "Koko Suomi", "uri": None}]
        else:
            codes = (
                ref.county_members[s["county"]] if s["area"] == "county" else [s["municipality"]]
            )
            areas = [
                {
                    "id": stable_uuid(self.seed, "area", i, code),
                    "name": ref.by_code[code]["names"]["fi"],
                    "uri": f"http://uri.suomi.fi/codelist/jhs/kunta_1_20230101/code/{code}",
                }
                for code in codes
            ]
            if s["area"] == "county":
                county = ref.counties[s["county"]]
                areas.insert(
                    0,
                    {
                        "id": stable_uuid(self.seed, "area", i, "county"),
                        "name": county["names"]["fi"],
                        "uri": "http://uri.suomi.fi/codelist/jhs/hyvinvointialue_1_20211013/code/"
                        + county["code"],
                    },
                )
        attributes = []
        for taxonomy, entries in (
            ("ptvserclass2", s["service_classes"]),
            ("ptvkohderyhmat", s["target_groups"]),
            ("ptvelamantilanteet", s["life_events"]),
        ):
            for code in entries:
                attributes.append(
                    {
                        "id": stable_uuid(self.seed, "attr", i, code.code),
                        "link_type": "service",
                        "link_entity": "service",
                        "value": code.code,
                        "taxonomy_term": {
                            "id": stable_uuid("term", code.code),
                            "code": code.code,
                            "name": code.names.get("fi"),
                            "taxonomy": taxonomy,
                            "language": "fi",
                            "term_uri": code.new_uri,
                        },
                    }
                )
        return {
            "id": s["id"],
            "organization_id": org["id"],
            "name": s["names"]["fi"],
            "alternate_name": s["names"].get("sv"),
            "description": s["description"]["fi"],
            "url": web,
            "email": f"info@{org['domain']}",
            "status": "active",
            "application_process": s["instruction"].get("fi"),
            "fees_description": None,
            "last_modified": modified.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "phones": [_hsds_phone(self.seed, p) for p in phones],
            "schedules": [],
            "service_areas": areas,
            "service_at_locations": [
                {
                    "id": stable_uuid(self.seed, "sal", i, c["index"]),
                    "service_id": s["id"],
                    "location_id": c["id"],
                    "description": None,
                    "schedules": [],
                    "location": self._hsds_location(c),
                }
                for c in locations
            ],
            "languages": [
                {"id": stable_uuid("language", lang), "name": lang, "code": lang}
                for lang in s["languages"]
            ],
            "organization": {
                "id": org["id"],
                "name": org["names"]["fi"],
                "alternate_name": org["names"].get("sv"),
                "description": org["description"]["fi"],
                "email": f"info@{org['domain']}",
                "website": f"https://www.{org['domain']}/",
                "phones": [_hsds_phone(self.seed, org["phone"])],
                "organization_identifiers": [
                    {
                        "id": stable_uuid(self.seed, "ytunnus", org["index"]),
                        "identifier_scheme": "FI:YTUNNUS",
                        "identifier_type": "Y-tunnus",
                        "identifier": org["business_id"],
                    }
                ],
            },
            "attributes": attributes,
            "contacts": [],
            "metadata": [],
        }

    def _hsds_location(self, c: dict[str, Any]) -> dict[str, Any]:
        ref = reference()
        municipality = ref.by_code[c["municipality"]]
        latitude, longitude = etrs_to_wgs84(*c["point"])
        postcode, office_fi, _office_sv = c["postcode"]
        groups: dict[tuple[str, str], list[int]] = {}
        if c["always_open"]:
            groups[("00:00", "23:59")] = list(range(7))
        else:
            for day, opens, closes in c["hours"]:
                groups.setdefault((opens, closes), []).append(day)
        schedules = [
            {
                "id": stable_uuid(self.seed, "schedule", c["index"], opens, closes),
                "freq": "WEEKLY",
                "byday": ",".join(HSDS_DAYS[day] for day in days),
                "opens_at": f"{opens}:00",
                "closes_at": f"{closes}:00",
            }
            for (opens, closes), days in groups.items()
        ]
        return {
            "id": c["id"],
            "location_type": "physical",
            "name": c["names"]["fi"],
            "alternate_name": c["names"].get("sv"),
            "description": c["description"]["fi"],
            "latitude": latitude,
            "longitude": longitude,
            "languages": [
                {"id": stable_uuid("language", lang), "name": lang, "code": lang}
                for lang in c["languages"]
            ],
            "addresses": [
                {
                    "id": stable_uuid(self.seed, "address", c["index"]),
                    "address_1": f"{c['street'][0]} {c['street_number']}",
                    "city": office_fi,
                    "region": ref.counties[municipality["county"]]["names"]["fi"],
                    "postal_code": postcode,
                    "country": "FI",
                    "address_type": "physical",
                }
            ],
            "phones": [_hsds_phone(self.seed, p) for p in c["phones"]],
            "contacts": [
                {"id": stable_uuid(self.seed, "contact", c["index"]), "email": e}
                for e in c["emails"]
            ],
            "schedules": schedules,
            "holiday_schedules": [
                {
                    "id": stable_uuid(self.seed, "holiday", c["index"], d),
                    "closed": True,
                    "start_date": d,
                    "end_date": d,
                }
                for d in c["closed_days"]
            ],
        }

    def hsds_records(self, *, incremental: bool = False) -> Iterator[dict[str, Any]]:
        """Full HSDS services in index order (incremental: last_modified ≥ watermark)."""
        if incremental:
            for i in self._hsds_incremental_ids():
                yield self.hsds_service(i)
            return
        for k in range(self.organizations):
            cache = {
                j: self.channel(j)
                for j in range(self.channel_bounds[k], self.channel_bounds[k + 1])
            }
            for i in range(self.service_bounds[k], self.service_bounds[k + 1]):
                yield self.hsds_service(i, channels=cache)

    def hsds_count(self, *, incremental: bool = False) -> int:
        if not incremental:
            return self.services
        return sum(1 for _ in self._hsds_incremental_ids())

    def _hsds_incremental_ids(self) -> Iterator[int]:
        if self.changes is None:
            return
        wanted = set(self.changes.content)
        for j in self.changes.hours:
            wanted.update(self.channel_services(self.organization_of_channel(j))[j])
        yield from sorted(wanted)

    def hsds_pages(self, *, per_page: int = BATCH, incremental: bool = False) -> Iterator[bytes]:
        """HSDS 3.0 `/services` pages with full records, as `HsdsImporter.parse` reads them."""
        total = self.hsds_count(incremental=incremental)
        pages = max(1, math.ceil(total / per_page))
        chunk: list[dict[str, Any]] = []
        number = 1

        def page(contents: list[dict[str, Any]], number: int) -> bytes:
            return orjson.dumps(
                {
                    "total_items": total,
                    "total_pages": pages,
                    "page_number": number,
                    "size": per_page,
                    "first_page": number == 1,
                    "last_page": number == pages,
                    "empty": not contents,
                    "contents": contents,
                }
            )

        for record in self.hsds_records(incremental=incremental):
            chunk.append(record)
            if len(chunk) == per_page:
                yield page(chunk, number)
                chunk, number = [], number + 1
        if chunk or number == 1:
            yield page(chunk, number)

    # -- files -----------------------------------------------------------------

    def write(self, out: Path, *, format: str = "ptv") -> dict[str, Any]:
        """Writes the feed(s) under `out` and returns the manifest (also out/manifest.json).

        Base feed: out/{Entity}/00001.json … (PTV) or out/services/00001.json (HSDS).
        A delta writes the full feed under out/full/ and the incremental one under
        out/incremental/.
        """
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        variants = (
            [("", False)] if self.changes is None else [("full", False), ("incremental", True)]
        )
        manifest: dict[str, Any] = {
            "format": format,
            "seed": self.seed,
            "services": self.services,
            "channels": self.channels,
            "organizations": self.organizations,
            "base_time": BASE_TIME.isoformat(),
            "feeds": {},
        }
        if self.changes is not None:
            manifest["delta"] = {
                "seed": self.changes.seed,
                "watermark": self.changes.watermark.isoformat(),
                "content_changed_services": len(self.changes.content),
                "connection_only_services": len(self.changes.connection),
                "hours_changed_channels": len(self.changes.hours),
            }
        for name, incremental in variants:
            root = out / name if name else out
            counts: dict[str, dict[str, int]] = {}
            if format == "ptv":
                numbers: dict[str, int] = {}
                for entity, document in self.ptv_documents(incremental=incremental):
                    numbers[entity] = numbers.get(entity, 0) + 1
                    folder = root / entity
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / f"{numbers[entity]:05d}.json").write_bytes(document)
                    stats = counts.setdefault(entity, {"files": 0, "bytes": 0})
                    stats["files"] += 1
                    stats["bytes"] += len(document)
            elif format == "hsds":
                folder = root / "services"
                folder.mkdir(parents=True, exist_ok=True)
                stats = counts.setdefault("services", {"files": 0, "bytes": 0})
                for number, document in enumerate(self.hsds_pages(incremental=incremental), 1):
                    (folder / f"{number:05d}.json").write_bytes(document)
                    stats["files"] += 1
                    stats["bytes"] += len(document)
            else:
                raise ValueError(f"unknown format {format!r}")
            manifest["feeds"][name or "full"] = counts
        manifest["seconds"] = round(time.perf_counter() - started, 2)
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return manifest


# -- module helpers ---------------------------------------------------------------


def _codes(rng: random.Random, ref: Reference, name: str, count: int) -> list[Code]:
    if count <= 0:
        return []
    entries = ref.codes[name]
    picked = rng.choices(entries, cum_weights=ref.code_cum[name], k=count)
    return list({code.code: code for code in picked}.values())


def _ptv_code(code: Code, ontology: str) -> dict[str, Any]:
    return {
        "name": [{"value": value, "language": lang} for lang, value in code.names.items()],
        "code": code.code,
        "ontologyType": ontology,
        "uri": code.uri,
        "parentId": None,
        "parentUri": None,
        "newUri": code.new_uri,
        "newParentUri": code.new_uri.rsplit("/", 1)[0] + f"/{code.parent}" if code.parent else None,
    }


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(PHONE_PREFIXES)
    return prefix + "".join(str(rng.randint(0, 9)) for _ in range(9 - len(prefix)))


def _ptv_phone(number: str, info: str | None, language: str) -> dict[str, Any]:
    return {
        "type": "Phone",
        "additionalInformation": info,
        "serviceChargeType": "Chargeable",
        "chargeDescription": None,
        "prefixNumber": "+358",
        "isFinnishServiceNumber": False,
        "number": number,
        "language": language,
    }


def _hsds_phone(seed: int, number: str) -> dict[str, Any]:
    return {"id": stable_uuid(seed, "phone", number), "number": f"+358 {number}", "type": "voice"}


# -- CLI -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Generate PTV v11 / HSDS 3.0 bench feeds."
    )
    parser.add_argument("--services", type=int, required=True)
    parser.add_argument("--seed", type=int, default=None, help="base seed (default 42)")
    parser.add_argument("--format", choices=("ptv", "hsds"), default="ptv")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--delta-from",
        type=int,
        default=None,
        metavar="SEED",
        help="write a delta of the base feed of this seed (full/ and incremental/)",
    )
    parser.add_argument("--changed", type=float, default=0.01, help="share of services changed")
    parser.add_argument("--connection-only-share", type=float, default=0.3)
    args = parser.parse_args(argv)
    if args.delta_from is not None:
        base = Dataset(args.services, seed=args.delta_from)
        dataset = base.delta(args.changed, args.connection_only_share, seed=args.seed)
    else:
        dataset = Dataset(args.services, seed=42 if args.seed is None else args.seed)
    manifest = dataset.write(args.out, format=args.format)
    json.dump(manifest, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
