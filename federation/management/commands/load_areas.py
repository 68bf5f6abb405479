from django.core.management.base import BaseCommand

from federation.services import load_areas


class Command(BaseCommand):
    help = (
        "Loads or refreshes municipalities, wellbeing services counties and postal codes "
        "from federation/data/reference. Migrations run it once; run it again after updating the files."
    )

    def handle(self, *args: object, **options: object) -> None:
        written = load_areas()
        self.stdout.write(
            f"Areas written: {written['areas']}, postal codes written: {written['postal_codes']}"
        )
