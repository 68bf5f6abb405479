"""Admin for feed owners and staff: sources with their runs, run issues, federated records.

- Sources: list with the last run's outcome and counts; "Runs", "Sync now" and "Push token"
  buttons (a new token is shown once; only its hash is stored).
- Sync runs and record issues: read-only, filterable (a run's issues: `?run=<id>`).
- Organisations, services, channels: read-only, with a status filter so staff see
  withdrawn records too.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets import ListingButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.public_url import public_url
from federation.exceptions import FeedRejected
from federation.models import (
    Channel,
    Organization,
    RecordIssue,
    RecordStatus,
    Service,
    Source,
    SyncRun,
)
from federation.selectors import latest_run
from federation.services import enqueue_sync, issue_push_token, revoke_push_token
from federation.services.sources import validate_feed_url

SYNC_PERMISSION = "federation.sync_source"
# Who may hand out or revoke a source's push token: those who may edit the source.
SOURCE_EDIT_PERMISSION = "federation.change_source"


def can_sync(user) -> bool:
    return user.has_perm(SYNC_PERMISSION)


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------
def mask(value: str) -> str:
    return (value[:4] + "…") if len(value) > 8 else "…"


class SourceAdminForm(WagtailAdminModelForm):
    """Request headers are write-only: the admin shows names and a masked hint, never values."""

    new_request_headers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Request headers",
        help_text="One 'Name: value' per line (e.g. an API key). Empty keeps the current headers; '-' clears them.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        headers = self.instance.request_headers or {}
        if headers:
            current = ", ".join(f"{name}: {mask(str(value))}" for name, value in headers.items())
            self.fields["new_request_headers"].help_text += f" Current: {current}"

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "").strip()
        try:
            validate_feed_url(url)
        except FeedRejected as error:
            raise forms.ValidationError(str(error)) from error
        return url

    def clean_new_request_headers(self) -> dict[str, str] | None:
        text = self.cleaned_data.get("new_request_headers", "").strip()
        if not text:
            return None
        if text == "-":
            return {}
        headers = {}
        for line in text.splitlines():
            name, separator, value = line.partition(":")
            if not separator or not name.strip():
                raise forms.ValidationError(f"not a 'Name: value' line: {line[:40]!r}")
            headers[name.strip()] = value.strip()
        return headers

    def save(self, commit: bool = True) -> Source:
        headers = self.cleaned_data.get("new_request_headers")
        if headers is not None:
            self.instance.request_headers = headers
        return super().save(commit=commit)


class LastRunColumn(Column):
    cell_template_name = "wagtailadmin/tables/cell.html"

    def get_value(self, instance: Source) -> str:
        run = latest_run(source=instance)
        if run is None:
            return "never run"
        counts = ", ".join(f"{name} {value}" for name, value in run.counts.items())
        return f"{run.get_outcome_display()} ({counts})"


class SourceViewSet(SnippetViewSet):
    model = Source
    icon = "resubmit"
    menu_label = "Sources"
    list_display = [
        "name",
        "slug",
        "format",
        "enabled",
        LastRunColumn("last_run", label="Last run"),
    ]
    list_filter = ["kind", "format", "enabled"]
    copy_view_enabled = False
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [FieldPanel("name"), FieldPanel("slug"), FieldPanel("owner"), FieldPanel("kind"),
                 FieldPanel("trust_tier"), FieldPanel("enabled")],
                heading="Source",
            ),
            MultiFieldPanel(
                [FieldPanel("format"), FieldPanel("url"), FieldPanel("area_scope"),
                 FieldPanel("importer_options"), FieldPanel("new_request_headers")],
                heading="Feed",
            ),
            MultiFieldPanel(
                [FieldPanel("incremental_interval_minutes"), FieldPanel("full_sync_interval_hours")],
                heading="Schedule",
            ),
            MultiFieldPanel(
                [FieldPanel("max_withdrawn_percent"), FieldPanel("min_record_count")],
                heading="Deletion guard",
            ),
        ],
        base_form_class=SourceAdminForm,
    )  # fmt: skip


@hooks.register("register_snippet_listing_buttons")
def source_listing_buttons(snippet, user, next_url=None):
    if not isinstance(snippet, Source):
        return []
    buttons = [
        ListingButton(
            "Runs",
            url=reverse("wagtailsnippets_federation_syncrun:list") + f"?source={snippet.pk}",
            priority=20,
        )
    ]
    if can_sync(user):
        buttons.append(
            ListingButton(
                "Sync now", url=reverse("federation_sync_source", args=[snippet.pk]), priority=10
            )
        )
    if user.has_perm(SOURCE_EDIT_PERMISSION):
        buttons.append(
            ListingButton(
                "Push token",
                url=reverse("federation_source_push_token", args=[snippet.pk]),
                priority=30,
            )
        )
    return buttons


def sync_source_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST queues a run (after commit) and shows the runs."""
    if not can_sync(request.user):
        raise PermissionDenied
    source = get_object_or_404(Source, pk=pk)
    if request.method == "POST":
        full = request.POST.get("full") == "1"
        enqueue_sync(source=source, full=full, trigger=SyncRun.Trigger.MANUAL)
        messages.success(
            request, f"A {'full' if full else 'incremental'} sync of {source} was queued."
        )
        return redirect(reverse("wagtailsnippets_federation_syncrun:list") + f"?source={source.pk}")
    return TemplateResponse(request, "federation/admin/confirm_sync.html", {"source": source})


