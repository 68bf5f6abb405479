from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from federation.models import Service, Source
from federation.services.sources import token_hash

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("source", *args, stdout=out)
    return out.getvalue()


def test_source_add_registers_a_pull_or_push_source():
    run(
        "add",
        "--slug",
        "ptv-04",
        "--name",
        "PTV Vantaa-Kerava",
        "--kind",
        "wellbeing_services_county",
        "--format",
        "ptv",
        "--url",
        "https://api.example.fi/v11",
        "--area",
        "04",
    )
    run("add", "--slug", "ngo", "--name", "NGO", "--kind", "ngo", "--format", "hsds", "--push")

    assert Source.objects.get(slug="ptv-04").area_scope == ["04"]
    assert Source.objects.get(slug="ngo").is_push_only


def test_source_add_refuses_a_bad_url():
    with pytest.raises(CommandError, match="http"):
        run(
            "add",
            "--slug",
            "x",
            "--name",
            "X",
            "--kind",
            "ngo",
            "--format",
            "hsds",
            "--url",
            "ftp://x",
        )


def test_source_sync_prints_counts_and_issues(source, feed, monkeypatch):
    from federation.sync import orchestration

    real = orchestration.build_client
    monkeypatch.setattr(
        orchestration,
        "build_client",
        lambda *, source, transport=None: real(source=source, transport=feed.transport),
    )
    feed.items = [{"id": "a", "name": "A"}, {"id": "b", "error": "missing name", "field": "name"}]

    output = run("sync", source.slug, "--full")

    assert "succeeded" in output
    assert "created=1 updated=0 unchanged=0 withdrawn=0 rejected=1" in output
    assert "error  b name: missing name" in output
    assert "never run" not in run("list")
    assert Service.objects.count() == 1


def test_source_sync_exits_non_zero_when_the_run_is_held(source, feed, monkeypatch):
    from federation.sync import orchestration

    real = orchestration.build_client
    monkeypatch.setattr(
        orchestration,
        "build_client",
        lambda *, source, transport=None: real(source=source, transport=feed.transport),
    )
    feed.items = []

    with pytest.raises(CommandError, match="held"):
        run("sync", source.slug, "--full")


def test_source_token_prints_a_new_token_once(source):
    output = run("token", source.slug)

    token = output.strip().splitlines()[-1]
    source.refresh_from_db()
    assert source.push_token_hash == token_hash(token)


def test_the_help_documents_every_subcommand():
    from django.core.management import load_command_class

    help_text = (
        load_command_class("federation", "source")
        .create_parser("manage.py", "source")
        .format_help()
    )

    for word in ("add", "list", "sync", "token", "--push", "--full"):
        assert word in help_text
