from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm for typo-tolerant search; CreateExtension does nothing outside PostgreSQL."""

    dependencies = [("frontend_api", "0001_initial")]

    operations = [TrigramExtension()]
