"""The list envelope everywhere: {"count", "next", "previous", "results", "meta"}.

Page sizes are capped hard (PESA_API_MAX_PAGE_SIZE); a bad `page` or `page_size` is a 400.
Counting stops at PESA_API_COUNT_CAP rows so a big table is never fully counted on
every page: `meta.count_capped` then says `count` is a floor, and with
`count_mode = "estimate"` PostgreSQL's planner estimate is given instead
(`meta.count_estimated`).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import InvalidPage, Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from cms.public_url import public_request_url
from frontend_api.parameters import MAX_PAGE
from frontend_api.problems import InvalidQueryParameters


def planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's row estimate for `queryset` (EXPLAIN, no execution); None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedCountPaginator(Paginator):
    def __init__(
        self,
        *args: Any,
        count_cap: int | None,
        count_mode: str,
        counted: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.count_cap = count_cap
        self.count_mode = count_mode
        self.count_capped = False
        self.count_estimated = False
        #: Rows counted up to count_cap + 1 by the caller's own query, if it did.
        self.counted = counted

    def count_limit(self) -> int | None:
        """How many rows a caller counting in its own query needs to count, at most."""
        if self.count_mode == "exact" or not self.count_cap:
            return None
        return self.count_cap + 1

    @cached_property
    def count(self) -> int:
        if self.counted is not None:
            return self._capped(self.counted)
        queryset = self.object_list
        if self.count_mode == "exact" or not self.count_cap or not isinstance(queryset, QuerySet):
            return super().count
        # Without ORDER BY: a sliced subquery keeps the ordering, and sorting is not counting.
        return self._capped(queryset.order_by()[: self.count_cap + 1].count())

    def _capped(self, counted: int) -> int:
        if self.count_limit() is None or counted <= self.count_cap:
            return counted
        self.count_capped = True
        queryset = self.object_list
        if self.count_mode == "estimate" and isinstance(queryset, QuerySet):
            estimate = planner_estimate(queryset)
            if estimate is not None and estimate > self.count_cap:
                self.count_estimated = True
                return estimate
        return self.count_cap


def _positive_int(name: str, value: str, *, maximum: int | None = None) -> int:
    allowed = f"an integer from 1 to {maximum}" if maximum else "a positive integer"
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1 or (maximum and number > maximum):
        raise InvalidQueryParameters(
            detail=f"`{name}` must be {allowed}.",
            errors={name: [f"Must be {allowed}; got {value!r}."]},
        )
    return number


def api_meta(request: Any) -> dict[str, Any]:
    """The `meta` every envelope carries: the language choice plus what the view added."""
    meta: dict[str, Any] = {}
    choice = getattr(request, "language_choice", None)
    if choice is not None:
        meta.update(choice.meta())
    meta.update(getattr(request, "api_meta", {}))
    return meta


def _meta_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "lang": {"type": "string", "example": "sv"},
            "fallback": {"type": "boolean"},
            "count_capped": {"type": "boolean"},
            "count_estimated": {"type": "boolean"},
        },
        "required": ["lang", "fallback"],
    }


class PesaPagination(PageNumberPagination):
    """Page-number pagination with the Pesä envelope and a capped count."""

    page_size_query_param = "page_size"
    count_mode = "capped"  # or "exact", or "estimate" (PostgreSQL planner, past the cap)

    @property
    def max_page_size(self) -> int:
        return settings.PESA_API_MAX_PAGE_SIZE

    def query_params(self) -> list[str]:
        return [self.page_query_param, self.page_size_query_param]

    def get_page_size(self, request: Any) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        return _positive_int(self.page_size_query_param, value, maximum=self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        value = request.query_params.get(self.page_query_param)
        if value is not None and value not in self.last_page_strings:
            _positive_int(self.page_query_param, value, maximum=MAX_PAGE)
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(
        self, object_list: Any, per_page: int, counted: int | None = None
    ) -> CappedCountPaginator:
        return CappedCountPaginator(
            object_list,
            per_page,
            count_cap=settings.PESA_API_COUNT_CAP,
            count_mode=self.count_mode,
            counted=counted,
        )

    def paginate_rows(
        self,
        queryset: QuerySet,
        request: Any,
        fetch: Callable[[int, int, int | None], tuple[list, int | None]],
    ) -> list:
        """A page whose rows and count come from one query of the caller's: `fetch`.

        `fetch(offset, limit, count_limit)` returns the rows and the count of all rows
        (counting at most `count_limit`), or None for the count when the page is empty.
        The envelope, links, 400s and 404s are those of `paginate_queryset`.
        """
        page_size = self.get_page_size(request)
        value = request.query_params.get(self.page_query_param, "1")
        count_limit = self.django_paginator_class(queryset, page_size).count_limit()
        if value in self.last_page_strings:
            # The last page's number needs the count first: a second query, for this case only.
            _rows, counted = fetch(0, page_size, count_limit)
            number = self.django_paginator_class(queryset, page_size, counted or 0).num_pages
        else:
            number = _positive_int(self.page_query_param, value, maximum=MAX_PAGE)
        rows, counted = fetch((number - 1) * page_size, page_size, count_limit)
        # An empty page is past the end, unless it is the first page of an empty list.
        paginator = self.django_paginator_class(queryset, page_size, counted or 0)
        try:
            self.page = Page(rows, paginator.validate_number(number), paginator)
        except InvalidPage as exc:
            message = self.invalid_page_message.format(page_number=value, message=str(exc))
            raise NotFound(message) from None
        self.request = request
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return rows

    def paginate_estimated(
        self, request: Any, fetch: Callable[[int, int], list], *, estimate: int
    ) -> list:
        """A page of a list too long to count on every request, from one query of the
        caller's: `fetch(offset, limit)` returns the rows, asked for one more than the page
        holds to tell whether a next page exists.

        `count` is `estimate` (`meta.count_estimated`), but never less than the rows the
        pages so far hold; on the last page it is exact. Past the end is a 404, as elsewhere.
        """
        page_size = self.get_page_size(request)
        value = request.query_params.get(self.page_query_param, "1")
        number = _positive_int(self.page_query_param, value, maximum=MAX_PAGE)
        offset = (number - 1) * page_size
        rows = fetch(offset, page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        if not rows and number > 1:
            message = self.invalid_page_message.format(page_number=value, message="no rows")
            raise NotFound(message)
        seen = offset + len(rows)
        count = max(estimate, seen + 1) if more else seen
        paginator = CappedCountPaginator(
            [], page_size, count_cap=None, count_mode="exact", counted=count
        )
        paginator.count_estimated = more
        self.page = Page(rows, number, paginator)
        self.request = request
        return rows

    def get_next_link(self) -> str | None:
        # DRF builds links from the request's Host; ours come from the public base URL.
        if not self.page.has_next():
            return None
        url = public_request_url(self.request)
        return replace_query_param(url, self.page_query_param, self.page.next_page_number())

    def get_previous_link(self) -> str | None:
        if not self.page.has_previous():
            return None
        url = public_request_url(self.request)
        number = self.page.previous_page_number()
        if number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, number)

    def get_paginated_response(self, data: Any) -> Response:
        paginator = self.page.paginator
        meta = api_meta(self.request)
        meta["page"] = self.page.number
        meta["page_size"] = paginator.per_page
        if paginator.count_capped:
            meta["count_capped"] = True
        if paginator.count_estimated:
            meta["count_estimated"] = True
        return Response(
            OrderedDict(
                [
                    ("count", paginator.count),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                    ("meta", meta),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["meta"] = _meta_schema()
        envelope["required"] = [*envelope.get("required", []), "meta"]
        return envelope


class PesaCursorPagination(CursorPagination):
    """Cursor pagination (no COUNT at all) in the same envelope; `count` is null.

    Views using it set `ordering` to a unique, indexed key, e.g. ("name", "id").
    """

    page_size_query_param = "page_size"
    ordering = ("-pk",)

    @property
    def max_page_size(self) -> int:
        return settings.PESA_API_MAX_PAGE_SIZE

    def query_params(self) -> list[str]:
        return [self.cursor_query_param, self.page_size_query_param]

    def get_page_size(self, request: Any) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        return _positive_int(self.page_size_query_param, value, maximum=self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        page = super().paginate_queryset(queryset, request, view)
        self.base_url = public_request_url(request)  # not the request's Host (links)
        return page

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise InvalidQueryParameters(
                detail="`cursor` is not valid; use the `next` or `previous` link as given.",
                errors={self.cursor_query_param: ["Invalid cursor."]},
            ) from None

    def get_paginated_response(self, data: Any) -> Response:
        meta = api_meta(self.request)
        meta["page_size"] = self.page_size
        return Response(
            OrderedDict(
                [
                    ("count", None),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                    ("meta", meta),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"] = {
            "count": {"type": "integer", "nullable": True},
            **envelope["properties"],
            "meta": _meta_schema(),
        }
        return envelope
