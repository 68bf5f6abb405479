"""Search documents, queries and ranking for PostgreSQL full-text search (model-independent).

A model stores one `SearchVectorField` per language (`search_fi`, `search_sv`, …), filled
by a service after save or sync from `build_search_document()` via `search_vector()`.
Finnish uses Voikko terms under the `simple` configuration (no stemming on top of base
forms); Swedish and English use PostgreSQL's `swedish` and `english`. `ranked_search()`
answers a query: all words → any word → trigram on titles, titles ranked above bodies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorExact,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db import connections
from django.db.models import Case, F, FloatField, Func, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from frontend_api.search.analysis import (
    did_you_mean,
    finnish_index_terms,
    finnish_query_terms,
    tokenize,
    voikko_available,
    word_forms,
)

PG_CONFIGS = {"fi": "finnish", "sv": "swedish", "en": "english"}
# ts_rank weights in D, C, B, A order: a title (A) hit counts far more than a body (B) hit.
RANK_WEIGHTS = [0.05, 0.1, 0.3, 1.0]
TRIGRAM_THRESHOLD = settings.PESA_SEARCH_TRIGRAM_THRESHOLD
_TSQUERY_UNSAFE = re.compile(r"[^\w-]", re.UNICODE)


def uses_voikko(lang: str, use_voikko: bool | None = None) -> bool:
    if lang != "fi":
        return False
    return voikko_available() if use_voikko is None else use_voikko and voikko_available()


def search_config(lang: str, *, use_voikko: bool | None = None) -> str:
    """The text search configuration a language's vector and queries use."""
    if uses_voikko(lang, use_voikko):
        return "simple"
    return PG_CONFIGS.get(lang, "simple")


def analyze_text(text: str, lang: str, *, use_voikko: bool | None = None) -> str:
    """Text as it goes into to_tsvector: Voikko terms for Finnish, the text itself otherwise."""
    if uses_voikko(lang, use_voikko):
        return " ".join(finnish_index_terms(text))
    return text


def build_search_document(
    title: Mapping[str, str | None],
    body: Mapping[str, str | None],
    *,
    use_voikko: bool | None = None,
) -> dict[str, dict[str, str]]:
    """{lang: {"config", "title", "body"}}: the weighted text per language, ready to store.

    Computed in Python (Voikko does not run inside PostgreSQL); pass it to `search_vector()`.
    """
    document = {}
    for lang in dict.fromkeys([*title, *body]):
        title_text, body_text = title.get(lang) or "", body.get(lang) or ""
        if not (title_text or body_text):
            continue
        document[lang] = {
            "config": search_config(lang, use_voikko=use_voikko),
            "title": analyze_text(title_text, lang, use_voikko=use_voikko),
            "body": analyze_text(body_text, lang, use_voikko=use_voikko),
        }
    return document


def search_vector(document: Mapping[str, Mapping[str, str]], lang: str) -> SearchVector | Value:
    """The expression that stores `document[lang]` in a SearchVectorField: title A, body B."""
    part = document.get(lang)
    if part is None:
        return Value(None, output_field=SearchVectorField())
    config = part["config"]
    return SearchVector(Value(part["title"]), config=config, weight="A") + SearchVector(
        Value(part["body"]), config=config, weight="B"
    )


def _lexeme(term: str, *, prefix: bool = False) -> str | None:
    term = _TSQUERY_UNSAFE.sub("", term.lower()).strip("-")
    if not term:
        return None
    return f"'{term}'" + (":*" if prefix else "")


def _alternatives(terms: Sequence[str], compounds: Sequence[Sequence[str]]) -> list[str]:
    alternatives = [lexeme for term in terms if (lexeme := _lexeme(term))]
    for parts in compounds:
        lexemes = [lexeme for part in parts if (lexeme := _lexeme(part))]
        if len(lexemes) > 1:
            # Parts follow each other in the index (and in split text: "lasten neuvola").
            alternatives.append("(" + " <-> ".join(lexemes) + ")")
    return list(dict.fromkeys(alternatives))


def finnish_tsquery(query: str, *, mode: str = "all") -> str | None:
    """A raw tsquery over Voikko terms: each word matches by any base form, by its compound
    parts in a row, or (misspelt) by Voikko's suggestions and as a prefix. Mode "all" needs
    every word, "any" one word, "parts" any single base form or compound part."""
    words = finnish_query_terms(query)
    if mode == "parts":
        terms = {
            lexeme
            for word in words
            for term in [*word.baseforms, *(part for parts in word.compounds for part in parts)]
            if len(term) >= 4 and (lexeme := _lexeme(term))
        }
        return " | ".join(sorted(terms)) or None
    groups = []
    for word in words:
        alternatives = _alternatives(word.baseforms, word.compounds)
        if not word.known:
            for suggestion in word.suggestions:
                forms = word_forms(suggestion)
                alternatives += _alternatives(forms.baseforms, forms.compounds)
            if len(word.word) >= 4 and (prefix := _lexeme(word.word, prefix=True)):
                alternatives.append(prefix)
        if alternatives:
            groups.append("(" + " | ".join(dict.fromkeys(alternatives)) + ")")
    if not groups:
        return None
    return (" & " if mode == "all" else " | ").join(groups)


