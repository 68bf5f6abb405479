from django.core.management import call_command
from django.core.management.base import BaseCommand

from cms.services import ensure_site_structure
from cms.services.demo import load_demo_content
from federation.services.demo import load_demo_sources


class Command(BaseCommand):
    help = "Loads the demo content. Safe to run again: it only adds what is missing."

    def handle(self, *args: object, **options: object) -> None:
        home = ensure_site_structure()
        self.stdout.write(
            f"Site structure ready: home page {home.pk} in {home.locale.language_code} and its translations."
        )
        self.stdout.write(f"Demo content: {load_demo_content()}")
        self.stdout.write("Demo feeds: " + "; ".join(str(run) for run in load_demo_sources()))
        call_command("rebuild_change_log", stdout=self.stdout)
        call_command("rebuild_search_index", stdout=self.stdout)
