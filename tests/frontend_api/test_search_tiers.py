"""The search index as the API reads it: bulk indexing, capped tiers, one query, trigram index.

The judgement set runs here through `index_services()` and `search_index()` (the path the
API takes), not only through `ranked_search()` as in test_search_judgements.py.
"""

import json

import pytest
from django.db import connection
from test_search_judgements import FIXTURES, TARGET, TOP_K, load_corpus

from federation.models import Service
from federation.selectors import public_services
from frontend_api.models import SearchEntry
from frontend_api.search import query as search_query
from frontend_api.search.analysis import voikko_available
from frontend_api.search.postgres import build_search_query, rank_expression
from frontend_api.search.query import search_index
from frontend_api.search.services import index_services
from tests.factories.federation import ServiceFactory, SourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/search/"


def services_named(names, *, description=""):
    source = SourceFactory()
    return [
        ServiceFactory(source=source, name={"fi": name}, description={"fi": description})
        for name in names
    ]


@pytest.mark.skipif(not voikko_available(), reason="Voikko (libvoikko1 + voikko-fi) not installed")
def test_judgements_through_the_index_reach_the_target(capsys):
    source = SourceFactory()
    corpus = load_corpus()
    names = {}
    for document in corpus:
        service = ServiceFactory(
            source=source, name={"fi": document["name"]}, description={"fi": document["text"]}
        )
        names[service.pk] = (document["key"], document["name"])
    index_services()
    judgements = json.loads((FIXTURES / "search/judgements.json").read_text(encoding="utf-8"))
    misses = []
    for judgement in judgements["queries"]:
        results = search_index(
            query=judgement["query"], chain=("fi",), articles=None, services=public_services()
        )
        top = [names[hit.object_id] for hit in results.hits[:TOP_K]]
        expected = set(judgement["expected"])
        if not any(key in expected or name in expected for key, name in top):
            misses.append(judgement["query"])
    success = 1 - len(misses) / len(judgements["queries"])
    with capsys.disabled():
        print(f"\nsearch success@10 through the index: {success:.1%}")  # noqa: T201

    assert success >= TARGET, misses


def test_bulk_indexing_stores_title_lexemes_and_length():
    [service] = services_named(["Perheneuvola"], description="Apua perheille")

    assert index_services(service_ids=[service.pk]) == 1

    entry = SearchEntry.objects.get(kind="service", object_id=service.pk)
    assert entry.lexeme_count > 0
    assert entry.title_vector is not None
    assert "apua" not in str(entry.title_vector)


def test_a_service_search_is_one_sql_query(client, django_assert_num_queries):
    services = services_named([f"Perheneuvola {n}" for n in range(12)])
    index_services(service_ids=[service.pk for service in services])

    with django_assert_num_queries(1):
        response = client.get(URL, {"q": "perheneuvola", "lang": "fi", "kind": "service"})

    assert response.json()["meta"]["strategy"] == "any"
    assert len(response.json()["results"]) == 12


def test_a_combined_search_of_articles_and_services_is_one_sql_query(
    client, django_assert_num_queries
):
    services = services_named([f"Perheneuvola {n}" for n in range(12)])
    index_services(service_ids=[service.pk for service in services])

    with django_assert_num_queries(1):  # the visibility rules of both kinds run inside it
        response = client.get(URL, {"q": "perheneuvola", "lang": "fi"})

    assert len(response.json()["results"]) == 12


def test_title_matches_outrank_a_flood_of_body_matches(monkeypatch):
    monkeypatch.setattr(search_query, "CANDIDATES", 3)
    in_body = services_named(
        [f"Palvelu {n}" for n in range(6)], description="Kotihoito ja kotihoidon tuki"
    )
    in_title = services_named(["Kotihoito", "Kotihoito ja siivous"])
    index_services(service_ids=[service.pk for service in in_body + in_title])

    results = search_index(
        query="kotihoito", chain=("fi",), articles=None, services=public_services()
    )

    assert len(results.hits) == 3
    assert {hit.object_id for hit in results.hits[:2]} == {service.pk for service in in_title}


