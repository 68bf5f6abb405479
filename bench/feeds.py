"""Generated PTV feeds on disk, and a mock PTV Open API v11 that serves them.

`ensure_feed(services)` writes the seed-42 catalogue once under var/bench/feeds/ (reused
while its manifest matches): `{Entity}/00001.json …` (100 records a file, as
`{Entity}/list?guids=` answers) with the ids in order in `{Entity}.ids` (fixed-width
lines), plus `incremental/`, the 1 % delta's `?date=` feed. Generating costs about 1 ms a
record, so it is done before the clock starts, never inside a measured sync.

`PtvApiMock` is an `httpx.MockTransport` handler: the importer walks the paged id lists
and fetches `list?guids=` batches of 100 exactly as against the real API, and each batch
is answered with the next file (checked against the ids asked for), so serving costs a
file read and nothing grows with N.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import orjson

from bench.generate import ENTITIES, PTV_API, Dataset

ROOT = Path(__file__).resolve().parent.parent / "var" / "bench" / "feeds"
SEED = 42
CHANGED = 0.01
CONNECTION_ONLY_SHARE = 0.3
ID_WIDTH = 36  # a UUID
ID_PAGE_SIZE = 1000
FORMAT_VERSION = 1


def feed_dir(services: int, seed: int = SEED) -> Path:
    return ROOT / f"ptv-{services}-s{seed}"


def _write_entities(
    dataset: Dataset, out: Path, entities: tuple[str, ...], incremental: bool
) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for entity in entities:
        folder = out / entity
        folder.mkdir(parents=True, exist_ok=True)
        stats = counts.setdefault(entity, {"files": 0, "records": 0, "bytes": 0})
        with (out / f"{entity}.ids").open("w") as ids:
            for _entity, document in dataset.ptv_documents((entity,), incremental=incremental):
                stats["files"] += 1
                (folder / f"{stats['files']:05d}.json").write_bytes(document)
                records = orjson.loads(document)
                for record in records:
                    if len(record["id"]) != ID_WIDTH:
                        raise ValueError(f"unexpected id {record['id']!r}")
                    ids.write(record["id"] + "\n")
                stats["records"] += len(records)
                stats["bytes"] += len(document)
    return counts


def _generate_part(args: tuple[int, int, tuple[str, ...], str]) -> dict:
    services, seed, entities, out = args
    return _write_entities(Dataset(services, seed=seed), Path(out), entities, incremental=False)


def ensure_feed(services: int, seed: int = SEED, *, log: Any = print) -> Path:
    """The base feed and the incremental delta feed of `services` services, on disk."""
    out = feed_dir(services, seed)
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("version") == FORMAT_VERSION:
            return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.perf_counter()
    log(f"generating the {services:,}-service PTV feed in {out} (once; reused later) …")
    # Two processes, one per large entity (the machine has two cores).
    parts = [
        (services, seed, ("Service",), str(out)),
        (services, seed, ("Organization", "ServiceChannel"), str(out)),
    ]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        counts: dict[str, Any] = {}
        for part in pool.map(_generate_part, parts):
            counts.update(part)
    delta = Dataset(services, seed=seed).delta(CHANGED, CONNECTION_ONLY_SHARE)
    incremental = _write_entities(delta, out / "incremental", ENTITIES, incremental=True)
    assert delta.changes is not None
    manifest = {
        "version": FORMAT_VERSION,
        "services": services,
        "seed": seed,
        "full": counts,
        "incremental": incremental,
        "delta": {
            "changed": CHANGED,
            "connection_only_share": CONNECTION_ONLY_SHARE,
            "content_changed_services": len(delta.changes.content),
            "connection_only_services": len(delta.changes.connection),
            "hours_changed_channels": len(delta.changes.hours),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"  generated in {manifest['seconds']} s")
    return out


def feed_records(out: Path, *, incremental: bool = False) -> int:
    manifest = json.loads((out / "manifest.json").read_text())
    counts = manifest["incremental" if incremental else "full"]
    return sum(entity["records"] for entity in counts.values())


class PtvApiMock:
    """Answers the PTV v11 requests the importer makes, from a feed written by ensure_feed.

    Id lists with `date=` come from the incremental feed (what PTV lists as changed since
    the watermark), without it from the full one; `status=Archived|Withdrawn` lists are
    empty. Each `{Entity}/list?guids=` gets the next file of the list last walked.
    """

    def __init__(self, root: Path, *, base: str = PTV_API) -> None:
        self.root = root
        self.prefix = httpx.URL(base).path.rstrip("/") + "/"
        self.cursor: dict[str, tuple[Path, int]] = {}
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        path = request.url.path
        if not path.startswith(self.prefix):
            return httpx.Response(404)
        parts = path[len(self.prefix) :].strip("/").split("/")
        entity = parts[0]
        if entity not in ENTITIES:
            return httpx.Response(404)
        if len(parts) == 2 and parts[1] == "list":
            # Only the first guid is checked: parsing all 100 (3.7 KB a request) cost the
            # measured sync ~1 s at 200k, work a remote PTV does, not Pesä.
            return self._batch(entity, _first_guid(request.url.query))
        if len(parts) == 1:
            params = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
            return self._id_page(entity, params)
        return httpx.Response(404)

    def _id_page(self, entity: str, params: dict[str, str]) -> httpx.Response:
        page = int(params.get("page", "1"))
        if params.get("status"):
            return _json({"pageNumber": page, "pageCount": 0, "itemList": []})
        root = self.root / "incremental" if params.get("date") else self.root
        ids_path = root / f"{entity}.ids"
        total = ids_path.stat().st_size // (ID_WIDTH + 1) if ids_path.exists() else 0
        if page == 1:
            self.cursor[entity] = (root, 0)
        with ids_path.open("rb") as ids:
            ids.seek((page - 1) * ID_PAGE_SIZE * (ID_WIDTH + 1))
            chunk = ids.read(ID_PAGE_SIZE * (ID_WIDTH + 1)).decode()
        items = [{"id": line, "name": ""} for line in chunk.split("\n") if line]
        page_count = -(-total // ID_PAGE_SIZE)
        return _json({"pageNumber": page, "pageCount": page_count, "itemList": items})

    def _batch(self, entity: str, first: str) -> httpx.Response:
        root, number = self.cursor[entity]
        number += 1
        self.cursor[entity] = (root, number)
        document = (root / entity / f"{number:05d}.json").read_bytes()
        if not first or document.find(first.encode(), 0, 600) < 0:
            raise AssertionError(f"{entity} batch {number} does not start with {first}")
        return httpx.Response(200, content=document, headers={"Content-Type": "application/json"})


def _first_guid(query: bytes) -> str:
    """The first id of a `guids=a,b,…` query (commas percent-encoded or not)."""
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"guids":
            return unquote(value.split(b"%2C", 1)[0].split(b",", 1)[0].decode())
    return ""


def _json(payload: Any) -> httpx.Response:
    return httpx.Response(
        200, content=orjson.dumps(payload), headers={"Content-Type": "application/json"}
    )
