"""Schema rules every format shares: a feed that breaks them gets a record issue, never a
silent change.

- A JSON object naming a key twice (`{"id": "a", "id": "b"}`) is ambiguous: its record is
  rejected, naming the key (`load_json`, `duplicate_keys`).
- A value outside a format's list (an enum) is rejected, naming the allowed values
  (`not_allowed`).
- Every text field has a maximum length (`TEXT_LIMITS`, documented in docs/importers.md):
  longer text is cut at a word boundary with a warning (`checked`).
- A source timestamp more than a day ahead of the importer's clock is clamped to now (the
  start of the current UTC day, so it is stable across runs) with a warning (`checked`).

Messages are written for the feed's owner, who reads them among the source's record issues.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from importers.base import ParsedRecord, RecordError, RecordKind
from importers.cleaning import cut_html, cut_text

# Maximum length, in characters, of each text of the canonical shape (per language).
TEXT_LIMITS: dict[str, int] = {
    "name": 500,
    "summary": 2_000,
    "description": 50_000,
    "accessibility": 10_000,
}
# Every other text (address parts, phone labels, opening-hour notes, business id …).
OTHER_TEXT_LIMIT = 1_000
# Values that are HTML: cut so that the markup stays well-formed.
HTML_FIELDS = frozenset({"description"})
# Nested lists whose texts are limited too (their URLs are bounded by `clean_url`).
NESTED_FIELDS = ("addresses", "opening_hours", "phones", "urls")
NOT_TEXT = frozenset({"url", "latitude", "longitude", "weekday", "closed"})
TOP_LEVEL_TEXT = ("business_id", "phone")
# How far ahead of the importer's clock a source timestamp may be (clock skew).
FUTURE_TOLERANCE = timedelta(days=1)

# A key an importer adds to an object it re-encodes (HSDS pages completed from full
# records, HSDS tables joined into JSON) to carry the keys it named twice; orjson cannot
# write an object with a key twice.
DUPLICATE_HINT = "pesaDuplicateKeys"


class _KeyedTwice(dict):  # type: ignore[type-arg]
    """A JSON object that named at least one key more than once (the last value is kept,
    as every JSON library keeps it); `twice` holds those keys."""

    __slots__ = ("twice",)
    twice: list[str]


def _mark_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _KeyedTwice(obj)
    seen: set[str] = set()
    marked.twice = list(dict.fromkeys(key for key, _ in pairs if key in seen or seen.add(key)))
    return marked


def _surely_unique(document: bytes, decoded: Any) -> bool:
    """True only when no object of `document` names a key twice, at the price of one
    re-encoding and a few byte counts instead of a second, slower decode.

    Outside strings, JSON writes a colon only after a key. So the document's colons are its
    keys plus the colons inside its strings (raw, or escaped as `\\u003a`); the decoded
    value re-encoded holds the keys it kept plus the colons of the strings it kept, raw.
    A key named twice is dropped from the value, with its own value: the counts differ.
    Without one, they are equal (or the document's is larger, when a string holds the
    text "\\u003a" itself: then the key-by-key check decides)."""
    colons = document.count(b":") + document.count(b"\\u003a") + document.count(b"\\u003A")
    return colons == orjson.dumps(decoded).count(b":")


def load_json(document: bytes) -> tuple[Any, bool]:
    """(the decoded document, whether any object in it names a key twice). Objects that do
    are `_KeyedTwice` dicts; `duplicate_keys` finds them in one record. Raises
    `orjson.JSONDecodeError` for a document that is not JSON."""
    decoded = orjson.loads(document)
    if _surely_unique(document, decoded):
        return decoded, False
    # Rare: a key named twice (or the text "\\u003a" in a string). Decoded again by the
    # standard library, which shows each object's key-value pairs before they become a dict.
    marked = json.loads(document, object_pairs_hook=_mark_duplicates)
    return marked, _any_duplicates(marked)


def _any_duplicates(value: Any) -> bool:
    return next(duplicate_keys(value), None) is not None


def duplicate_keys(value: Any, path: str = "") -> Iterator[str]:
    """The path of each key named twice in one object of `value` ("id",
    "serviceNames[0].value"), for values decoded by `load_json`."""
    if isinstance(value, dict):
        twice = value.twice if isinstance(value, _KeyedTwice) else value.get(DUPLICATE_HINT, ())
        for key in twice:
            yield f"{path}.{key}" if path else str(key)
        for key, item in value.items():
            if isinstance(item, dict | list):
                yield from duplicate_keys(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                yield from duplicate_keys(item, f"{path}[{index}]")


def carry_duplicates(item: Any) -> Any:
    """`item` ready to be re-encoded: with `DUPLICATE_HINT` naming the paths of its keys
    named twice, if any, so that parsing the new document still rejects it."""
    paths = list(duplicate_keys(item))
    return {**item, DUPLICATE_HINT: paths} if paths and isinstance(item, dict) else item


def duplicate_key_error(
    item: Any,
    *,
    source_id: str | None,
    kind: RecordKind | None,
    where: str = "",
    noun: str = "key",
) -> RecordError | None:
    """The rejection of a record that names a key (or a CSV column) twice, or None."""
    paths = list(duplicate_keys(item))
    if not paths:
        return None
    names = ", ".join(f'"{path}"' for path in paths[:5])
    more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
    within = "in one JSON object" if noun == "key" else "with different values"
    return RecordError(
        source_id=source_id,
        message=(
            f"the {noun} {names}{more} appears more than once {within}; "
            "which value is meant is ambiguous, so the record was not imported"
        ),
        field=f"{where}.{paths[0]}" if where else paths[0],
        kind=kind,
    )


def not_allowed(
    value: Any,
    allowed: Iterable[str],
    *,
    field: str,
    source_id: str | None,
    kind: RecordKind | None,
) -> RecordError | None:
    """The rejection of a value outside its format's list (compared case-insensitively), or
    None when it is on the list. A missing value is the caller's to judge."""
    names = list(allowed)
    if isinstance(value, str) and value.strip().lower() in {name.lower() for name in names}:
        return None
    shown = value if isinstance(value, str) else json.dumps(value)
    return RecordError(
        source_id=source_id,
        message=(
            f"{field} {shown[:60]!r} is not one of the allowed values: "
            f"{', '.join(names)}; the record was not imported"
        ),
        field=field,
        kind=kind,
    )


