from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = "Federated services"

    def ready(self) -> None:
        from federation.models import Area
        from federation.selectors import forget_areas

        # The service list keeps municipality → area codes per process; an edit drops it.
        post_save.connect(forget_areas, sender=Area, dispatch_uid="federation.forget_areas")
        post_delete.connect(forget_areas, sender=Area, dispatch_uid="federation.forget_areas_d")
