"""Reads of the search index: ranked hits over public articles and services.

The public rule is applied here, at query time: an entry counts only while its article is in
`live_articles()` / its service in `public_services()` (or the municipality's services).
Each language of the fallback chain is searched with its own configuration.

On PostgreSQL one statement answers every language of the chain. Per language it reads the
matches in tiers, best kind of match first (every word with a title hit, every word, a title
hit, any word; two tiers for one word), each tier capped at `CANDIDATES` rows taken shortest
document first through an index, and a tier runs only while the tiers before it found fewer
than `CANDIDATES`. The full ranking (`postgres.rank_expression`, written out as SQL text by
`_rank_sql`) then orders what the tiers found. So a very common word ("hoito" is in half of
all services) reads a few hundred rows, not all of its matches; the order is exact while a
tier has at most `CANDIDATES` matches. Widening to compound parts (a Finnish language that
found fewer than `ENOUGH`) rides along in the same statement, behind a condition PostgreSQL
checks once; similar titles (trigram index) cost one more query when nothing was found.

The statement is SQL text built here: the public rules are compiled once a request (one
probe per kind) and every tier reuses that text, so the ORM builds no query per tier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL

from cms.compiled_reads import server_binding_cursor
from frontend_api.models import SearchEntry
from frontend_api.search.analysis import did_you_mean, tokenize
from frontend_api.search.postgres import (
    RANK_WEIGHTS,
    TRIGRAM_THRESHOLD,
    build_search_query,
    ranked_rows,
    uses_voikko,
)

CANDIDATES = 200
# A tier reads at most this many of its matches (in the order the index hands them over)
# before taking the shortest `CANDIDATES`: a word in 10k documents costs 2k row reads and
# public checks, not 10k.
TIER_SCAN_LIMIT = 2000
MAX_QUERY_LENGTH = 200
# Fewer hits than this in Finnish: widen to compound parts (as postgres.ranked_search does).
ENOUGH = 10
# Best strategy first: what `meta.strategy` reports when languages answered differently.
STRATEGY_ORDER = ("any", "parts", "trigram", "basic", "none")
FIELDS = ("kind", "object_id", "lang", "title", "body")


@dataclass(frozen=True)
class SearchHit:
    kind: str
    object_id: int
    lang: str
    title: str
    body: str
    score: float
    # An article's page title and URL path, where the search read them with the hits.
    page_title: str | None = None
    url_path: str | None = None


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    strategy: str = "none"
    did_you_mean: str | None = None


def search_index(
    *,
    query: str,
    chain: tuple[str, ...],
    articles: QuerySet | None,
    services: QuerySet | None,
) -> SearchResults:
    """Hits for `query`, best first, over the given public querysets (None: that kind is off).

    `articles` must already hold one page per translation group (the served language or its
    fallback); a service is searched in the first language of `chain` it has an entry in.
    """
    results = SearchResults()
    if not tokenize(query) or (articles is None and services is None):
        return results
    if connections[SearchEntry.objects.db].vendor == "postgresql":
        visibility = _Visibility.of(articles=articles, services=services)
        _search_postgres(results, query=query, chain=chain, entries=visibility)
    else:
        entries = {
            lang: _visible_entries(lang, chain[:position], articles=articles, services=services)
            for position, lang in enumerate(chain)
        }
        _search_each_language(results, query=query, entries=entries)
    # Stable: equal scores keep the requested language first.
    results.hits.sort(key=lambda hit: -hit.score)
    return results


def _visible_entries(
    lang: str,
    earlier: tuple[str, ...],
    *,
    articles: QuerySet | None,
    services: QuerySet | None,
) -> QuerySet[SearchEntry]:
    """Entries of `lang` whose object is public; a service only if no earlier language has it.

    The public check is a scalar subquery per entry (an index probe), run only on the rows a
    tier reads. An EXISTS under OR lets PostgreSQL hash every public service first instead
    (50k rows, 10–30 ms a tier).
    """
    visible = Q()
    if articles is not None:
        visible |= Q(kind=SearchEntry.Kind.ARTICLE, public_article__isnull=False)
    if services is not None:
        visible |= Q(kind=SearchEntry.Kind.SERVICE, public_service__isnull=False)
    entries = SearchEntry.objects.alias(
        public_article=_first_pk(articles), public_service=_first_pk(services)
    )
    entries = entries.filter(visible, lang=lang)
    if earlier and services is not None:
        in_earlier = SearchEntry.objects.filter(
            kind=SearchEntry.Kind.SERVICE, object_id=OuterRef("object_id"), lang__in=earlier
        )
        entries = entries.exclude(Q(kind=SearchEntry.Kind.SERVICE) & Exists(in_earlier))
    return entries


def _first_pk(public: QuerySet | None) -> Subquery | Value:
    if public is None:
        return Value(None, output_field=BigIntegerField())
    return Subquery(public.order_by().filter(pk=OuterRef("object_id")).values("pk")[:1])


@dataclass
class _Language:
    """One language's part of the search: its queries and what it found."""

    lang: str
    earlier: tuple[str, ...]
    all_words: SearchQuery | None
    any_word: SearchQuery | None
    rows: list[tuple] = field(default_factory=list)
    strategy: str = "none"
    # Rows of the widening to compound parts, when it was part of the statement.
    parts_rows: list[tuple] | None = None
    # Rows of titles similar to the query: only where no language found anything.
    similar_rows: list[tuple] = field(default_factory=list)