def test_a_misspelt_swedish_word_finds_similar_titles():
    source = SourceFactory()
    clinic = ServiceFactory(source=source, name={"fi": "Neuvola", "sv": "Barnrådgivning"})
    index_services(service_ids=[clinic.pk])

    results = search_index(
        query="barnrådgivnig", chain=("sv",), articles=None, services=public_services()
    )

    assert results.strategy == "trigram"
    assert [hit.object_id for hit in results.hits] == [clinic.pk]


def test_withdrawn_services_are_not_found_through_a_capped_tier(monkeypatch):
    monkeypatch.setattr(search_query, "CANDIDATES", 2)
    services = services_named(["Kotihoito A", "Kotihoito B", "Kotihoito C"])
    index_services(service_ids=[service.pk for service in services])
    # Withdrawn after indexing: the stale entries must neither show nor use up the cap.
    for service in services[:2]:
        service.status = "withdrawn"
        service.save(update_fields=["status"])

    results = search_index(
        query="kotihoito", chain=("fi",), articles=None, services=public_services()
    )

    assert [hit.object_id for hit in results.hits] == [services[2].pk]


def test_hits_are_scored_as_rank_expression_scores_them():
    # Enough hits (ENOUGH) that the search is not widened to compound parts.
    services = services_named(
        [*(f"Kotihoito {n}" for n in range(6)), *(f"Siivous {n}" for n in range(6))],
        description="Kotihoito ja siivous kotona",
    )
    index_services(service_ids=[service.pk for service in services])
    query = "kotihoito siivous"
    rank = rank_expression(
        "search_vector",
        build_search_query(query, "fi", mode="any"),
        all_words=build_search_query(query, "fi", mode="all"),
        title_vector_field="title_vector",
    )
    expected = SearchEntry.objects.filter(kind="service", lang="fi").annotate(rank=rank)

    results = search_index(query=query, chain=("fi",), articles=None, services=public_services())

    assert {hit.object_id: hit.score for hit in results.hits} == {
        entry.object_id: round(entry.rank, 4) for entry in expected
    }
    assert results.strategy == "any"
    assert len(results.hits) == 12


@pytest.mark.skipif(not voikko_available(), reason="Voikko (libvoikko1 + voikko-fi) not installed")
def test_a_search_widened_to_compound_parts_is_still_one_sql_query(
    client, django_assert_num_queries
):
    [therapy] = services_named(["Puheterapian palvelut"])
    index_services(service_ids=[therapy.pk])

    with django_assert_num_queries(1):
        response = client.get(URL, {"q": "puheterapeutti", "lang": "fi", "kind": "service"})

    assert response.json()["meta"]["strategy"] == "parts"
    assert [item["id"] for item in response.json()["results"]] == [therapy.pk]


@pytest.mark.skipif(not voikko_available(), reason="Voikko (libvoikko1 + voikko-fi) not installed")
def test_a_fallback_language_is_widened_to_compound_parts_in_the_same_query(
    client, django_assert_num_queries
):
    source = SourceFactory()
    therapy = ServiceFactory(source=source, name={"fi": "Puheterapian palvelut"})
    in_swedish = ServiceFactory(source=source, name={"fi": "Puhe", "sv": "Puheterapeutti i Vasa"})
    index_services(service_ids=[therapy.pk, in_swedish.pk])

    with django_assert_num_queries(1):
        response = client.get(URL, {"q": "puheterapeutti", "lang": "sv", "kind": "service"})

    found = {(item["id"], item["lang"]) for item in response.json()["results"]}
    assert found == {(in_swedish.pk, "sv"), (therapy.pk, "fi")}


def test_similar_titles_are_not_looked_up_while_a_fallback_language_found_the_word(
    client, django_assert_num_queries
):
    source = SourceFactory()
    finnish = ServiceFactory(source=source, name={"fi": "Lapsiperheiden kotipalvelu"})
    ServiceFactory(source=source, name={"fi": "Neuvola", "sv": "Kotipalvelun rådgivning"})
    index_services(service_ids=[service.pk for service in Service.objects.all()])

    # Nothing in Swedish matches "lapsiperheiden"; Finnish, the fallback, does.
    with django_assert_num_queries(1):
        response = client.get(URL, {"q": "lapsiperheiden", "lang": "sv", "kind": "service"})

    assert response.json()["meta"]["strategy"] != "trigram"
    assert [(item["id"], item["lang"]) for item in response.json()["results"]] == [
        (finnish.pk, "fi")
    ]


