"""Federation: areas, sources (feeds), canonical records, sync runs and their issues.

Canonical records (`Organization`, `Service`, `Channel`) are keyed by
`(source, origin_id)` and written only by `federation.sync.sync_source`.
Multilingual text is a JSON dict per language: `{"fi": "…", "sv": "…"}`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext_lazy as _


def importer_format_choices() -> list[tuple[str, str]]:
    """The formats of the importer registry; a callable so a new importer needs no migration."""
    from federation.services.importing import importer_formats

    return [(name, name) for name in importer_formats()]


# ---------------------------------------------------------------------------
# Areas and postal codes
# ---------------------------------------------------------------------------
class Area(models.Model):
    """A municipality, a wellbeing services county, the City of Helsinki or Åland.

    Codes are Statistics Finland's: municipalities 3 digits ("091"), counties 2 digits
    ("01"–"21"), plus "90" City of Helsinki and "91" Åland, which are not counties.
    """

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        WELLBEING_SERVICES_COUNTY = "wellbeing_services_county", _("Wellbeing services county")
        CITY_OF_HELSINKI = "city_of_helsinki", _("City of Helsinki (organises its own services)")
        ALAND = "aland", _("Åland (outside the reform)")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    code = models.CharField(max_length=3, unique=True)
    name = models.JSONField(default=dict, help_text="{'fi': …, 'sv': …, 'en': …}")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["kind", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name.get('fi', '')}"

    @property
    def is_county_level(self) -> bool:
        """Counties, Helsinki and Åland: the level that organises health and social services."""
        return self.kind != self.Kind.MUNICIPALITY


class PostalCode(models.Model):
    """Posti postal code → municipality (an approximation: areas can cross borders)."""

    code = models.CharField(max_length=5, primary_key=True)
    name = models.JSONField(default=dict)
    type_code = models.PositiveSmallIntegerField(help_text="Posti: 1 ordinary, 2 PO boxes")
    municipality = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="postal_codes")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------
class Source(models.Model):
    """A feed: who owns it, how to read it, when to sync it and how much it may withdraw.

    `url` empty means push-only. `url` "file:<path>" reads a bundled sample under
    `PESA_FEED_FILE_ROOT` and is allowed only where `PESA_FEED_ALLOW_FILE_URLS` is on (dev).
    """

    class Kind(models.TextChoices):
        WELLBEING_SERVICES_COUNTY = "wellbeing_services_county", _("Wellbeing services county")
        MUNICIPALITY = "municipality", _("Municipality")
        NGO = "ngo", _("NGO")
        PARISH = "parish", _("Parish")
        NATIONAL = "national", _("National")

    class TrustTier(models.TextChoices):
        OFFICIAL = "official", _("Official (public authority)")
        VERIFIED = "verified", _("Verified organisation")
        COMMUNITY = "community", _("Community (unverified)")

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    owner = models.CharField(
        max_length=200, blank=True, help_text=_("Organisation that owns the feed.")
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    format = models.CharField(max_length=40, choices=importer_format_choices)
    url = models.CharField(
        max_length=1000,
        blank=True,
        help_text=_("Feed URL (http/https). Leave empty for a push-only source."),
    )
    area_scope = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            'Municipality or county codes the feed is limited to, e.g. ["16"] or ["091", "049"]. '
            "Passed to the importer as municipality codes."
        ),
    )
    importer_options = models.JSONField(
        default=dict, blank=True, help_text=_("Format-specific importer options (JSON object).")
    )
    # Kept server-side; the admin shows only the header names.
    request_headers = models.JSONField(default=dict, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    trust_tier = models.CharField(
        max_length=20, choices=TrustTier.choices, default=TrustTier.VERIFIED
    )

    # Schedule: incremental every N minutes, a complete sync every M hours (0 = never).
    incremental_interval_minutes = models.PositiveIntegerField(
        default=60, help_text=_("Minutes between incremental syncs; 0 turns them off.")
    )
    full_sync_interval_hours = models.PositiveIntegerField(
        default=24, help_text=_("Hours between complete syncs; 0 turns scheduled syncs off.")
    )
    next_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_full_sync_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Deletion guard.
    max_withdrawn_percent = models.PositiveSmallIntegerField(
        default=20,
        help_text=_("A run that would withdraw more than this share of records is held."),
    )
    min_record_count = models.PositiveIntegerField(
        default=1, help_text=_("A complete feed with fewer records than this is held.")
    )

    push_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    push_token_hint = models.CharField(max_length=12, blank=True, editable=False)
    # ISO 8601: start of the last successful run, the `since` of the next incremental run.
    watermark = models.CharField(max_length=40, blank=True, editable=False)
    last_full_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Database lock, used where there is no Redis (demo, eager Celery).
    lock_token = models.CharField(max_length=64, blank=True, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("sync_source", "Can start a sync of a source")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_push_only(self) -> bool:
        return not self.url


class PushPayload(models.Model):
    """A pushed feed body, stored before the push is answered and processed by a worker."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="payloads")
    body = models.BinaryField()
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.source} push {self.received_at:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------
# Runs and issues
# ---------------------------------------------------------------------------
class SyncRun(models.Model):
    """One attempt to sync one source."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual (admin)")
        PUSH = "push", _("Push")
        CLI = "cli", _("Command line")

    class Mode(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")

    class Outcome(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        HELD = "held", _("Held (nothing changed)")
        SKIPPED = "skipped", _("Skipped")

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    mode = models.CharField(max_length=20, choices=Mode.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.QUEUED)
    payload = models.OneToOneField(
        PushPayload, null=True, blank=True, on_delete=models.SET_NULL, related_name="run"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_at", "-pk"]
        indexes = [models.Index(fields=["source", "-queued_at"])]

    def __str__(self) -> str:
        return f"{self.source} #{self.pk} {self.outcome}"

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
            "rejected": self.rejected,
        }

    @property
    def has_changes(self) -> bool:
        return bool(self.created or self.updated or self.withdrawn)


class RecordIssue(models.Model):
    """One rejected or repaired record in one run, with the field and the reason."""

    class Reason(models.TextChoices):
        REJECTED = "rejected", _("Rejected by the importer")
        REPAIRED = "repaired", _("Repaired by the importer")
        SANITIZED = "sanitized", _("Repaired by the sync engine")
        DUPLICATE = "duplicate", _("Duplicate id in the feed")
        FEED = "feed", _("Problem with the feed as a whole")

    class Severity(models.TextChoices):
        ERROR = "error", _("Error (record rejected)")
        WARNING = "warning", _("Warning (record repaired)")

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="issues")
    origin_id = models.CharField(max_length=255, blank=True)
    record_kind = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    field_path = models.CharField(max_length=255, blank=True)
    message = models.TextField()
    severity = models.CharField(max_length=10, choices=Severity.choices)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["run", "severity"])]

    def __str__(self) -> str:
        return f"{self.origin_id or '(feed)'}: {self.message[:60]}"


# ---------------------------------------------------------------------------
# Canonical records
# ---------------------------------------------------------------------------
class RecordStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class FederatedRecord(models.Model):
    """What every canonical record has: identity, change detection, lifecycle, provenance.

    `synced_at` is when our copy was last written. `last_seen_at` is refreshed at most
    once a day (see docs/decisions/0005-one-sync-engine-writes-federated-records.md), so an unchanged re-run writes nothing.
    """

    Status = RecordStatus

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="%(class)ss")
    origin_id = models.CharField(max_length=255)
    origin_url = models.CharField(max_length=1000, blank=True)
    origin_modified = models.CharField(max_length=40, blank=True)
    content_hash = models.CharField(max_length=64)
    # The importer's fingerprint of the raw item this row was last parsed from (see
    # importers/base.py); null when the format has none or parsing reported something, so
    # the record is parsed again on every run.
    raw_fingerprint = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=RecordStatus.choices, default="active")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=255, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    synced_at = models.DateTimeField()

    name = models.JSONField(default=dict)
    description = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        name = self.name or {}
        return (
            name.get("fi")
            or name.get("sv")
            or name.get("en")
            or next(iter(name.values()), self.origin_id)
        )

    @property
    def is_active(self) -> bool:
        return self.status == RecordStatus.ACTIVE


def _record_meta(model_name: str) -> dict:
    return {
        "constraints": [
            models.UniqueConstraint(
                fields=["source", "origin_id"], name=f"federation_{model_name}_source_origin"
            )
        ],
        "indexes": [models.Index(fields=["status"], name=f"federation_{model_name}_status")],
    }


class Organization(FederatedRecord):
    provider_kind = models.CharField(max_length=20, blank=True)
    business_id = models.CharField(max_length=20, blank=True)
    url = models.CharField(max_length=1000, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    municipality_code = models.CharField(max_length=3, blank=True)
    parent_origin_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = _record_meta("organization")["constraints"]
        indexes = _record_meta("organization")["indexes"]


class Channel(FederatedRecord):
    class Kind(models.TextChoices):
        LOCATION = "location", _("Location")
        PHONE = "phone", _("Phone")
        WEB = "web", _("Web page")
        EMAIL = "email", _("E-mail")
        ELECTRONIC = "electronic", _("Electronic service")
        FORM = "form", _("Printable form")

    kind = models.CharField(max_length=20, choices=Kind.choices, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="channels"
    )
    organization_origin_id = models.CharField(max_length=255, blank=True)
    service_origin_ids = models.JSONField(default=list, blank=True)
    phones = models.JSONField(default=list, blank=True)
    emails = models.JSONField(default=list, blank=True)
    urls = models.JSONField(default=list, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    opening_hours = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    accessibility = models.JSONField(default=dict, blank=True)
    # The first address, denormalized for place filters and maps.
    municipality_code = models.CharField(max_length=3, blank=True, db_index=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = _record_meta("channel")["constraints"]
        indexes = _record_meta("channel")["indexes"]


def name_sort_key(languages: tuple[str, ...], field: str = "name") -> Coalesce:
    """The text a list is ordered by: the name in the first of `languages` that has one.

    The public lists order by this (then id); `Service` indexes it for the usual chains, so
    the expression here and in the query must stay identical for the index to be used.
    """
    keys = [NullIf(KeyTextTransform(lang, field), Value("")) for lang in languages]
    return Coalesce(*keys, Value(""))


# The language fallback chains the service list is ordered by (PESA_LANGUAGE_FALLBACKS with
# Finnish last). Another chain still works, only without an index to walk.
SERVICE_SORT_CHAINS = (("fi",), ("sv", "fi"), ("en", "fi"))


class Service(FederatedRecord):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    organization_origin_id = models.CharField(max_length=255, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    languages = models.JSONField(default=list, blank=True)
    # Plain code strings, the same codes the cms vocabulary snippets carry.
    target_groups = models.JSONField(default=list, blank=True)
    life_events = models.JSONField(default=list, blank=True)
    service_classes = models.JSONField(default=list, blank=True)
    nationwide = models.BooleanField(default=False)
    municipality_codes = models.JSONField(default=list, blank=True)
    county_codes = models.JSONField(default=list, blank=True)
    channel_origin_ids = models.JSONField(default=list, blank=True)
    channels = models.ManyToManyField(Channel, through="ServiceChannel", related_name="services")

    class Meta:
        ordering = ["pk"]
        constraints = _record_meta("service")["constraints"]
        # PostgreSQL only, in migration 0003: a GIN on `languages` and a partial covering
        # index of active services (id, source_id) INCLUDE (languages) for counts and
        # search visibility, read index-only instead of the wide rows.
        indexes = [
            *_record_meta("service")["indexes"],
            # Name order per language chain, then id: a page of the list walks one of these.
            *(
                models.Index(
                    name_sort_key(chain), F("id"), name=f"federation_service_name_{chain[0]}"
                )
                for chain in SERVICE_SORT_CHAINS
            ),
        ]


class ServiceChannel(models.Model):
    """A service offered through a channel, both of the same source."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="channel_links")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="service_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "channel"], name="federation_service_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_id} → {self.channel_id}"


