from django.apps import AppConfig


class BaselinesConfig(AppConfig):
    name = "bench.baselines"
    label = "bench_baselines"

    def ready(self) -> None:
        from wagtail.api import APIField

        from cms.models import ArticlePage

        # What a Wagtail API v2 site would expose: the article's own fields. Set here, for
        # the bench only; the Pesä API does not use api_fields.
        ArticlePage.api_fields = [
            APIField("lead"),
            APIField("body"),
            APIField("references"),
            APIField("reviewer_name"),
            APIField("reviewer_title"),
            APIField("reviewer_organisation"),
            APIField("reviewed_on"),
            APIField("next_review_due"),
        ]