def test_a_tier_takes_the_shortest_of_the_first_matches_it_reads(monkeypatch):
    monkeypatch.setattr(search_query, "CANDIDATES", 2)
    monkeypatch.setattr(search_query, "TIER_SCAN_LIMIT", 3)
    long_text = "Kotihoito " + " ".join(f"sana{n}" for n in range(40))
    first = services_named(["Palvelu A", "Palvelu B", "Palvelu C"], description=long_text)
    # Shorter documents, stored after the tier's scan limit was reached.
    later = services_named(["Palvelu D", "Palvelu E"], description="Kotihoito")
    index_services(service_ids=[service.pk for service in first + later])

    results = search_index(
        query="kotihoito", chain=("fi",), articles=None, services=public_services()
    )

    # Three matches read, two kept: the later, shorter ones are not weighed (at 200k a
    # common word's tier would otherwise read and check every one of 10k matches).
    assert len(results.hits) == 2
    assert {hit.object_id for hit in results.hits} <= {service.pk for service in first}


def test_similar_titles_ride_in_the_one_query(client, django_assert_num_queries):
    source = SourceFactory()
    clinic = ServiceFactory(source=source, name={"fi": "Neuvola", "sv": "Barnrådgivning"})
    index_services(service_ids=[clinic.pk])

    # The connection carries the trigram threshold: no set_config, no transaction.
    with django_assert_num_queries(1):
        response = client.get(URL, {"q": "barnrådgivnig", "lang": "sv", "kind": "service"})

    assert response.json()["meta"]["strategy"] == "trigram"
    assert [item["id"] for item in response.json()["results"]] == [clinic.pk]


@pytest.mark.parametrize(
    ("lang", "vector_index", "title_index"),
    [
        ("fi", "frontend_api_search_vector_fi", "frontend_api_search_title_fi"),
        ("sv", "frontend_api_search_vector_sv", "frontend_api_search_title_sv"),
        ("se", "frontend_api_search_vector_other", "frontend_api_search_title_other"),
    ],
)
def test_a_languages_tiers_read_a_gin_index_of_that_language_alone(lang, vector_index, title_index):
    """With the language as a GIN key, every tier read the language's whole posting list
    (200k Finnish entries: 3-12 ms) before the word's. A prepared statement's generic plan
    uses a partial index only where the statement names the language itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO frontend_api_searchentry (kind, object_id, lang, title, body,"
            " search_vector, title_vector, lexeme_count, indexed_at)"
            " SELECT 'service', n, l, 'otsikko', 'teksti',"
            " to_tsvector('simple', 'sana' || n), to_tsvector('simple', 'otsikko' || n), 1, now()"
            " FROM generate_series(1, 3000) AS n, unnest(ARRAY['fi', 'sv', 'se']) AS l"
        )
        cursor.execute("ANALYZE frontend_api_searchentry")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # In a table this small, reading it whole, or every entry of the language through a
        # B-tree, can look cheaper than a generic GIN scan; at 200k services it never is.
        # Without them (dropped in the test's transaction), what is left is a partial index
        # the statement implies, else a sequential scan.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("DROP INDEX frontend_api_search_lang_length")
        cursor.execute(
            "ALTER TABLE frontend_api_searchentry DROP CONSTRAINT frontend_api_search_entry_unique"
        )
        plans = []
        for column in ("search_vector", "title_vector"):
            condition = f"lang = {search_query._language_literal(lang)} AND {column} @@ $1"
            cursor.execute(
                # Only our own names and a checked language code go into the text.
                f"PREPARE tier_{column} (tsquery) AS SELECT id FROM frontend_api_searchentry"  # noqa: S608
                f" WHERE {condition} LIMIT 2000"
            )
            cursor.execute(f"EXPLAIN EXECUTE tier_{column}('sana7')")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
            cursor.execute(f"DEALLOCATE tier_{column}")

    assert f"Bitmap Index Scan on {vector_index}" in plans[0], plans[0]
    assert f"Bitmap Index Scan on {title_index}" in plans[1], plans[1]


@pytest.mark.parametrize("code", ["fi'; DROP TABLE x; --", "FI", "", "sv fi"])
def test_only_language_codes_are_written_into_the_search_statement(code):
    with pytest.raises(ValueError, match="not a language code"):
        search_query._language_literal(code)
