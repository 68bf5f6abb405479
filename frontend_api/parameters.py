"""The API's edge: checks every query parameter value before a view reads it.

Cheap by design (no queries, one regex per value) because it runs on every request,
cached or not: values with control characters (PostgreSQL refuses NUL in text) or longer
than `MAX_PARAMETER_LENGTH` are a 400 problem naming the parameter. Views keep their own,
narrower checks (codes, bounds); the OpenAPI schema states both (frontend_api/schema.py).
"""

from __future__ import annotations

import re
from typing import Any

from frontend_api.problems import InvalidQueryParameters

#: Longest value any query parameter may have (a search term has its own, shorter limit).
MAX_PARAMETER_LENGTH = 1000
#: C0 controls and DEL; what the schema's `pattern` for every text parameter excludes.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
#: The JSON Schema (ECMA-262) pattern that says the same in the OpenAPI schema.
NO_CONTROL_CHARACTERS_PATTERN = r"^[^\u0000-\u001F\u007F]*$"
#: Parameters whose empty value means nothing (filters take "" as "no filter").
NON_EMPTY_PARAMETERS = frozenset({"q", "path", "token", "since", "updated_since", "cursor"})
#: Highest `page` number: keeps OFFSET far inside PostgreSQL's bigint at any page size.
MAX_PAGE = 100_000


def parameter_problem(name: str, message: str) -> InvalidQueryParameters:
    return InvalidQueryParameters(detail=f"`{name}`: {message}", errors={name: [message]})


def check_parameter_values(params: Any) -> None:
    """A 400 for the first query parameter whose value no view could take."""
    for name, values in params.lists():
        for value in values:
            if len(value) > MAX_PARAMETER_LENGTH:
                raise parameter_problem(name, f"At most {MAX_PARAMETER_LENGTH} characters.")
            if not value and name in NON_EMPTY_PARAMETERS:
                raise parameter_problem(name, "Must not be empty.")
            if CONTROL_CHARACTERS.search(value):
                raise parameter_problem(name, "Control characters (such as NUL) are not allowed.")
