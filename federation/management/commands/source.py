from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from federation.exceptions import FeedRejected, SourceUnavailable
from federation.models import Source, SyncRun
from federation.selectors import latest_run, run_issues
from federation.services import create_source, issue_push_token
from federation.services.importing import importer_formats
from federation.sync import sync_source


class Command(BaseCommand):
    help = (
        "Operate feed sources.\n"
        "  source add --slug S --name N --kind K --format F (--url U | --push)\n"
        "  source list\n"
        "  source sync S [--full]   run a sync now, in the foreground; exit 1 if failed or held\n"
        "  source token S           issue a new push token (printed once; the old one stops working)"
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> ArgumentParser:
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="{add,list,sync,token}"
        )
        add = commands.add_parser("add", help="register a source")
        add.add_argument("--slug", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("--kind", required=True, choices=Source.Kind.values)
        add.add_argument("--format", required=True, choices=importer_formats())
        add.add_argument("--owner", default="")
        add.add_argument(
            "--area", action="append", default=[], help="municipality or county code; repeatable"
        )
        where = add.add_mutually_exclusive_group(required=True)
        where.add_argument("--url", help="feed URL to pull (http or https)")
        where.add_argument(
            "--push", action="store_true", help="push-only: the owner pushes to the API"
        )
        commands.add_parser("list", help="list sources with their last run")
        sync = commands.add_parser("sync", help="sync a source now and print the run")
        sync.add_argument("slug")
        sync.add_argument(
            "--full", action="store_true", help="complete sync (may withdraw missing records)"
        )
        token = commands.add_parser("token", help="issue a new push token")
        token.add_argument("slug")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    def _source(self, slug: str) -> Source:
        source = Source.objects.filter(slug=slug).first()
        if source is None:
            raise CommandError(f"no source {slug!r}")
        return source

    def handle_add(self, **options: Any) -> None:
        try:
            source = create_source(
                slug=options["slug"],
                name=options["name"],
                kind=options["kind"],
                format=options["format"],
                url="" if options["push"] else options["url"],
                owner=options["owner"],
                area_scope=options["area"],
            )
        except FeedRejected as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Source {source.slug} added ({'push-only' if source.is_push_only else source.url})."
        )

    def handle_list(self, **options: Any) -> None:
        for source in Source.objects.order_by("slug"):
            run = latest_run(source=source)
            last = f"{run.outcome} {run.counts}" if run else "never run"
            state = "enabled" if source.enabled else "disabled"
            self.stdout.write(
                f"{source.slug}\t{source.format}\t{source.url or '(push)'}\t{state}\t{last}"
            )

    def handle_sync(self, **options: Any) -> None:
        source = self._source(options["slug"])
        try:
            run = sync_source(source=source, trigger=SyncRun.Trigger.CLI, full=options["full"])
        except SourceUnavailable as error:
            run = error.run
        self.stdout.write(f"Run {run.pk} of {source.slug}: {run.outcome} — {run.message}")
        self.stdout.write(" ".join(f"{name}={value}" for name, value in run.counts.items()))
        issues = run_issues(run=run)
        for issue in issues[:50]:
            self.stdout.write(
                f"  {issue.severity} {issue.record_kind} {issue.origin_id or '(feed)'} "
                f"{issue.field_path}: {issue.message}"
            )
        if issues.count() > 50:
            self.stdout.write(f"  … {issues.count() - 50} more issues in the admin")
        if run.outcome in (SyncRun.Outcome.FAILED, SyncRun.Outcome.HELD, SyncRun.Outcome.SKIPPED):
            raise CommandError(f"run {run.outcome}: {run.message}")

    def handle_token(self, **options: Any) -> None:
        source = self._source(options["slug"])
        token = issue_push_token(source=source)
        self.stdout.write(f"Push token for {source.slug} (shown once, store it now):\n{token}")