def push_token_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows whether the source has a push token; POST `issue` replaces it with a new one,
    shown on this response only (never stored in clear, never cached), POST `revoke` removes
    it. Pushes with a replaced or revoked token get 401 from then on."""
    if not request.user.has_perm(SOURCE_EDIT_PERMISSION):
        raise PermissionDenied
    source = get_object_or_404(Source, pk=pk)
    token = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "issue":
            token = issue_push_token(source=source)
        elif action == "revoke":
            revoke_push_token(source=source)
            messages.success(request, f"The push token of {source} was revoked.")
            return redirect(reverse("federation_source_push_token", args=[source.pk]))
        else:
            return HttpResponse("Unknown action.", status=400)
    response = TemplateResponse(
        request,
        "federation/admin/push_token.html",
        {
            "source": source,
            "token": token,
            "push_url": public_url(reverse("source-feed-push", kwargs={"slug": source.slug})),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@hooks.register("register_admin_urls")
def federation_admin_urls():
    return [
        path("federation/sources/<int:pk>/sync/", sync_source_view, name="federation_sync_source"),
        path(
            "federation/sources/<int:pk>/push-token/",
            push_token_view,
            name="federation_source_push_token",
        ),
    ]


# ---------------------------------------------------------------------------
# Runs and issues: read-only
# ---------------------------------------------------------------------------
class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Anyone who may view may list; nobody adds, edits or deletes through the admin."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete", "publish", "lock", "unlock"):
            return False
        return super().user_has_permission(user, "view")


class SyncRunFilterSet(WagtailFilterSet):
    source = django_filters.ModelChoiceFilter(queryset=Source.objects.all())
    outcome = django_filters.ChoiceFilter(choices=SyncRun.Outcome.choices)
    trigger = django_filters.ChoiceFilter(choices=SyncRun.Trigger.choices)

    class Meta:
        model = SyncRun
        fields = ["source", "outcome", "trigger"]


class IssuesColumn(Column):
    cell_template_name = "wagtailadmin/tables/cell.html"

    def get_value(self, instance: SyncRun) -> str:
        url = reverse("wagtailsnippets_federation_recordissue:list") + f"?run={instance.pk}"
        return format_html('<a href="{}">{} issues</a>', url, instance.issues.count())


class SyncRunViewSet(SnippetViewSet):
    model = SyncRun
    icon = "history"
    menu_label = "Sync runs"
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = SyncRunFilterSet
    list_display = [
        "source", "trigger", "mode", "outcome", "created", "updated", "unchanged",
        "withdrawn", "rejected", "queued_at", IssuesColumn("issues", label="Issues"),
    ]  # fmt: skip
    list_per_page = 50


class RecordIssueFilterSet(WagtailFilterSet):
    run = django_filters.NumberFilter(field_name="run")
    reason = django_filters.ChoiceFilter(choices=RecordIssue.Reason.choices)
    severity = django_filters.ChoiceFilter(choices=RecordIssue.Severity.choices)

    class Meta:
        model = RecordIssue
        fields = ["run", "reason", "severity"]


class RecordIssueViewSet(SnippetViewSet):
    model = RecordIssue
    icon = "warning"
    menu_label = "Record issues"
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = RecordIssueFilterSet
    list_display = ["origin_id", "record_kind", "reason", "severity", "field_path", "message"]
    list_per_page = 50


# ---------------------------------------------------------------------------
# Federated records: read-only, withdrawn included
# ---------------------------------------------------------------------------
class RecordFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(choices=RecordStatus.choices)
    source = django_filters.ModelChoiceFilter(queryset=Source.objects.all())


def record_viewset(record_model, record_icon: str, label: str) -> type[SnippetViewSet]:
    filterset = type(
        f"{record_model.__name__}FilterSet",
        (RecordFilterSet,),
        {"Meta": type("Meta", (), {"model": record_model, "fields": ["status", "source"]})},
    )
    return type(
        f"{record_model.__name__}ViewSet",
        (SnippetViewSet,),
        {
            "model": record_model,
            "icon": record_icon,
            "menu_label": label,
            "inspect_view_enabled": True,
            "copy_view_enabled": False,
            "filterset_class": filterset,
            "list_display": ["__str__", "source", "origin_id", "status", "synced_at"],
            "list_per_page": 50,
        },
    )


ServiceViewSet = record_viewset(Service, "list-ul", "Services")
OrganizationViewSet = record_viewset(Organization, "group", "Organisations")
ChannelViewSet = record_viewset(Channel, "site", "Channels")


class FederationViewSetGroup(SnippetViewSetGroup):
    items = (
        SourceViewSet,
        SyncRunViewSet,
        RecordIssueViewSet,
        ServiceViewSet,
        OrganizationViewSet,
        ChannelViewSet,
    )
    menu_label = "Federation"
    menu_icon = "resubmit"
    menu_name = "federation"


for read_only_model in (SyncRun, RecordIssue, Service, Organization, Channel):
    register_permission_policy(read_only_model, ReadOnlyPermissionPolicy(read_only_model))
register_snippet(FederationViewSetGroup)
