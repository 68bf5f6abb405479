"""Reads of the search index: ranked hits over public articles and services.

The public rule is applied here, at query time: an entry counts only while its article is in
`live_articles()` / its service in `public_services()` (or the municipality's services).
Each language of the fallback chain is searched with its own configuration.

On PostgreSQL one statement answers every language of the chain. Per language it reads the
matches in tiers, best kind of match first (every word with a title hit, every word, a title
hit, any word; two tiers for one word), each tier capped at `CANDIDATES` rows taken shortest
document first through an index, and a tier runs only while the tiers before it found fewer
than `CANDIDATES`. The full ranking (`postgres.rank_expression`) then orders what the tiers
found. So a very common word ("hoito" is in half of all services) reads a few hundred rows,
not all of its matches; the order is exact while a tier has at most `CANDIDATES` matches.
Widening costs one more query, only when needed: compound parts when a Finnish search found
fewer than 10, similar titles (trigram index) when nothing was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchQuery, TrigramWordSimilarity
from django.db import connections, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL

from frontend_api.models import SearchEntry
from frontend_api.search.analysis import did_you_mean, tokenize
from frontend_api.search.postgres import (
    TRIGRAM_THRESHOLD,
    build_search_query,
    rank_expression,
    ranked_rows,
    uses_voikko,
)

CANDIDATES = 200
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
    entries = {
        lang: _visible_entries(lang, chain[:position], articles=articles, services=services)
        for position, lang in enumerate(chain)
    }
    if connections[SearchEntry.objects.db].vendor == "postgresql":
        _search_postgres(results, query=query, entries=entries)
    else:
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
    entries: QuerySet
    all_words: SearchQuery | None
    any_word: SearchQuery | None
    rows: list[tuple] = field(default_factory=list)
    strategy: str = "none"


def _search_postgres(results: SearchResults, *, query: str, entries: dict[str, QuerySet]) -> None:
    languages = []
    for lang, visible in entries.items():
        all_words = build_search_query(query, lang, mode="all")
        any_word = build_search_query(query, lang, mode="any")
        languages.append(_Language(lang, visible, all_words, any_word))
    searchable = [language for language in languages if language.all_words and language.any_word]
    if searchable:
        statements = [
            _tiered_select(
                f"l{position}",
                language.entries,
                tiers=_word_tiers(query, language.all_words, language.any_word),
                rank=rank_expression(
                    "search_vector",
                    language.any_word,
                    all_words=language.all_words,
                    title_vector_field="title_vector",
                ),
                position=position,
                prefix=_has_prefix(language.any_word),
            )
            for position, language in enumerate(searchable)
        ]
        for row in _run(statements):
            language = searchable[row[-1]]
            language.rows.append(row)
            language.strategy = "any"
    first = languages[0].lang
    results.did_you_mean = did_you_mean(query) if first == "fi" else None
    strategies = []
    for language in languages:
        if language.any_word is not None and len(language.rows) < ENOUGH:
            _widen_to_parts(language, query=query)
        if language.any_word is not None and not language.rows and not results.hits:
            # Similar titles are for misspellings: in a fallback language only while nothing
            # was found yet.
            _similar_titles(language, query=query)
        if language.rows:
            strategies.append(language.strategy)
        results.hits.extend(_hit(row) for row in language.rows)
    if strategies:
        results.strategy = min(strategies, key=STRATEGY_ORDER.index)


def _word_tiers(query: str, all_words: SearchQuery, any_word: SearchQuery) -> list[Q]:
    """Kinds of match from best to worst, as `rank_expression` scores them."""
    title_any, body_any = Q(title_vector=any_word), Q(search_vector=any_word)
    if len(tokenize(query)) == 1:
        return [title_any, body_any]
    body_all = Q(search_vector=all_words)
    return [body_all & title_any, body_all, title_any, body_any]


def _has_prefix(query: SearchQuery) -> bool:
    return any(":*" in str(getattr(part, "value", "")) for part in query.get_source_expressions())


def _widen_to_parts(language: _Language, *, query: str) -> None:
    """Few hits in Finnish: any part of a compound too ("puheterapeutti" finds "Puheterapian
    palvelut"), still ranking documents that match the words themselves first."""
    if not uses_voikko(language.lang):
        return
    parts = build_search_query(query, language.lang, mode="parts")
    if parts is None:
        return
    statement = _tiered_select(
        "parts",
        language.entries,
        tiers=[Q(search_vector=language.any_word), Q(title_vector=parts), Q(search_vector=parts)],
        rank=rank_expression(
            "search_vector",
            parts,
            all_words=language.all_words,
            any_word=language.any_word,
            title_vector_field="title_vector",
        ),
        position=0,
        prefix=_has_prefix(language.any_word) or _has_prefix(parts),
    )
    widened = _run([statement])
    if widened:
        language.rows, language.strategy = widened, "parts"


def _similar_titles(language: _Language, *, query: str) -> None:
    """Titles similar to the query (pg_trgm word similarity), through the trigram index.

    The index answers `<%` at the session's threshold only, so it is set for this
    transaction; the similarity is still compared with TRIGRAM_THRESHOLD itself.
    """
    similar = (
        language.entries.filter(title__trigram_word_similar=query)
        .annotate(rank=TrigramWordSimilarity(query, "title"), position=Value(0))
        .filter(rank__gte=TRIGRAM_THRESHOLD)
        .order_by("-rank", "pk")
        .values_list("pk", *FIELDS, "rank", "position")[:CANDIDATES]
    )
    using = similar.db
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(TRIGRAM_THRESHOLD)],
        )
        rows = list(similar)
    if rows:
        language.rows, language.strategy = rows, "trigram"


