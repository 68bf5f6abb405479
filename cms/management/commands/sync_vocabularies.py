from django.core.management.base import BaseCommand

from cms.services import ensure_locales
from cms.services.vocabularies import sync_vocabularies


class Command(BaseCommand):
    help = (
        "Loads the shared vocabularies (target groups, topics, life situations) from their files."
    )

    def handle(self, *args: object, **options: object) -> None:
        ensure_locales()
        for label, result in sync_vocabularies().items():
            self.stdout.write(
                f"{label}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
            )
