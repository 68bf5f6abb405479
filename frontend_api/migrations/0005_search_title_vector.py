import django.contrib.postgres.search
from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations, models

# The language inside the GIN indexes (btree_gin): with a separate index on it, PostgreSQL
# ANDs in a bitmap of every entry of the language (8 ms at 50k services) to save nothing.
VECTOR_INDEX = "frontend_api_search_lang_vector_gin"
OLD_VECTOR_INDEX = "frontend_api_search_vector_gin"
# Title lexemes of each entry: title matches of a word common in bodies ("hoito" is in half
# of all services) are found without reading every matching row.
TITLE_VECTOR_INDEX = "frontend_api_search_lang_title_vector_gin"
# Shortest documents first, per language, covering what a capped title tier and the public
# check read: the order in which the matches of a very common word are taken.
LENGTH_INDEX = "frontend_api_search_lang_length"
# Similar titles (trigram word similarity) for misspelt words, without a scan of all titles.
TITLE_TRIGRAM_INDEX = "frontend_api_search_title_trgm"
# Bigger title vectors stay null (the covering B-tree's row limit is about 2.7 kB).
TITLE_VECTOR_MAX_BYTES = 2000


def fill_and_index(apps, schema_editor):
    """PostgreSQL only: SQLite has no tsvector and no trigrams, and searches title and body."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "UPDATE frontend_api_searchentry SET lexeme_count = length(search_vector), "
        "title_vector = CASE WHEN pg_column_size(ts_filter(search_vector, '{a}')) <= "
        f"{TITLE_VECTOR_MAX_BYTES} THEN ts_filter(search_vector, '{{a}}') END "
        "WHERE search_vector IS NOT NULL"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_VECTOR_INDEX}")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {VECTOR_INDEX} ON frontend_api_searchentry "
        "USING gin (lang, search_vector)"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TITLE_VECTOR_INDEX} ON frontend_api_searchentry "
        "USING gin (lang, title_vector)"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {LENGTH_INDEX} ON frontend_api_searchentry "
        "(lang, lexeme_count, id) INCLUDE (kind, object_id, title_vector)"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TITLE_TRIGRAM_INDEX} ON frontend_api_searchentry "
        "USING gin (title gin_trgm_ops)"
    )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in (VECTOR_INDEX, TITLE_VECTOR_INDEX, LENGTH_INDEX, TITLE_TRIGRAM_INDEX):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {OLD_VECTOR_INDEX} ON frontend_api_searchentry "
        "USING gin (search_vector)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("frontend_api", "0004_search_entry"),
    ]

    operations = [
        BtreeGinExtension(),
        # Searches go through the GIN and length indexes, which lead with the language.
        migrations.RemoveIndex(model_name="searchentry", name="frontend_api_search_lang_kind"),
        migrations.AddField(
            model_name="searchentry",
            name="title_vector",
            field=django.contrib.postgres.search.SearchVectorField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="lexeme_count",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(fill_and_index, drop_indexes),
    ]