@dataclass(frozen=True)
class _Visibility:
    """The public rule as SQL on the entry table: each kind's public queryset probed by id."""

    articles: QuerySet | None
    services: QuerySet | None
    sql: str
    params: tuple

    @classmethod
    def of(cls, *, articles: QuerySet | None, services: QuerySet | None) -> _Visibility:
        parts, params = [], []
        for kind, public in (
            (SearchEntry.Kind.ARTICLE, articles),
            (SearchEntry.Kind.SERVICE, services),
        ):
            if public is None:
                continue
            # Compiled on its own, once a request: the same text serves every tier.
            entry_object = RawSQL(f"{_ENTRY}.object_id", ())  # noqa: S611  (our own column name)
            probe = public.order_by().filter(pk=entry_object).values("pk")
            probe_sql, probe_params = probe[:1].query.sql_with_params()
            parts.append(f"({_ENTRY}.kind = %s AND ({probe_sql}) IS NOT NULL)")
            params += [str(kind), *probe_params]
        return cls(articles, services, "(" + " OR ".join(parts) + ")", tuple(params))

    def condition(self, language: _Language) -> tuple[str, list]:
        """`_visible_entries()` but the language, as a condition on the entry table."""
        sql, params = self.sql, list(self.params)
        if language.earlier and self.services is not None:
            earlier = ", ".join(["%s"] * len(language.earlier))
            # Only our own names go into the text; every value is a parameter. A scalar probe
            # per row read, as the public check: PostgreSQL would turn an EXISTS into a hash
            # of every service entry of the earlier languages (100k rows, 50 ms at 200k).
            sql += (
                f" AND NOT ({_ENTRY}.kind = %s AND (SELECT earlier.id FROM {_ENTRY} earlier"  # noqa: S608
                f" WHERE earlier.kind = %s AND earlier.object_id = {_ENTRY}.object_id"
                f" AND earlier.lang IN ({earlier}) LIMIT 1) IS NOT NULL)"
            )
            kind = str(SearchEntry.Kind.SERVICE)
            params += [kind, kind, *language.earlier]
        return sql, params


_ENTRY = '"frontend_api_searchentry"'


def _search_postgres(
    results: SearchResults, *, query: str, chain: tuple[str, ...], entries: _Visibility
) -> None:
    languages = []
    for position, lang in enumerate(chain):
        all_words = build_search_query(query, lang, mode="all")
        any_word = build_search_query(query, lang, mode="any")
        languages.append(_Language(lang, chain[:position], all_words, any_word))
    searchable = [language for language in languages if language.all_words and language.any_word]
    if searchable:
        statements = []
        for position, language in enumerate(searchable):
            statement = _tiered_select(
                f"l{position}",
                language,
                entries,
                tiers=_word_tiers(query, language.all_words, language.any_word),
                rank=_rank_sql(language.any_word, all_words=language.all_words),
                position=position,
                prefix=_has_prefix(language.any_word),
            )
            statements.append(statement)
            # Widening to compound parts rides along in the same statement, and runs only
            # if this language's tiers found fewer than ENOUGH (checked once): no 2nd query.
            parts = _parts_select(
                f"p{position}",
                language,
                entries,
                query=query,
                position=len(searchable) + position,
                gate=statement.found,
            )
            if parts is not None:
                language.parts_rows = []
                statements.append(parts)
        # Similar titles ride along too, behind a condition checked once: that no tier of
        # any language (compound parts included) found anything.
        found_nothing = _found_nothing(statements)
        for position, language in enumerate(searchable):
            statements.append(
                _similar_select(
                    f"t{position}",
                    language,
                    entries,
                    query=query,
                    position=2 * len(searchable) + position,
                    gate=found_nothing,
                )
            )
        for row in _run(statements):
            language = searchable[row[POSITION] % len(searchable)]
            if row[POSITION] < len(searchable):
                language.rows.append(row)
                language.strategy = "any"
            elif row[POSITION] < 2 * len(searchable):
                language.parts_rows.append(row)
            else:
                language.similar_rows.append(row)
    first = languages[0].lang
    results.did_you_mean = did_you_mean(query) if first == "fi" else None
    for language in languages:
        if language.any_word is not None and len(language.rows) < ENOUGH:
            if language.parts_rows is None:
                _widen_to_parts(language, entries, query=query)
            elif language.parts_rows:
                language.rows, language.strategy = language.parts_rows, "parts"
    strategies = []
    for language in languages:
        if language.similar_rows and not any(other.rows for other in languages):
            # Similar titles are for misspellings: only while no language found anything,
            # from the first language that has some.
            language.rows, language.strategy = language.similar_rows, "trigram"
        if language.rows:
            strategies.append(language.strategy)
        results.hits.extend(_hit(row) for row in language.rows)
    if strategies:
        results.strategy = min(strategies, key=STRATEGY_ORDER.index)


