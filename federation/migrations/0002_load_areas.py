"""Loads the 309 municipalities, the wellbeing services counties (with Helsinki and
Åland) and the postal codes from federation/data/reference. Idempotent."""

from django.db import migrations


def load(apps, schema_editor):
    from federation.services.areas import load_areas

    load_areas(
        area_model=apps.get_model("federation", "Area"),
        postal_code_model=apps.get_model("federation", "PostalCode"),
    )


class Migration(migrations.Migration):
    dependencies = [("federation", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
