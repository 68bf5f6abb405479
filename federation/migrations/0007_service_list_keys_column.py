"""The service list keys as a stored column, `list_keys`, with its GIN index (PostgreSQL only).

Migration 0006 indexed the expression `federation_service_list_keys(…)`. As a column:
- the planner has statistics on the keys (most common elements), so it estimates a filtered
  list's size (rows=1 against 21,278 real at 200k services) and can choose to walk a name
  index in order for a page instead of sorting every match;
- such a walk tests each row's keys from the column instead of recomputing the function.

Generated, so the sync writes nothing new; outside the model state (as 0006's index), as
the function and arrays exist on PostgreSQL only. The column costs about 115 bytes a row.
"""

from django.db import migrations

KEYS = (
    "federation_service_list_keys(municipality_codes, county_codes, nationwide, languages,"
    " target_groups)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE federation_service ADD COLUMN IF NOT EXISTS list_keys text[]"
            f" GENERATED ALWAYS AS ({KEYS}) STORED"
        )
        schema_editor.execute("DROP INDEX IF EXISTS federation_service_list_keys")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS federation_service_list_keys ON federation_service"
            " USING gin (list_keys) WHERE status = 'active'"
        )
        schema_editor.execute("ANALYZE federation_service")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS federation_service_list_keys")
        schema_editor.execute("ALTER TABLE federation_service DROP COLUMN IF EXISTS list_keys")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS federation_service_list_keys ON federation_service"
            f" USING gin ({KEYS}) WHERE status = 'active'"
        )


class Migration(migrations.Migration):
    dependencies = [("federation", "0006_service_list_keys")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
