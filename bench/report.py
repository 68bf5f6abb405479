"""The one table: figures, targets, met or missed, and ratios; plus the results file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Row:
    section: str
    measure: str
    figure: str
    target: str = ""
    status: str = ""  # "met", "MISSED", "" (reference), or a note such as "endpoint missing"


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "n/a"
    return "met" if ok else "MISSED"


def fmt_int(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def load_figure(result: dict[str, Any] | None) -> str:
    if not result:
        return "—"
    if result.get("missing"):
        return result["missing"]
    text = (
        f"{result['rps']:,.0f} req/s, p50/p95/p99 "
        f"{result['p50_ms']:.1f}/{result['p95_ms']:.1f}/{result['p99_ms']:.1f} ms"
    )
    if result.get("error_share", 0) > 0.001:
        text += f" ({result['error_share']:.1%} errors)"
    return text


def table(rows: list[Row]) -> str:
    headers = ("", "measure", "figure", "target", "status")
    cells = [(r.section, r.measure, r.figure, r.target, r.status) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    out.append(line)
    section = None
    for row, cell in zip(rows, cells, strict=True):
        if section is not None and row.section != section:
            out.append(line)
        section = row.section
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) + " |")
    out.append(line)
    return "\n".join(out)


def markdown_table(rows: list[Row]) -> str:
    out = ["| | measure | figure | target | status |", "|---|---|---|---|---|"]
    for r in rows:
        figure = r.figure.replace("|", "\\|")
        out.append(f"| {r.section} | {r.measure} | {figure} | {r.target} | {r.status} |")
    return "\n".join(out)


def write_results(
    *, folder: Path, date: str, stamp: str, rows: list[Row], results: dict[str, Any], smoke: bool
) -> tuple[Path, Path]:
    raw = folder / "raw" / f"{stamp}{'-smoke' if smoke else ''}.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({**results, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    name = f"{date}-smoke.md" if smoke else f"{date}.md"
    path = raw.parent / name if smoke else folder / name
    machine = results["machine"]
    lines = [
        f"# Pesä benchmark, {date}{' (smoke)' if smoke else ''}",
        "",
        f"`{results['command']}` — raw figures: `bench/results/raw/{raw.name}` (not committed).",
        "",
        "## Machine and setup",
        "",
        *(f"- {key}: {value}" for key, value in machine.items()),
        "",
        "## Results",
        "",
        markdown_table(rows),
        "",
        "## Notes",
        "",
        *(f"- {note}" for note in results.get("notes", [])),
        "",
    ]
    path.write_text("\n".join(lines))
    return path, raw
