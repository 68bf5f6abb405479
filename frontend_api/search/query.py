"""Reads of the search index: ranked hits over public articles and services, one language.

The public rule is applied here, at query time: an entry counts only while its article is in
`live_articles()` / its service in `public_services()` (or the municipality's services).
Each language of the fallback chain is searched with its own configuration. Per language a
cheap score (one ts_rank) picks at most `CANDIDATES` visible matches and only those get the
full ranking (`postgres.ranked_rows`), so the costly title tiers never score the whole table;
one query per language unless it has to widen (compound parts, trigram).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from frontend_api.models import SearchEntry
from frontend_api.search.analysis import tokenize
from frontend_api.search.postgres import ranked_rows

CANDIDATES = 200
MAX_QUERY_LENGTH = 200
# Best strategy first: what `meta.strategy` reports when languages answered differently.
STRATEGY_ORDER = ("any", "parts", "trigram", "basic", "none")


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
    with _without_jit(SearchEntry.objects.db):
        _search(results, query=query, chain=chain, articles=articles, services=services)
    return results


@contextmanager
def _without_jit(using: str) -> Iterator[None]:
    """PostgreSQL's JIT off for the search queries (one transaction).

    Ranking and trigram plans are costed high, so JIT compiles them (50–400 ms measured on
    the bench) for queries that then run in tens of ms.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def _search(
    results: SearchResults,
    *,
    query: str,
    chain: tuple[str, ...],
    articles: QuerySet | None,
    services: QuerySet | None,
) -> None:
    strategies = []
    for position, lang in enumerate(chain):
        # Correlated EXISTS, not `object_id IN (…)`: PostgreSQL then checks only the entries
        # that match the words (an index probe each) instead of hashing every public row.
        visible = Q()
        if articles is not None:
            visible |= Q(kind=SearchEntry.Kind.ARTICLE) & Exists(
                articles.order_by().filter(pk=OuterRef("object_id"))
            )
        if services is not None:
            visible |= Q(kind=SearchEntry.Kind.SERVICE) & Exists(
                services.order_by().filter(pk=OuterRef("object_id"))
            )
        entries = SearchEntry.objects.filter(visible, lang=lang)
        if position and services is not None:
            earlier = SearchEntry.objects.filter(
                kind=SearchEntry.Kind.SERVICE,
                object_id=OuterRef("object_id"),
                lang__in=chain[:position],
            )
            entries = entries.exclude(Q(kind=SearchEntry.Kind.SERVICE) & Exists(earlier))
        outcome = ranked_rows(
            entries,
            query=query,
            lang=lang,
            vector_field="search_vector",
            title_field="title",
            text_fields=("body",),
            fields=("kind", "object_id", "lang", "title", "body"),
            limit=CANDIDATES,
            # Similar titles (trigram) are for misspellings: in a fallback language only
            # while nothing was found yet, as that step reads every title of the language.
            fuzzy=not results.hits,
        )
        if position == 0:
            # Only the requested language's own words can be misspelt ones.
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
    # Stable: equal scores keep the requested language first.
    results.hits.sort(key=lambda hit: -hit.score)
    if strategies:
        results.strategy = min(strategies, key=STRATEGY_ORDER.index)
    elif tokenize(query):
        results.strategy = "none"
