from django.db import migrations, models

# Nullable, no default: adding the columns changes the catalogue only (no table rewrite).
# Existing rows have none, so the first run after this migration parses every record once
# and stores the fingerprints of the unchanged ones (one column, no change signal).


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0003_service_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name=model_name,
            name="raw_fingerprint",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        )
        for model_name in ("channel", "organization", "service")
    ]
