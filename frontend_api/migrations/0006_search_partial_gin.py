from django.db import migrations

# One GIN index per language and vector, holding that language's entries only. The former
# (lang, vector) indexes kept the language as a GIN key: every search read the whole posting
# list of its language (200k entries for Finnish at 200k services, 3-12 ms a tier) before it
# could intersect it with the word's. The searches write the language as a literal, so even
# a prepared statement's generic plan picks its language's index.
# Built CONCURRENTLY (the migration is not atomic): searches and indexing go on meanwhile.
# A build that fails leaves an INVALID index; drop it and run the migration again.
INDEXED_LANGUAGES = ("fi", "sv", "en")
# Languages added later by PESA_LANGUAGES: one shared index, which `lang = 'se'` implies.
OTHERS = "other"
VECTORS = {"vector": "search_vector", "title": "title_vector"}
OLD_INDEXES = {
    "search_vector": "frontend_api_search_lang_vector_gin",
    "title_vector": "frontend_api_search_lang_title_vector_gin",
}


def index_name(kind: str, lang: str) -> str:
    return f"frontend_api_search_{kind}_{lang}"


def _predicates() -> dict[str, str]:
    listed = ", ".join(f"'{lang}'" for lang in INDEXED_LANGUAGES)
    return {
        **{lang: f"lang = '{lang}'" for lang in INDEXED_LANGUAGES},
        OTHERS: f"lang NOT IN ({listed})",
    }


def create_partial_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for kind, column in VECTORS.items():
        for lang, predicate in _predicates().items():
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index_name(kind, lang)} "
                f"ON frontend_api_searchentry USING gin ({column}) WHERE {predicate}"
            )
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {OLD_INDEXES[column]}")


def restore_language_key_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for kind, column in VECTORS.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {OLD_INDEXES[column]} "
            f"ON frontend_api_searchentry USING gin (lang, {column})"
        )
        for lang in _predicates():
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index_name(kind, lang)}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("frontend_api", "0005_search_title_vector"),
    ]

    operations = [
        migrations.RunPython(create_partial_indexes, restore_language_key_indexes),
    ]
