"""Factories of the federation app. Records are normally written by the sync engine;
these are for selector, admin and API tests that need rows without a feed."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from federation.models import Channel, Organization, RecordIssue, Service, Source, SyncRun


class SourceFactory(DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Source {n}")
    slug = factory.Sequence(lambda n: f"source-{n}")
    owner = "Testikunta"
    kind = Source.Kind.MUNICIPALITY
    format = "ptv"
    url = factory.Sequence(lambda n: f"https://feeds.example.org/{n}")

    class Meta:
        model = Source


class RecordFactory(DjangoModelFactory):
    source = factory.SubFactory(SourceFactory)
    origin_id = factory.Sequence(lambda n: f"origin-{n}")
    content_hash = factory.Sequence(lambda n: f"{n:064d}")
    name = factory.Sequence(lambda n: {"fi": f"Nimi {n}", "sv": f"Namn {n}"})
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)
    synced_at = factory.LazyFunction(timezone.now)

    class Meta:
        abstract = True


class OrganizationFactory(RecordFactory):
    class Meta:
        model = Organization


class ServiceFactory(RecordFactory):
    class Meta:
        model = Service


class ChannelFactory(RecordFactory):
    kind = Channel.Kind.LOCATION

    class Meta:
        model = Channel


class SyncRunFactory(DjangoModelFactory):
    source = factory.SubFactory(SourceFactory)
    trigger = SyncRun.Trigger.SCHEDULE
    mode = SyncRun.Mode.FULL
    outcome = SyncRun.Outcome.SUCCEEDED

    class Meta:
        model = SyncRun


class RecordIssueFactory(DjangoModelFactory):
    run = factory.SubFactory(SyncRunFactory)
    origin_id = factory.Sequence(lambda n: f"origin-{n}")
    record_kind = "service"
    reason = RecordIssue.Reason.REJECTED
    severity = RecordIssue.Severity.ERROR
    field_path = "name"
    message = "missing name"

    class Meta:
        model = RecordIssue