# A tier: entries matching every (vector column, query) pair.
_Tier = list[tuple[str, SearchQuery]]


def _word_tiers(query: str, all_words: SearchQuery, any_word: SearchQuery) -> list[_Tier]:
    """Kinds of match from best to worst, as `postgres.rank_expression` scores them."""
    title_any, body_any = ("title_vector", any_word), ("search_vector", any_word)
    if len(tokenize(query)) == 1:
        return [[title_any], [body_any]]
    body_all = ("search_vector", all_words)
    return [[body_all, title_any], [body_all], [title_any], [body_any]]


def _has_prefix(query: SearchQuery) -> bool:
    return any(":*" in str(getattr(part, "value", "")) for part in query.get_source_expressions())


def _tsquery(query: SearchQuery) -> tuple[str, list]:
    compiler = SearchEntry.objects.none().query.get_compiler(SearchEntry.objects.db)
    sql, params = compiler.compile(query)
    return f"({sql})", list(params)


def _rank_sql(
    query: SearchQuery, *, all_words: SearchQuery, any_word: SearchQuery | None = None
) -> tuple[str, list]:
    """`postgres.rank_expression(…, title_vector_field="title_vector")` as SQL text: the same
    terms, without building and compiling the expression for every request."""
    vector = f"{_ENTRY}.search_vector"
    title = f"COALESCE({_ENTRY}.title_vector, ts_filter({vector}, '{{a}}'))"
    query_sql, query_params = _tsquery(query)
    sql = f"ts_rank(%s::float4[], {vector}, {query_sql}, 1)"
    params: list = [RANK_WEIGHTS, *query_params]
    terms = [(title, query_sql, query_params, 1.0)]
    for tier_query, points in ((all_words, 2.0), (any_word, 1.0)):
        if tier_query is not None:
            tier_sql, tier_params = _tsquery(tier_query)
            terms += [(vector, tier_sql, tier_params, points), (title, tier_sql, tier_params, 1.0)]
    for column, term_sql, term_params, points in terms:
        sql += f" + CASE WHEN {column} @@ {term_sql} THEN %s ELSE %s END"
        params += [*term_params, points, 0.0]
    return sql, params


def _widen_to_parts(language: _Language, entries: _Visibility, *, query: str) -> None:
    """Few hits in Finnish: any part of a compound too ("puheterapeutti" finds "Puheterapian
    palvelut"), still ranking documents that match the words themselves first."""
    statement = _parts_select("parts", language, entries, query=query, position=0)
    if statement is None:
        return
    widened = _run([statement])
    if widened:
        language.rows, language.strategy = widened, "parts"


def _parts_select(
    name: str,
    language: _Language,
    entries: _Visibility,
    *,
    query: str,
    position: int,
    gate: tuple[str, list] | None = None,
) -> _Statement | None:
    """The widening of `_widen_to_parts()`, or None where there is none (not Voikko Finnish,
    no compound parts); `gate`: a condition every tier of it needs, checked once."""
    if not uses_voikko(language.lang):
        return None
    parts = build_search_query(query, language.lang, mode="parts")
    if parts is None:
        return None
    return _tiered_select(
        name,
        language,
        entries,
        tiers=[
            [("search_vector", language.any_word)],
            [("title_vector", parts)],
            [("search_vector", parts)],
        ],
        rank=_rank_sql(parts, all_words=language.all_words, any_word=language.any_word),
        position=position,
        prefix=_has_prefix(language.any_word) or _has_prefix(parts),
        gate=gate,
    )


