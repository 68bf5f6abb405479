from django.apps import AppConfig


class FrontendApiConfig(AppConfig):
    name = "frontend_api"
    verbose_name = "Frontend API"
