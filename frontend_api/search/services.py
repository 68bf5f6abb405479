"""Writes of the search index: `SearchEntry` rows for articles and services.

Vectors are computed in Python (Voikko) and stored in a second pass: after a publish, after
a sync transaction's writes, or all at once by `rebuild_search_index()`. Only public objects
are indexed, but search still filters through the public selectors when it answers.

Services are indexed in bulk: rows read as tuples, each distinct text analysed once per
batch, and one INSERT … SELECT per batch builds the vectors in PostgreSQL (to_tsvector over
the analysed terms) from arrays, so no model instance or per-row SQL is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import Func, IntegerField, Value
from django.utils.html import strip_tags

from cms.models import ArticlePage
from cms.selectors import live_articles
from federation.selectors import public_services
from frontend_api.language import supported_languages
from frontend_api.models import SearchEntry
from frontend_api.search.postgres import analyze_text, build_search_document, search_config

BATCH_SIZE = 2000
# Vectors built in PostgreSQL from analysed terms, one statement per batch: title weight A,
# body B, as `postgres.search_vector()` builds them one by one. A title vector over 2000
# bytes stays null: the covering index of migration 0005 holds at most ~2.7 kB a row.
INSERT_ENTRIES = """
INSERT INTO frontend_api_searchentry
    (kind, object_id, lang, title, body, search_vector, title_vector, lexeme_count, indexed_at)
SELECT row.kind, row.object_id, row.lang, row.title, row.body, vector.whole,
    CASE WHEN pg_column_size(vector.title) <= 2000 THEN vector.title END,
    length(vector.whole), now()
FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[])
    AS row(kind, object_id, lang, title, body, config, title_terms, body_terms)
CROSS JOIN LATERAL (
    SELECT setweight(to_tsvector(row.config::regconfig, row.title_terms), 'A') AS title
) AS title_part
CROSS JOIN LATERAL (
    SELECT title_part.title,
        title_part.title
        || setweight(to_tsvector(row.config::regconfig, row.body_terms), 'B') AS whole
) AS vector
"""


@dataclass(frozen=True)
class IndexResult:
    articles: int = 0
    services: int = 0

    def __str__(self) -> str:
        return f"{self.articles} article entries and {self.services} service entries indexed"


def _entry(*, kind: str, object_id: int, lang: str, title: str, body: str) -> SearchEntry:
    """One entry as a model instance, vectors as expressions (articles; few at a time)."""
    entry = SearchEntry(kind=kind, object_id=object_id, lang=lang, title=title, body=body)
    if connection.vendor == "postgresql":
        part = build_search_document(title={lang: title}, body={lang: body}).get(lang)
        if part is None:
            return entry
        config = part["config"]
        title_vector = SearchVector(Value(part["title"]), config=config, weight="A")
        entry.search_vector = title_vector + SearchVector(
            Value(part["body"]), config=config, weight="B"
        )
        entry.title_vector = title_vector
        entry.lexeme_count = Func(
            entry.search_vector, function="length", output_field=IntegerField()
        )
    return entry


def _batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def _html_text(html: Any) -> str:
    return strip_tags(str(html or "")).replace("\xa0", " ")


def stream_text(raw_blocks: Iterable[dict[str, Any]]) -> str:
    """The readable text of an article body's raw StreamField data, block by block."""
    parts: list[str] = []
    for block in raw_blocks:
        kind, value = block.get("type"), block.get("value")
        if kind == "paragraph":
            parts.append(_html_text(value))
        elif kind == "heading":
            parts.append(value.get("text", ""))
        elif kind == "callout":
            parts += [value.get("title") or "", _html_text(value.get("text"))]
        elif kind == "faq":
            parts.append(value.get("title") or "")
            for item in value.get("items", []):
                item = item.get("value", item) if "question" not in item else item
                parts += [item.get("question", ""), _html_text(item.get("answer"))]
        elif kind in ("image", "video"):
            parts.append(value.get("caption") or value.get("title") or "")
        elif kind == "services":
            parts.append(value.get("title") or "")
    return " ".join(part.strip() for part in parts if part and part.strip())


def article_entry(page: ArticlePage) -> SearchEntry:
    keywords = " ".join(page.keywords.names()) if page.pk else ""
    body = " ".join(part for part in (page.lead, stream_text(page.body.raw_data), keywords) if part)
    return _entry(
        kind=SearchEntry.Kind.ARTICLE,
        object_id=page.pk,
        lang=page.locale.language_code,
        title=page.title,
        body=body,
    )


