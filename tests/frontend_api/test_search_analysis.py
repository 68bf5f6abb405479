import logging
import sys

import pytest
from django.db import connection

from frontend_api.search import analysis
from frontend_api.search.analysis import (
    did_you_mean,
    finnish_index_terms,
    finnish_query_terms,
    highlight,
    spelling_suggestions,
    voikko_available,
)
from frontend_api.search.postgres import build_search_document, finnish_tsquery, search_config

needs_voikko = pytest.mark.skipif(not voikko_available(), reason="Voikko not installed")


@needs_voikko
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lastenneuvolassa", ["lastenneuvola", "lapsi", "neuvola"]),
        ("kotihoidontuki", ["kotihoidontuki", "koti", "hoito", "tuki"]),
        ("perheneuvolaan", ["perheneuvola", "perhe", "neuvola"]),
        ("Lastensuojeluilmoituksen", ["lastensuojeluilmoitus", "lapsi", "suojelu", "ilmoitus"]),
    ],
)
def test_index_terms_hold_base_forms_and_compound_parts(text, expected):
    assert finnish_index_terms(text) == expected


@needs_voikko
def test_index_terms_drop_words_without_search_meaning():
    assert finnish_index_terms("Lapsi ja hänen perheensä on myös mukana") == [
        "lapsi",
        "perhe",
        "mukaan",
    ]


@needs_voikko
def test_query_terms_expand_compounds_and_suggest_for_typos():
    [split, typo] = finnish_query_terms("kotihoidon nuevola")

    assert split.baseforms == ("kotihoito",)
    assert ("koti", "hoito") in split.compounds
    assert not typo.known
    assert typo.suggestions[0] == "neuvola"


@needs_voikko
def test_spelling_suggestions_only_for_unknown_words():
    assert spelling_suggestions("nuevola")[0] == "neuvola"
    assert spelling_suggestions("neuvola") == []
    assert did_you_mean("lasten nuevola") == "lasten neuvola"
    assert did_you_mean("lasten neuvola") is None


@needs_voikko
def test_tsquery_matches_compound_parts_in_a_row_and_typos_by_suggestion():
    assert finnish_tsquery("lastenneuvola") == "('lastenneuvola' | ('lapsi' <-> 'neuvola'))"
    assert finnish_tsquery("lasten neuvola") == "('lapsi') & ('neuvola')"
    assert finnish_tsquery("nuevola", mode="any") == "('nuevola' | 'neuvola' | 'nuevola':*)"
    assert (
        finnish_tsquery("puheterapeutti", mode="parts")
        == "'puhe' | 'puheterapeutti' | 'terapeutti'"
    )


@needs_voikko
def test_highlight_marks_inflected_and_compound_matches():
    text = "Lastenneuvolassa seurataan lapsen kasvua. Neuvolaan voi tulla ilman ajanvarausta."

    assert highlight(text, "neuvola") == (
        "<mark>Lastenneuvolassa</mark> seurataan lapsen kasvua. <mark>Neuvolaan</mark> "
        "voi tulla ilman ajanvarausta"
    )
    assert (
        highlight(text, "neuvola", max_words=3)
        == "<mark>Lastenneuvolassa</mark> seurataan lapsen …"
    )


@needs_voikko
def test_search_document_uses_voikko_terms_for_finnish_and_stemmers_for_others():
    document = build_search_document(
        {"fi": "Lastenneuvola", "sv": "Barnrådgivning", "en": None},
        {"fi": "Neuvolassa punnitaan.", "sv": "", "en": "Child health clinic"},
    )

    assert document == {
        "fi": {
            "config": "simple",
            "title": "lastenneuvola lapsi neuvola",
            "body": "neuvola punnita",
        },
        "sv": {"config": "swedish", "title": "Barnrådgivning", "body": ""},
        "en": {"config": "english", "title": "", "body": "Child health clinic"},
    }


def test_without_voikko_finnish_falls_back_with_one_log_line(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "libvoikko", None)  # import now raises ImportError
    monkeypatch.setattr(analysis, "_voikko", None)
    monkeypatch.setattr(analysis, "_voikko_loaded", False)
    analysis.clear_caches()
    try:
        with caplog.at_level(logging.WARNING, logger="frontend_api.search.analysis"):
            assert voikko_available() is False
            assert voikko_available() is False
            terms = finnish_index_terms("Lastenneuvolassa käydään")
            config = search_config("fi")
    finally:
        analysis.clear_caches()

    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert messages[0].startswith(analysis.FALLBACK_MESSAGE)
    assert terms == ["lastenneuvolassa", "käydään"]
    assert config == "finnish"


@pytest.mark.django_db
def test_pg_trgm_extension_is_installed_by_migration():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db
def test_basic_search_without_postgresql_needs_every_word_in_some_field():
    from frontend_api.models import WebhookSubscription
    from frontend_api.search.postgres import basic_search

    WebhookSubscription.objects.create(name="Perheneuvola Espoo", url="https://espoo.example/h")
    WebhookSubscription.objects.create(name="Perheneuvola Vantaa", url="https://vantaa.example/h")
    queryset = WebhookSubscription.objects.all()

    found = basic_search(queryset, query="perheneuvola espoo", fields=["name", "url"])

    assert [s.name for s in found] == ["Perheneuvola Espoo"]
    assert basic_search(queryset, query="  ", fields=["name"]).count() == 0


@needs_voikko
def test_highlight_finds_a_match_deep_in_a_long_text_and_marks_only_the_snippet():
    text = " ".join(["Palvelu"] * 500) + " Lastenneuvolassa punnitaan. " + "Neuvolaan " * 100

    snippet = highlight(text, "neuvola", max_words=6)

    assert (
        snippet
        == "… Palvelu Palvelu <mark>Lastenneuvolassa</mark> punnitaan. <mark>Neuvolaan</mark> <mark>Neuvolaan</mark> …"
    )


def test_highlight_in_swedish_and_english_matches_word_beginnings():
    text = "Barnrådgivningen följer barnets tillväxt. Rådgivning för familjer."

    assert highlight(text, "rådgivning", lang="sv", max_words=4) == (
        "… tillväxt. <mark>Rådgivning</mark> för familjer"
    )
    assert highlight("Health clinic for children", "xy", lang="en", max_words=2) == (
        "Health clinic …"
    )
