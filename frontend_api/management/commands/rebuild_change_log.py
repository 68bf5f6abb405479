from django.core.management.base import BaseCommand

from frontend_api.services import rebuild_change_log


class Command(BaseCommand):
    help = (
        "Seeds the change feed with an upsert for everything public, so a new mirror can start "
        "from the beginning. Does nothing if the log has events, unless --force."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Append a full snapshot even if events exist."
        )

    def handle(self, *args: object, force: bool = False, **options: object) -> None:
        count = rebuild_change_log(force=force)
        self.stdout.write(f"Change log: {count} upsert events appended.")
