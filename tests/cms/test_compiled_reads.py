"""A `CompiledRead` compiles its SQL once per shape and runs it with each call's values,
including the page bounds that Django writes into the SQL as literals."""

import pytest
from django.db import connection
from django.db.models.expressions import RawSQL
from wagtail.models import Locale

from cms.compiled_reads import CompiledRead, WithQueries, _literals_as_parameters, _sentinel

pytestmark = pytest.mark.django_db


def _counting(build):
    calls = []

    def counted(**kwargs):
        calls.append(kwargs)
        return build(**kwargs)

    return counted, calls


@pytest.fixture
def locales():
    codes = ["fi", "sv", "en", "se", "de"]
    for code in codes:
        Locale.objects.get_or_create(language_code=code)
    return sorted(codes)


def test_page_bounds_are_parameters_so_every_page_shares_one_compiled_statement(locales):
    def page(*, offset, limit):
        codes = Locale.objects.order_by("language_code").values("language_code")
        return codes[offset : offset + limit]

    build, calls = _counting(page)
    read = CompiledRead(build)

    pages = [read.rows(shape={}, offset=offset, limit=2) for offset in (0, 2, 4)]
    longer = read.rows(shape={}, offset=1, limit=3)

    assert [[row["language_code"] for row in page] for page in pages] == [
        locales[0:2],
        locales[2:4],
        locales[4:6],
    ]
    assert [row["language_code"] for row in longer] == locales[1:4]
    assert len(calls) == 1


def test_named_queries_come_first_and_keep_their_parameters_in_order(locales):
    def build(*, code, limit):
        first = Locale.objects.filter(language_code__gte=code).order_by("language_code")
        named = first.values("pk")[:limit]
        rows = Locale.objects.filter(pk__in=RawSQL("SELECT id FROM chosen", ())).order_by(
            "language_code"
        )
        return WithQueries(rows.values("language_code"), chosen=(("id",), named))

    read = CompiledRead(build)

    rows = read.rows(shape={}, code="en", limit=2)

    assert [row["language_code"] for row in rows] == [c for c in locales if c >= "en"][:2]


def test_only_the_sentinel_literals_become_placeholders():
    offset, limit = _sentinel("offset", 0), _sentinel("limit", 0)
    sql = (
        f"SELECT '100%%', x FROM t WHERE a = %s AND b LIKE '{offset}x' ORDER BY x"  # noqa: S608
        f" LIMIT {limit} OFFSET {offset}"
    )

    rewritten, params = _literals_as_parameters(sql, ["a"], {"offset": offset, "limit": limit})

    assert rewritten == (
        f"SELECT '100%%', x FROM t WHERE a = %s AND b LIKE '{offset}x' ORDER BY x"  # noqa: S608
        " LIMIT %s OFFSET %s"
    )
    assert params == ["a", limit, offset]


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_prepared_read_is_prepared_although_django_turns_automatic_preparation_off(locales):
    def page(*, offset, limit):
        codes = Locale.objects.order_by("language_code").values("language_code")
        return codes[offset : offset + limit]

    prepared, unprepared = CompiledRead(page), CompiledRead(page, prepare=False)
    before = len(_prepared_statements())

    prepared.rows(shape={}, offset=0, limit=2)
    prepared.rows(shape={}, offset=2, limit=2)
    unprepared.rows(shape={}, offset=1, limit=2)

    statements = _prepared_statements()
    assert len(statements) == before + 1
    assert "wagtailcore_locale" in statements[-1]
    assert connection.connection.prepare_threshold > 10**9  # ORM queries stay unprepared
