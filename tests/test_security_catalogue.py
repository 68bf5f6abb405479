"""docs/security.md names the test that tries each attack or fault: every name must exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `frontend_api/test_edges.py::test_x`, then `::test_y` for more tests of the same file.
REFERENCE = re.compile(r"`(?:(?P<file>[\w/]+\.py))?::(?P<test>test_\w+)`")


def catalogue_references() -> list[tuple[str, str]]:
    references = []
    for line in (ROOT / "docs" / "security.md").read_text().splitlines():
        current = None
        for match in REFERENCE.finditer(line):
            current = match["file"] or current
            references.append((current, match["test"]))
    return references


def functions_defined_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_test_the_security_catalogue_names_exists():
    references = catalogue_references()
    missing = [
        f"{file}::{test}"
        for file, test in references
        if file is None
        or not (ROOT / "tests" / file).is_file()
        or test not in functions_defined_in(ROOT / "tests" / file)
    ]

    assert len(references) > 100
    assert not missing, f"docs/security.md names tests that do not exist: {missing}"