@dataclass(frozen=True)
class _Statement:
    ctes: list[tuple[str, tuple]]
    select: tuple[str, tuple]


def _tiered_select(
    name: str, entries: QuerySet, *, tiers: list[Q], rank: Any, position: int, prefix: bool
) -> _Statement:
    """The best `CANDIDATES` entries of the tiers' matches by `rank` (see the module docstring).

    Each tier is a CTE of at most `CANDIDATES` ids, shortest documents first; from the second
    on it carries a condition without columns (how many the tiers before found), which
    PostgreSQL checks once before reading anything.
    """
    ctes: list[tuple[str, tuple]] = []
    names: list[str] = []
    # PostgreSQL estimates prefix matches ('perheneuvol':*) far too common and would walk the
    # length index through every entry of the language: read those through the GIN index.
    order = F("lexeme_count") + 0 if prefix else F("lexeme_count")
    for index, tier in enumerate(tiers):
        matches = entries.filter(tier)
        if names:
            # Only our own CTE names go into the text; the cap is a parameter.
            found = " UNION ".join(f"SELECT {earlier}.id FROM {earlier}" for earlier in names)  # noqa: S608
            matches = matches.filter(
                RawSQL(  # noqa: S611
                    f"(SELECT count(*) FROM ({found}) AS found) < %s",  # noqa: S608
                    (CANDIDATES,),
                    output_field=BooleanField(),
                )
            )
        capped = matches.order_by(order, "pk").values_list("pk")[:CANDIDATES]
        sql, params = capped.query.sql_with_params()
        names.append(f"{name}_tier{index}")
        ctes.append((f"{names[-1]} (id) AS ({sql})", params))
    # Qualified: a bare `id` would silently mean the outer query's column.
    found = " UNION ".join(f"SELECT {tier_name}.id FROM {tier_name}" for tier_name in names)  # noqa: S608
    best = (
        SearchEntry.objects.filter(pk__in=RawSQL(found, ()))  # noqa: S611
        .annotate(rank=rank, position=Value(position))
        .order_by("-rank", "pk")
        .values_list("pk", *FIELDS, "rank", "position")[:CANDIDATES]
    )
    return _Statement(ctes, best.query.sql_with_params())


def _run(statements: list[_Statement]) -> list[tuple]:
    """One SQL statement for all: the CTEs of every part, then their selects (UNION ALL)."""
    ctes = [cte for statement in statements for cte in statement.ctes]
    selects = [statement.select for statement in statements]
    sql = "WITH " + ", ".join(cte_sql for cte_sql, _params in ctes) + " "
    if len(selects) == 1:
        sql += selects[0][0]
    else:
        # Columns: pk, kind, object_id, lang, title, body, rank, position.
        sql += " UNION ALL ".join(f"({select_sql})" for select_sql, _params in selects)
        sql += " ORDER BY 8, 7 DESC, 1"
    params = [param for _sql, cte_params in ctes for param in cte_params]
    params += [param for _sql, select_params in selects for param in select_params]
    with connections[SearchEntry.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _hit(row: tuple) -> SearchHit:
    _pk, kind, object_id, lang, title, body, rank, _position = row
    return SearchHit(
        kind=kind,
        object_id=object_id,
        lang=lang,
        title=title,
        body=body,
        score=round(float(rank or 0.0), 4),
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