class ServiceArea(models.Model):
    """Where a service is offered, one row per code; filter with a single `code__in`.

    A nationwide service has the row ("nationwide", "*"), so "services for municipality X"
    is `code__in=[X, county_of(X), "*"]` on one index.
    """

    NATIONWIDE = "*"

    class Kind(models.TextChoices):
        NATIONWIDE = "nationwide", _("Nationwide")
        MUNICIPALITY = "municipality", _("Municipality")
        COUNTY = "county", _("Wellbeing services county")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="areas")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    code = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "kind", "code"], name="federation_service_area"
            )
        ]
        indexes = [models.Index(fields=["code", "service"], name="federation_area_code")]

    def __str__(self) -> str:
        return self.code


class ServiceCode(models.Model):
    """A classification code of a service (KR… target group, KE… life event, P… class)."""

    class Scheme(models.TextChoices):
        TARGET_GROUP = "target_group", _("Target group")
        LIFE_EVENT = "life_event", _("Life event")
        SERVICE_CLASS = "service_class", _("Service class")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="codes")
    scheme = models.CharField(max_length=20, choices=Scheme.choices)
    code = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "scheme", "code"], name="federation_service_code"
            )
        ]
        indexes = [
            # Pattern opclasses (PostgreSQL; ignored elsewhere): "KR1 or narrower" is
            # `code = 'KR1' OR code LIKE 'KR1.%'`, and a LIKE prefix can use a btree only
            # through them unless the database collation is "C".
            models.Index(
                fields=["scheme", "code", "service"],
                name="federation_code_lookup",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "int8_ops"],
            )
        ]

    def __str__(self) -> str:
        return self.code
