"""Queue adapter of the search index: re-indexes a big sync's services after it commits."""

from __future__ import annotations

from celery import shared_task

from frontend_api.search.services import index_services


@shared_task
def index_services_task(service_ids: list[int]) -> None:
    index_services(service_ids=service_ids)