def _warning(record: ParsedRecord, field: str, message: str) -> RecordError:
    return RecordError(
        source_id=record.source_id,
        message=message,
        field=field,
        severity="warning",
        kind=record.kind,
    )


def _limited(
    record: ParsedRecord, field: str, value: str, limit: int, *, html: bool, out: list
) -> str:
    if len(value) <= limit:
        return value
    cut = cut_html(value, limit) if html else cut_text(value, limit)
    out.append(
        _warning(
            record,
            field,
            f"{field} is {len(value):,} characters long, more than the maximum {limit:,}; "
            f"cut to {len(cut):,} characters at a word boundary",
        )
    )
    return cut


def _limit_nested(record: ParsedRecord, value: Any, path: str, out: list) -> Any:
    if isinstance(value, str):
        return _limited(record, path, value, OTHER_TEXT_LIMIT, html=False, out=out)
    if isinstance(value, list):
        return [_limit_nested(record, item, f"{path}[{i}]", out) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {
            key: item if key in NOT_TEXT else _limit_nested(record, item, f"{path}.{key}", out)
            for key, item in value.items()
        }
    return value


def _longest_text(value: Any) -> int:
    """An upper bound on the length of every string in `value`, found in C: re-encoded, each
    string sits between two unescaped quotes and takes at least a byte per character."""
    encoded = orjson.dumps(value)
    if b'\\"' in encoded:
        encoded = encoded.replace(b'\\"', b"__")  # an escaped quote stays inside its string
    return max(map(len, encoded.split(b'"')))


def _future(record: ParsedRecord, value: Any, now: datetime, out: list) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment <= now + FUTURE_TOLERANCE:
        return value
    # The start of the import's day, not the instant: the record is parsed again on every
    # run while it carries the warning, and a timestamp that moved each time would make an
    # unchanged record look changed (a write and a change event) on every run.
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clamped = today.isoformat(timespec="seconds")
    out.append(
        _warning(
            record,
            "modified",
            f"modified {value[:40]!r} is more than a day in the future; "
            f"set to the day of import, {clamped}",
        )
    )
    return clamped


def checked(record: ParsedRecord, *, now: datetime) -> ParsedRecord:
    """`record` with every text within its maximum length and its timestamp not in the
    future; each change is a warning among its repairs. The record itself when nothing
    changes (the common case costs a length check per text)."""
    data = record.data
    if record.withdrawn or not data:
        return record
    warnings: list[RecordError] = []
    changed: dict[str, Any] = {}
    for field, limit in TEXT_LIMITS.items():
        texts = data.get(field)
        if not isinstance(texts, dict) or all(len(text) <= limit for text in texts.values()):
            continue
        html = field in HTML_FIELDS
        changed[field] = {
            language: _limited(record, f"{field}.{language}", text, limit, html=html, out=warnings)
            for language, text in texts.items()
        }
    for field in TOP_LEVEL_TEXT:
        value = data.get(field)
        if isinstance(value, str) and len(value) > OTHER_TEXT_LIMIT:
            changed[field] = _limited(
                record, field, value, OTHER_TEXT_LIMIT, html=False, out=warnings
            )
    nested = [data.get(field) for field in NESTED_FIELDS]
    long_nested = any(nested) and _longest_text(nested) > OTHER_TEXT_LIMIT
    for field, value in zip(NESTED_FIELDS, nested if long_nested else (), strict=False):
        if value and _longest_text(value) > OTHER_TEXT_LIMIT:
            before = len(warnings)
            limited = _limit_nested(record, value, field, warnings)
            if len(warnings) > before:
                changed[field] = limited
    modified = data.get("modified")
    if modified is not None:
        clamped = _future(record, modified, now, warnings)
        if clamped is not modified:
            changed["modified"] = clamped
    if not warnings:
        return record
    return replace(record, data={**data, **changed}, repairs=(*record.repairs, *warnings))
