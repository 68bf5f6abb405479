from django.core.management.base import BaseCommand

from frontend_api.search.services import rebuild_search_index


class Command(BaseCommand):
    help = "Rebuilds the search index of public articles and services (one transaction)."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"Search index: {rebuild_search_index()}")