def _similar_select(
    name: str,
    language: _Language,
    entries: _Visibility,
    *,
    query: str,
    position: int,
    gate: tuple[str, list],
) -> _Statement:
    """Titles similar to the query (pg_trgm word similarity), through the trigram index.

    The index answers `%>` at the connection's `pg_trgm.word_similarity_threshold`, set to
    TRIGRAM_THRESHOLD by the connection options (settings.POSTGRES_OPTIONS); the similarity
    is still compared with TRIGRAM_THRESHOLD itself. As a tier, the first TIER_SCAN_LIMIT
    similar titles are read, then the most similar kept: a stop word ("mitä") is similar to
    thousands of titles. `gate`: a condition without columns, checked once.
    """
    visible_sql, visible_params = entries.condition(language)
    gate_sql, gate_params = gate
    # Only our own names go into the text; every value is a parameter.
    similar = (
        f"{name}_similar (id, rank) AS (SELECT {_ENTRY}.id,"  # noqa: S608
        f" word_similarity(%s, {_ENTRY}.title)::float8 FROM {_ENTRY}"
        f" WHERE {gate_sql} AND {_ENTRY}.lang = %s AND {visible_sql}"
        f" AND {_ENTRY}.title %%> %s AND word_similarity(%s, {_ENTRY}.title) >= %s LIMIT %s)"
    )
    similar_params = [
        query,
        *gate_params,
        language.lang,
        *visible_params,
        query,
        query,
        TRIGRAM_THRESHOLD,
        TIER_SCAN_LIMIT,
    ]
    columns = ", ".join(f"{_ENTRY}.{column}" for column in ("id", *FIELDS))
    select = (
        f"SELECT {columns}, {name}_similar.rank, %s AS position FROM {name}_similar"  # noqa: S608
        f" JOIN {_ENTRY} ON {_ENTRY}.id = {name}_similar.id ORDER BY 7 DESC, 1 ASC LIMIT %s"
    )
    return _Statement([(similar, similar_params)], (select, [position, CANDIDATES]))


def _found_nothing(statements: list[_Statement]) -> tuple[str, list]:
    """A condition without columns: that no tier of `statements` found anything."""
    names = [name for statement in statements for name in statement.tiers]
    found = " UNION ALL ".join(f"SELECT 1 FROM {name}" for name in names)  # noqa: S608
    return f"NOT EXISTS ({found})", []


@dataclass(frozen=True)
class _Statement:
    ctes: list[tuple[str, list]]
    select: tuple[str, list]
    # The CTEs holding what the statement's tiers found (ids).
    tiers: tuple[str, ...] = ()
    # A condition without columns: whether the tiers found fewer than ENOUGH.
    found: tuple[str, list] | None = None


def _tiered_select(
    name: str,
    language: _Language,
    entries: _Visibility,
    *,
    tiers: list[_Tier],
    rank: tuple[str, list],
    position: int,
    prefix: bool,
    gate: tuple[str, list] | None = None,
) -> _Statement:
    """The best `CANDIDATES` entries of the tiers' matches by `rank` (see the module docstring).

    Each tier is a CTE of at most `CANDIDATES` ids, shortest documents first; from the second
    on it carries a condition without columns (how many the tiers before found), which
    PostgreSQL checks once before reading anything. Written as SQL text (only our own names
    and compiled fragments go into it; every value is a parameter).
    """
    visible_sql, visible_params = entries.condition(language)
    # PostgreSQL estimates prefix matches ('perheneuvol':*) far too common and would walk the
    # length index through every entry of the language: read those through the GIN index.
    order = f"{_ENTRY}.lexeme_count + 0" if prefix else f"{_ENTRY}.lexeme_count"
    ctes: list[tuple[str, list]] = []
    names: list[str] = []
    for index, tier in enumerate(tiers):
        conditions = [f"{_ENTRY}.lang = {_language_literal(language.lang)}", visible_sql]
        params = [*visible_params]
        for column, tier_query in tier:
            tier_sql, tier_params = _tsquery(tier_query)
            conditions.append(f"{_ENTRY}.{column} @@ {tier_sql}")
            params += tier_params
        if names:
            found = " UNION ".join(f"SELECT {earlier}.id FROM {earlier}" for earlier in names)  # noqa: S608
            conditions.append(f"(SELECT count(*) FROM ({found}) AS found) < %s")  # noqa: S608
            params.append(CANDIDATES)
        if gate is not None:
            conditions.append(gate[0])
            params += gate[1]
        names.append(f"{name}_tier{index}")
        where = " AND ".join(conditions)
        # The first TIER_SCAN_LIMIT matches, then the shortest of them: a walk of the length
        # index stops at CANDIDATES matches anyway; a GIN read stops early.
        ctes.append(
            (
                f"{names[-1]} (id) AS (SELECT scanned.id FROM (SELECT {_ENTRY}.id,"  # noqa: S608
                f" {order} AS length FROM {_ENTRY} WHERE {where} LIMIT %s) AS scanned"
                " ORDER BY scanned.length, scanned.id LIMIT %s)",
                [*params, TIER_SCAN_LIMIT, CANDIDATES],
            )
        )
    # Qualified: a bare `id` would silently mean the outer query's column.
    found = " UNION ".join(f"SELECT {tier_name}.id FROM {tier_name}" for tier_name in names)  # noqa: S608
    columns = ", ".join(f"{_ENTRY}.{column}" for column in ("id", *FIELDS))
    rank_sql, rank_params = rank
    select = (
        f"SELECT {columns}, {rank_sql} AS rank, %s AS position FROM {_ENTRY}"  # noqa: S608
        f" WHERE {_ENTRY}.id IN ({found}) ORDER BY 7 DESC, 1 ASC LIMIT %s"
    )
    enough = (f"(SELECT count(*) FROM ({found}) AS found) < %s", [ENOUGH])  # noqa: S608
    return _Statement(ctes, (select, [*rank_params, position, CANDIDATES]), tuple(names), enough)


