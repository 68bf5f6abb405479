"""The time to clean a megabyte of the worst markup a feed can send (issue 14's
linear-time cleaning): one figure for the table, cheap enough for every smoke run."""

from __future__ import annotations

import time

from importers.cleaning import clean_html, clean_text

MEGABYTE = 1_000_000
# The inputs that were quadratic (tag starts, comment starts) or worse ("<" then spaces),
# and the ones heaviest for the sanitizer itself (markup full of entities and quotes).
PATHOLOGICAL = {
    "<a repeated": "<a" * (MEGABYTE // 2),
    "<!-- repeated": "<!--" * (MEGABYTE // 4),
    "< then spaces": "<" + " " * MEGABYTE,
    "quotes in markup": "<p>" + "<a href=\"'" * (MEGABYTE // 10),
    "entities in markup": "<p>" + "&amp;&lt;" * (MEGABYTE // 9),
}


def pathological_cleaning() -> dict[str, float]:
    """{input: seconds} for `clean_html` and `clean_text` together on each 1 MB input."""
    figures: dict[str, float] = {}
    for name, value in PATHOLOGICAL.items():
        started = time.perf_counter()
        clean_html(value)
        clean_text(value)
        figures[name] = round(time.perf_counter() - started, 3)
    return figures