def build_search_query(
    query: str, lang: str, *, mode: str = "all", use_voikko: bool | None = None
) -> SearchQuery | None:
    """The SearchQuery for `query` in `lang`; mode "all" needs every word, "any" one of them,
    "parts" (Finnish with Voikko) any part of a compound."""
    if not tokenize(query):
        return None
    config = search_config(lang, use_voikko=use_voikko)
    if uses_voikko(lang, use_voikko):
        raw = finnish_tsquery(query, mode=mode)
        return SearchQuery(raw, search_type="raw", config=config) if raw else None
    if mode == "all":
        return SearchQuery(query, search_type="websearch", config=config)
    lexemes = [lexeme for word in tokenize(query) if (lexeme := _lexeme(word))]
    return SearchQuery(" | ".join(lexemes), search_type="raw", config=config)


class TitleLexemes(Func):
    """ts_filter(vector, '{a}'): only the title's (weight A) lexemes."""

    template = "ts_filter(%(expressions)s, '{a}')"
    output_field = SearchVectorField()


def _bonus(condition, points: float) -> Case:
    return Case(When(condition, then=Value(points)), default=Value(0.0), output_field=FloatField())


def rank_expression(
    vector_field: str,
    query: SearchQuery,
    *,
    all_words: SearchQuery | None = None,
    any_word: SearchQuery | None = None,
    title_vector_field: str | None = None,
):
    """Tiers, then ts_rank: matching every word (+2) beats matching some (+1) beats matching
    only compound parts; a title match (+1 each) beats a body match; ts_rank orders within.

    `title_vector_field`: a stored copy of the title lexemes, read instead of ts_filter() where
    it is not null (ts_filter copies the whole vector)."""
    vector, title = F(vector_field), TitleLexemes(F(vector_field))
    if title_vector_field is not None:
        title = Coalesce(F(title_vector_field), title)
    rank = SearchRank(vector, query, weights=RANK_WEIGHTS, normalization=1)
    rank += _bonus(SearchVectorExact(title, query), 1.0)
    for tier_query, points in ((all_words, 2.0), (any_word, 1.0)):
        if tier_query is not None:
            rank += _bonus(SearchVectorExact(vector, tier_query), points)
            rank += _bonus(SearchVectorExact(title, tier_query), 1.0)
    return rank


def basic_search(queryset: QuerySet, *, query: str, fields: Sequence[str]) -> QuerySet:
    """Without PostgreSQL: every word must occur (case-insensitively) in one of `fields`."""
    words = tokenize(query)
    if not words:
        return queryset.none()
    condition = Q()
    for word in words:
        condition &= reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields))
    return queryset.filter(condition).order_by(fields[0], "pk")


@dataclass
class SearchOutcome:
    queryset: QuerySet
    strategy: str  # "all", "any", "trigram", "basic" (not PostgreSQL) or "none"
    did_you_mean: str | None


def ranked_search(
    queryset: QuerySet,
    *,
    query: str,
    lang: str,
    vector_field: str,
    title_field: str,
    text_fields: Sequence[str] = (),
    use_voikko: bool | None = None,
    enough: int = 10,
) -> SearchOutcome:
    """`queryset` filtered to matches of `query` and ordered best first (annotation `rank`).

    Matches any word, ranked with documents matching every word first; with fewer than
    `enough` hits, any part of a Finnish compound too; with none, trigram similarity on
    `title_field`. Costs one capped COUNT (and one EXISTS when widening) before the query.
    Outside PostgreSQL: `basic_search()` over `title_field` and `text_fields`.
    """
    suggestion = did_you_mean(query) if lang == "fi" else None
    if connections[queryset.db].vendor != "postgresql":
        return SearchOutcome(
            basic_search(queryset, query=query, fields=[title_field, *text_fields]),
            "basic" if tokenize(query) else "none",
            suggestion,
        )

    all_words = build_search_query(query, lang, mode="all", use_voikko=use_voikko)
    any_word = build_search_query(query, lang, mode="any", use_voikko=use_voikko)
    if all_words is None or any_word is None:
        return SearchOutcome(queryset.none(), "none", suggestion)
    found = queryset.filter(**{vector_field: any_word})[:enough].count()
    if found < enough and uses_voikko(lang, use_voikko):
        # Few hits: widen to compound parts ("puheterapeutti" finds "Puheterapian palvelut"),
        # still ranking documents that match the words themselves first.
        parts = build_search_query(query, lang, mode="parts", use_voikko=use_voikko)
        if parts is not None and queryset.filter(**{vector_field: parts}).exists():
            rank = rank_expression(vector_field, parts, all_words=all_words, any_word=any_word)
            matches = queryset.filter(**{vector_field: parts}).annotate(rank=rank)
            return SearchOutcome(matches.order_by("-rank", "pk"), "parts", suggestion)
    if found:
        rank = rank_expression(vector_field, any_word, all_words=all_words)
        matches = queryset.filter(**{vector_field: any_word}).annotate(rank=rank)
        return SearchOutcome(matches.order_by("-rank", "pk"), "any", suggestion)
    similar = (
        queryset.annotate(rank=TrigramWordSimilarity(query, title_field))
        .filter(rank__gte=TRIGRAM_THRESHOLD)
        .order_by("-rank", "pk")
    )
    return SearchOutcome(similar, "trigram", suggestion)


