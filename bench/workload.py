"""The request paths each load run rotates over, read from the bench database.

Service-list filters rotate over many (municipality, language, audience) combinations:
the municipalities with the most services and a spread of small ones, the three content
languages and the most common target groups. Article paths use the live article pages.
Search words are mid-frequency words of the generator's vocabularies (rank 40–400), so
queries match a realistic share of records, not nearly all of them.
"""

from __future__ import annotations

import random
from pathlib import Path
from urllib.parse import quote, urlencode

from bench.database import connect

VOCABULARY = Path(__file__).resolve().parent / "data"
LANGUAGES = ("fi", "sv", "en")
PAGE_SIZE = 20

# The Pesä endpoints and their parameters, in one place (the API is young).
PESA_SERVICES = "/api/v1/services/"
PESA_ARTICLES = "/api/v1/articles/"
PESA_SEARCH = "/api/v1/search/"


def _rng() -> random.Random:
    return random.Random(42)


def service_filters(limit: int = 600) -> list[dict[str, str]]:
    with connect() as db:
        big = [
            row[0]
            for row in db.execute(
                "SELECT code FROM federation_servicearea WHERE kind = 'municipality'"
                " GROUP BY code ORDER BY count(*) DESC, code LIMIT 40"
            )
        ]
        small = [
            row[0]
            for row in db.execute(
                "SELECT code FROM federation_area WHERE kind = 'municipality' ORDER BY code"
            )
        ]
        audiences = [
            row[0]
            for row in db.execute(
                "SELECT code FROM federation_servicecode WHERE scheme = 'target_group'"
                " GROUP BY code ORDER BY count(*) DESC, code LIMIT 5"
            )
        ] or ["KR1.2"]
    rng = _rng()
    municipalities = list(dict.fromkeys(big + rng.sample(small, min(40, len(small)))))
    combos = [
        {"municipality": m, "lang": lang, "audience": a}
        for m in municipalities
        for lang in LANGUAGES
        for a in audiences
    ]
    rng.shuffle(combos)
    return combos[:limit]


def _query(params: dict[str, str]) -> str:
    return urlencode(params)


def service_list_paths() -> list[str]:
    """Pesä: `language` filters (offered in), `lang` picks the response language."""
    return [f"{PESA_SERVICES}?{_query({**f, 'language': f['lang']})}" for f in service_filters()]


def _baseline_service_paths(prefix: str) -> list[str]:
    return [f"{prefix}?{_query(f)}" for f in service_filters()]


def raw_service_paths() -> list[str]:
    return _baseline_service_paths("/")


def drf_service_paths() -> list[str]:
    return _baseline_service_paths("/bench/drf/services/")


def article_pages() -> list[tuple[int, str]]:
    with connect() as db:
        return db.execute(
            "SELECT p.id, l.language_code FROM wagtailcore_page p"
            " JOIN cms_articlepage a ON a.page_ptr_id = p.id"
            " JOIN wagtailcore_locale l ON l.id = p.locale_id"
            " WHERE p.live ORDER BY p.id"
        ).fetchall()


def article_detail_paths() -> list[str]:
    pages = article_pages()
    _rng().shuffle(pages)
    return [f"{PESA_ARTICLES}{pk}/" for pk, _lang in pages[:1000]]


def article_list_paths() -> list[str]:
    pages = article_pages()
    paths = []
    for lang in LANGUAGES:
        count = sum(1 for _pk, language in pages if language == lang)
        for page in range(1, max(1, -(-count // PAGE_SIZE)) + 1):
            paths.append(f"{PESA_ARTICLES}?lang={lang}&page={page}")
    _rng().shuffle(paths)
    return paths


def wagtail_detail_paths() -> list[str]:
    pages = article_pages()
    _rng().shuffle(pages)
    return [f"/bench/wagtail-api/v2/pages/{pk}/" for pk, _lang in pages[:1000]]


def wagtail_list_paths() -> list[str]:
    pages = article_pages()
    paths = []
    for lang in LANGUAGES:
        count = sum(1 for _pk, language in pages if language == lang)
        for offset in range(0, max(count, 1), PAGE_SIZE):
            paths.append(
                "/bench/wagtail-api/v2/pages/?type=cms.ArticlePage&fields=lead"
                f"&locale={lang}&limit={PAGE_SIZE}&offset={offset}"
            )
    _rng().shuffle(paths)
    return paths


def search_words(lang: str, count: int = 60) -> list[str]:
    lines = (VOCABULARY / f"vocabulary_{lang}.txt").read_text(encoding="utf-8").splitlines()
    words = [line.split("\t")[0] for line in lines[40:400] if line and line[0].isalpha()]
    words = [w for w in words if len(w) >= 4 and w.isalpha()]
    return _rng().sample(words, min(count, len(words)))


def search_paths() -> list[str]:
    paths = [
        f"{PESA_SEARCH}?q={quote(word)}&lang={lang}"
        for lang in LANGUAGES
        for word in search_words(lang)
    ]
    _rng().shuffle(paths)
    return paths


def hello_paths() -> list[str]:
    return ["/bench/hello"]
