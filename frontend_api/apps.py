from django.apps import AppConfig


class FrontendApiConfig(AppConfig):
    name = "frontend_api"
    verbose_name = "Frontend API"

    def ready(self) -> None:
        from frontend_api import receivers  # noqa: F401  (connects the change-log receivers)
        from frontend_api.search import receivers as search_receivers  # noqa: F401  (search index)