@dataclass
class RankedRows:
    rows: list  # model instances, best first, each with `rank`
    strategy: str  # as SearchOutcome.strategy
    did_you_mean: str | None


def _capped_ranking(
    queryset: QuerySet,
    match: SearchQuery,
    rank: Any,
    *,
    vector_field: str,
    fields: Sequence[str],
    limit: int,
    pool: int,
) -> list:
    """The best `limit` rows of `queryset` matching `match`, by `rank`, scoring few rows.

    A cheap score (one ts_rank, the title weighted as in `rank`) picks `pool` candidates
    over the GIN matches; only those get the full `rank` expression, whose title filters
    are the costly part. Past `pool` matches the order can differ from ranking them all.
    The public-visibility filters of `queryset` run once, in the candidate query.
    """
    cheap = SearchRank(F(vector_field), match, weights=RANK_WEIGHTS, normalization=1)
    candidates = (
        queryset.filter(**{vector_field: match})
        .annotate(cheap_rank=cheap)
        .order_by("-cheap_rank", "pk")
        .values("pk")[:pool]
    )
    model = queryset.model
    ranked = model._base_manager.using(queryset.db).filter(pk__in=candidates)
    return list(ranked.only(*fields).annotate(rank=rank).order_by("-rank", "pk")[:limit])


def ranked_rows(
    queryset: QuerySet,
    *,
    query: str,
    lang: str,
    vector_field: str,
    title_field: str,
    text_fields: Sequence[str] = (),
    fields: Sequence[str],
    limit: int,
    pool: int | None = None,
    use_voikko: bool | None = None,
    enough: int = 10,
    fuzzy: bool = True,
) -> RankedRows:
    """`ranked_search()` evaluated: its hits (at most `limit`) in as few queries as may be.

    Same strategies and order as `ranked_search()`, but no COUNT before the query: the
    any-word ranking runs first and is widened (compound parts, then trigram) only when it
    gave fewer than `enough` rows. At most `pool` (default `limit`) candidates are ranked.
    `fuzzy=False` skips the trigram step (a scan of every title of the language).
    """
    pool = max(pool or limit, limit)
    suggestion = did_you_mean(query) if lang == "fi" else None
    if connections[queryset.db].vendor != "postgresql":
        outcome = ranked_search(
            queryset,
            query=query,
            lang=lang,
            vector_field=vector_field,
            title_field=title_field,
            text_fields=text_fields,
            use_voikko=use_voikko,
            enough=enough,
        )
        rows = list(outcome.queryset.only(*fields)[:limit])
        return RankedRows(rows, outcome.strategy, outcome.did_you_mean)

    all_words = build_search_query(query, lang, mode="all", use_voikko=use_voikko)
    any_word = build_search_query(query, lang, mode="any", use_voikko=use_voikko)
    if all_words is None or any_word is None:
        return RankedRows([], "none", suggestion)
    options = {"vector_field": vector_field, "fields": fields, "limit": limit, "pool": pool}
    rank = rank_expression(vector_field, any_word, all_words=all_words)
    rows = _capped_ranking(queryset, any_word, rank, **options)
    if len(rows) < enough and uses_voikko(lang, use_voikko):
        # Few hits: widen to compound parts, as ranked_search() does.
        parts = build_search_query(query, lang, mode="parts", use_voikko=use_voikko)
        if parts is not None:
            rank = rank_expression(vector_field, parts, all_words=all_words, any_word=any_word)
            widened = _capped_ranking(queryset, parts, rank, **options)
            if widened:
                return RankedRows(widened, "parts", suggestion)
    if rows or not fuzzy:
        return RankedRows(rows, "any" if rows else "none", suggestion)
    similar = (
        queryset.only(*fields)
        .annotate(rank=TrigramWordSimilarity(query, title_field))
        .filter(rank__gte=TRIGRAM_THRESHOLD)
        .order_by("-rank", "pk")
    )
    return RankedRows(list(similar[:limit]), "trigram", suggestion)