@transaction.atomic
def index_articles(*, page_ids: Sequence[int] | None = None) -> int:
    """(Re)indexes the given article pages (all when None); non-public ones leave the index."""
    entries = SearchEntry.objects.filter(kind=SearchEntry.Kind.ARTICLE)
    pages = live_articles().select_related("locale").prefetch_related("keyword_items__tag")
    if page_ids is not None:
        entries = entries.filter(object_id__in=page_ids)
        pages = pages.filter(pk__in=page_ids)
    entries.delete()
    created = SearchEntry.objects.bulk_create(
        (article_entry(page) for page in pages.order_by("pk").iterator(chunk_size=BATCH_SIZE)),
        batch_size=BATCH_SIZE,
    )
    return len(created)


SERVICE_COLUMNS = ("pk", "name", "summary", "description", "organization__name")


def _service_rows(
    services: Iterable[tuple], languages: Sequence[str]
) -> Iterator[tuple[int, str, str, str]]:
    """(object_id, lang, title, body) per service and supported language it has a name in."""
    for pk, name, summary, description, organization_name in services:
        for lang in languages:
            title = (name or {}).get(lang)
            if not title:
                continue
            body = " ".join(
                text
                for text in (
                    _html_text((summary or {}).get(lang)),
                    _html_text((description or {}).get(lang)),
                    (organization_name or {}).get(lang) or "",
                )
                if text
            )
            yield pk, lang, title, body


class _Analyser:
    """Analyses each distinct title once per run (services of a catalogue repeat their
    names); words are cached in `analysis` for the bodies, which rarely repeat whole."""

    def __init__(self) -> None:
        self.configs: dict[str, str] = {}
        self.texts: dict[tuple[str, str], str] = {}

    def config(self, lang: str) -> str:
        if lang not in self.configs:
            self.configs[lang] = search_config(lang)
        return self.configs[lang]

    def title_terms(self, text: str, lang: str) -> str:
        key = (lang, text)
        terms = self.texts.get(key)
        if terms is None:
            if len(self.texts) > 50_000:  # bounded memory over a whole catalogue
                self.texts.clear()
            terms = self.texts[key] = analyze_text(text, lang)
        return terms


def _insert_service_entries(rows: list[tuple[int, str, str, str]], analyser: _Analyser) -> int:
    """One INSERT … SELECT for the batch; returns the number of entries written."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        entries = [
            SearchEntry(
                kind=SearchEntry.Kind.SERVICE, object_id=pk, lang=lang, title=title, body=body
            )
            for pk, lang, title, body in rows
        ]
        return len(SearchEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE))
    object_ids, langs, titles, bodies = (list(column) for column in zip(*rows, strict=True))
    params = [
        [SearchEntry.Kind.SERVICE.value] * len(rows),
        object_ids,
        langs,
        titles,
        bodies,
        [analyser.config(lang) for lang in langs],
        [analyser.title_terms(title, lang) for title, lang in zip(titles, langs, strict=True)],
        [analyze_text(body, lang) for body, lang in zip(bodies, langs, strict=True)],
    ]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_ENTRIES, params)
    return len(rows)


def _delete_service_entries(service_ids: Sequence[int] | None) -> None:
    entries = SearchEntry.objects.filter(kind=SearchEntry.Kind.SERVICE)
    if service_ids is not None:
        entries = entries.filter(object_id__in=service_ids)
    entries.delete()  # one DELETE: nothing cascades from a search entry


@transaction.atomic
def index_services(*, service_ids: Sequence[int] | None = None) -> int:
    """(Re)indexes the given services (all when None); withdrawn ones leave the index.

    Streams the public services as tuples and writes `BATCH_SIZE` entries a statement.
    """
    languages = supported_languages()
    analyser = _Analyser()
    if service_ids is None:
        _delete_service_entries(None)
        batches: Iterable[Sequence[int] | None] = [None]
    else:
        batches = list(_batches(sorted(set(service_ids))))
    count = 0
    for batch in batches:
        services = public_services().order_by("pk")
        if batch is not None:
            _delete_service_entries(batch)
            services = services.filter(pk__in=batch)
        rows: list[tuple[int, str, str, str]] = []
        values = services.values_list(*SERVICE_COLUMNS).iterator(chunk_size=BATCH_SIZE)
        for row in _service_rows(values, languages):
            rows.append(row)
            if len(rows) >= BATCH_SIZE:
                count += _insert_service_entries(rows, analyser)
                rows = []
        count += _insert_service_entries(rows, analyser)
    return count


def remove_from_index(*, kind: str, object_ids: Sequence[int]) -> int:
    deleted, _ = SearchEntry.objects.filter(kind=kind, object_id__in=object_ids).delete()
    return deleted


@transaction.atomic
def rebuild_search_index() -> IndexResult:
    """Everything again, in one transaction: searches see the old index until it commits."""
    return IndexResult(articles=index_articles(), services=index_services())
