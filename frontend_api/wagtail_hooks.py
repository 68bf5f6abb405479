from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from frontend_api.models import WebhookDelivery, WebhookSubscription

WRITE_ACTIONS = {"add", "change", "delete"}


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """The delivery log is written by the system only; editors may look, not change."""

    def user_has_permission(self, user, action):
        return action not in WRITE_ACTIONS and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission([a for a in actions if a not in WRITE_ACTIONS])


register_permission_policy(WebhookDelivery, ReadOnlyPermissionPolicy(WebhookDelivery))


class WebhookSubscriptionViewSet(SnippetViewSet):
    model = WebhookSubscription
    icon = "link-external"
    menu_label = "Subscriptions"
    list_display = ("name", "url", "events", "active")
    list_filter = ("active",)


class WebhookDeliveryViewSet(SnippetViewSet):
    model = WebhookDelivery
    icon = "history"
    menu_label = "Deliveries"
    list_display = ("event", "subscription", "status", "attempts", "response_status", "created_at")
    list_filter = ("status", "event")
    inspect_view_enabled = True


class WebhookViewSetGroup(ViewSetGroup):
    items = (WebhookSubscriptionViewSet, WebhookDeliveryViewSet)
    menu_icon = "link-external"
    menu_label = "Webhooks"
    menu_name = "webhooks"


register_snippet(WebhookViewSetGroup)
