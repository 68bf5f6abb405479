"""Every cleaning helper runs in time linear in its input: a megabyte of the worst markup
a feed can send is cleaned in well under a second (asserted generously, for loaded CI)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from importers.cleaning import (
    clean_email,
    clean_html,
    clean_phone,
    clean_text,
    clean_url,
    draftjs_to_text,
    language_code,
    localized,
    strip_control,
)

MEGABYTE = 1_000_000
LIMIT_SECONDS = 2.0


def megabyte(unit: str, *, prefix: str = "") -> str:
    return prefix + unit * ((MEGABYTE - len(prefix)) // len(unit))


PATHOLOGICAL = {
    "tag starts": megabyte("<a"),
    "comment starts": megabyte("<!--"),
    "bare angle brackets": megabyte("<"),
    "angle bracket then spaces": "<" + " " * MEGABYTE,
    "closing tag then spaces": "</" + " " * MEGABYTE,
    "unbalanced quotes": megabyte("<a href=\"'", prefix="<p>"),
    "nested quotes": megabyte("<a title='\"<a title=\"'", prefix="<p>"),
    "long attribute value": '<p title="' + "x" * MEGABYTE + '">text</p>',
    "many entities": megabyte("&amp;"),
    "many entities in markup": megabyte("&amp;&lt;&#x27;", prefix="<p>"),
    "tag starts in markup": megabyte("<a", prefix="<p>"),
    "event handler words": " on" + "a" * MEGABYTE,
    "blank lines": megabyte("\n \n"),
    "bullets": megabyte("- x\n"),
    "control characters": megabyte("\x00\x01a"),
    "draft.js head": '{"blocks"' + " " * MEGABYTE,
    "e-mail local part": "a" * MEGABYTE + "@example",
    "e-mail labels": "a@" + megabyte("a-"),
    "url host": "https://" + megabyte("a."),
}


def _localized(value: str) -> Any:
    return localized([("fi", value), ("sv", value)], clean=clean_html)


CLEANERS: dict[str, Callable[[str], Any]] = {
    "strip_control": strip_control,
    "clean_text": clean_text,
    "clean_html": clean_html,
    "draftjs_to_text": draftjs_to_text,
    "clean_url": clean_url,
    "clean_email": clean_email,
    "clean_phone": clean_phone,
    "language_code": language_code,
    "localized": _localized,
}


@pytest.mark.parametrize("cleaner", CLEANERS.values(), ids=CLEANERS.keys())
@pytest.mark.parametrize("value", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_cleaning_a_megabyte_of_pathological_input_takes_well_under_a_second(
    cleaner: Callable[[str], Any], value: str
) -> None:
    started = time.perf_counter()
    cleaner(value)
    assert time.perf_counter() - started < LIMIT_SECONDS


def test_pathological_markup_still_cleans_to_safe_text() -> None:
    assert clean_html("<a" * 1000) == "<p>" + "&lt;a" * 1000 + "</p>"
    assert clean_text("<" + " " * 1000 + "p>x") == "< p>x"
    assert clean_html("<p>" + "<!--" * 1000) is None


def test_text_with_a_lone_angle_bracket_is_kept() -> None:
    assert clean_text("Hinta <alle 10 euroa") == "Hinta <alle 10 euroa"
    assert clean_html("Ikä <18 v & huoltaja") == "<p>Ikä &lt;18 v &amp; huoltaja</p>"
