"""importers.validation: the schema rules every format shares."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import nh3
from hypothesis import given, settings
from hypothesis import strategies as st

from importers.base import ParsedRecord
from importers.cleaning import clean_html, cut_html, cut_text
from importers.validation import TEXT_LIMITS, checked, duplicate_keys, load_json, not_allowed

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _exact_duplicates(document: str) -> bool:
    found = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({key for key, _ in pairs}) != len(pairs)
        return dict(pairs)

    json.loads(document, object_pairs_hook=hook)
    return found


KEYS = st.sampled_from(["id", "a", "b", ":", 'x":', "\\", "ä", "a:b"])
SCALARS = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from(["", ":", "x: y", '"', "ö"]))


@st.composite
def json_text(draw: st.DrawFn, depth: int = 3) -> str:
    """JSON written by hand: keys may repeat, strings may escape, spacing varies."""
    if depth == 0 or draw(st.booleans()):
        value = draw(SCALARS)
        text = json.dumps(value, ensure_ascii=draw(st.booleans()))
        return text.replace(":", "\\u003a") if draw(st.booleans()) and text[:1] == '"' else text
    space = draw(st.sampled_from(["", " ", "\n  "]))
    if draw(st.booleans()):
        items = draw(st.lists(json_text(depth - 1), max_size=3))
        return "[" + f",{space}".join(items) + "]"
    pairs = draw(st.lists(st.tuples(KEYS, json_text(depth - 1)), max_size=4))
    return (
        "{"
        + f",{space}".join(
            f"{json.dumps(key, ensure_ascii=draw(st.booleans()))}{space}:{space}{value}"
            for key, value in pairs
        )
        + "}"
    )


@settings(max_examples=400, deadline=None)
@given(json_text())
def test_load_json_finds_every_key_named_twice_however_the_json_is_written(document: str) -> None:
    value, twice = load_json(document.encode())
    assert twice == _exact_duplicates(document)
    assert bool(list(duplicate_keys(value))) == twice
    assert value == json.loads(document)


def test_duplicate_keys_names_the_path_of_each_key_named_twice() -> None:
    value, twice = load_json(b'{"id": "a", "names": [{"value": "x", "value": "y"}], "id": "b"}')
    assert twice
    assert list(duplicate_keys(value)) == ["id", "names[0].value"]


def test_value_outside_the_list_is_rejected_naming_the_allowed_values() -> None:
    problem = not_allowed(
        "bogus-status", ["active", "inactive"], field="status", source_id="s-1", kind="service"
    )
    assert problem is not None and problem.severity == "error"
    assert problem.message == (
        "status 'bogus-status' is not one of the allowed values: active, inactive; "
        "the record was not imported"
    )
    assert not_allowed("Active", ["active"], field="status", source_id="s", kind=None) is None


def test_cut_text_ends_at_a_word_boundary_within_the_limit() -> None:
    text = "sana " * 1000
    cut = cut_text(text, 2_000)
    assert len(cut) <= 2_000
    assert cut.endswith("sana…")


class _Balance(HTMLParser):
    VOID = frozenset({"br"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, (tag, self.open)


@given(st.integers(20, 400), st.integers(1, 30))
@settings(max_examples=200, deadline=None)
def test_cut_html_stays_well_formed_and_within_the_limit(limit: int, copies: int) -> None:
    markup = clean_html(
        "<h2>Otsikko</h2><ul><li><p>Tervetuloa <strong>perhe&shy;kahvilaan &amp; "
        'kerhoon</strong> <a href="https://mll.fi/x">lue lisää</a></p></li></ul>' * copies
    )
    assert markup is not None
    cut = cut_html(markup, limit)
    assert len(cut) <= limit
    balance = _Balance()
    balance.feed(cut)
    balance.close()
    assert balance.open == []
    assert nh3.clean(cut, tags=set(nh3.ALLOWED_TAGS)) is not None


def _service(**data: Any) -> ParsedRecord:
    return ParsedRecord(kind="service", source_id="s-1", data={"name": {"fi": "Nimi"}, **data})


def test_checked_cuts_every_text_over_its_limit_with_a_warning() -> None:
    record = _service(
        description={"fi": clean_html("sana " * 200_000), "sv": "<p>kort</p>"},
        summary={"fi": "lyhyt"},
        phones=[{"number": "+358 40 1", "label": "x " * 5_000}],
    )
    result = checked(record, now=NOW)
    assert len(result.data["description"]["fi"]) <= TEXT_LIMITS["description"]
    assert result.data["description"]["sv"] == "<p>kort</p>"
    assert len(result.data["phones"][0]["label"]) <= 1_000
    assert [(w.field, w.severity) for w in result.repairs] == [
        ("description.fi", "warning"),
        ("phones[0].label", "warning"),
    ]
    assert "more than the maximum 50,000; cut to" in result.repairs[0].message


def test_checked_clamps_a_timestamp_over_a_day_ahead_and_keeps_one_within_a_day() -> None:
    ahead = checked(_service(modified="2099-01-01T00:00:00Z"), now=NOW)
    assert ahead.data["modified"] == "2026-01-15T00:00:00+00:00"
    (warning,) = ahead.repairs
    assert warning.field == "modified" and warning.severity == "warning"
    assert "more than a day in the future" in warning.message
    later_that_day = checked(_service(modified="2099-01-01T00:00:00Z"), now=NOW.replace(hour=23))
    assert later_that_day.data == ahead.data  # stable across runs: no change on every run
    skewed = _service(modified="2026-01-16T11:00:00")
    assert checked(skewed, now=NOW) is skewed


def test_checked_leaves_a_record_within_every_rule_as_it_is() -> None:
    record = _service(description={"fi": "<p>ok</p>"}, modified="2025-01-01T00:00:00Z")
    assert checked(record, now=NOW) is record
