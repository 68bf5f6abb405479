"""A covering index over live pages for the article list (PostgreSQL only).

The plain article list (`frontend_api.views.content.PlainListPage`) picks each translation
group once in the served language or its fallback, orders by `last_published_at` and counts
the rows. Without this index each of those reads is a sequential scan over every page row
(wide, and bloated by revisions' publish updates: 524 blocks for 3,025 pages in the bench);
with it they are index-only scans over the live pages' few blocks. Partial (`WHERE live`),
so drafts cost nothing here; INCLUDE holds what the public-visibility rule and the order read.
"""

from django.db import migrations

INDEX = (
    "CREATE INDEX IF NOT EXISTS cms_live_page_list ON wagtailcore_page"
    " (locale_id, translation_key) INCLUDE (id, last_published_at, expire_at, path)"
    " WHERE live"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS cms_live_page_list")


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_editorial_groups_and_workflow"),
        ("wagtailcore", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