_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


def _language_literal(lang: str) -> str:
    """`lang` as an SQL literal: each language's entries have their own GIN indexes
    (migration 0006), and a generic plan can use a partial index only where the statement
    itself names the language. Codes come from the settings; anything else is refused."""
    if not _LANGUAGE_CODE.fullmatch(lang):
        raise ValueError(f"not a language code: {lang!r}")
    return f"'{lang}'"


# Columns of a row of `_run`: pk, kind, object_id, lang, title, body, rank, position, then
# an article's page title and URL path (null for a service).
POSITION = 7


def _run(statements: list[_Statement]) -> list[tuple]:
    """One SQL statement for all: the CTEs of every part, then their selects (UNION ALL),
    with the page title and path of the article hits (the view needs them: no 2nd query)."""
    ctes = [cte for statement in statements for cte in statement.ctes]
    selects = [statement.select for statement in statements]
    sql = "WITH " + ", ".join(cte_sql for cte_sql, _params in ctes) + " "
    found = " UNION ALL ".join(f"({select_sql})" for select_sql, _params in selects)
    sql += (
        f"SELECT found.*, page.title, page.url_path FROM ({found}) AS found"  # noqa: S608
        " LEFT JOIN wagtailcore_page AS page ON found.kind = %s AND page.id = found.object_id"
        " ORDER BY found.position, found.rank DESC, found.id"
    )
    params = [param for _sql, cte_params in ctes for param in cte_params]
    params += [param for _sql, select_params in selects for param in select_params]
    params.append(str(SearchEntry.Kind.ARTICLE))
    with server_binding_cursor(connections[SearchEntry.objects.db], prepare=True) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _hit(row: tuple) -> SearchHit:
    _pk, kind, object_id, lang, title, body, rank, _position, page_title, url_path = row
    return SearchHit(
        kind=kind,
        object_id=object_id,
        lang=lang,
        title=title,
        body=body,
        score=round(float(rank or 0.0), 4),
        page_title=page_title,
        url_path=url_path,
    )


def _search_each_language(
    results: SearchResults, *, query: str, entries: dict[str, QuerySet]
) -> None:
    """Outside PostgreSQL: `ranked_rows()` per language (plain matching, `basic`)."""
    strategies = []
    for position, (lang, visible) in enumerate(entries.items()):
        outcome = ranked_rows(
            visible,
            query=query,
            lang=lang,
            vector_field="search_vector",
            title_field="title",
            text_fields=("body",),
            fields=FIELDS,
            limit=CANDIDATES,
            fuzzy=not results.hits,
        )
        if position == 0:
            results.did_you_mean = outcome.did_you_mean
        found = [
            SearchHit(
                kind=entry.kind,
                object_id=entry.object_id,
                lang=entry.lang,
                title=entry.title,
                body=entry.body,
                score=round(float(getattr(entry, "rank", 0.0) or 0.0), 4),
            )
            for entry in outcome.rows
        ]
        if found:
            strategies.append(outcome.strategy)
        results.hits.extend(found)
    if strategies:
        results.strategy = min(strategies, key=STRATEGY_ORDER.index)
    elif tokenize(query):
        results.strategy = "none"
