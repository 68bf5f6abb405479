"""What every public read view shares. Endpoints subclass `PublicReadOnlyViewSet` or `PublicAPIView`.

Per request, in order: throttle (per client IP), strict query parameters (unknown → 400
naming the allowed ones), language negotiation (`request.language_choice`), then the
response cache (a hit returns stored bytes without touching the database). Responses say
which language they served (`Content-Language`, `Pesa-Language-Fallback`, and `meta` in
list envelopes).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.mixins import ListModelMixin
from rest_framework.views import APIView
from rest_framework.viewsets import ReadOnlyModelViewSet

from frontend_api import caching
from frontend_api.language import (
    LANG_PARAM,
    UnsupportedLanguage,
    negotiate_language,
    supported_languages,
)
from frontend_api.parameters import check_parameter_values
from frontend_api.problems import InvalidQueryParameters
from frontend_api.schema import PesaAutoSchema

GLOBAL_QUERY_PARAMS = (LANG_PARAM,)


class _CachedHit(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__()
        self.response = response


def filter_param_names(view: Any) -> list[str]:
    """Query parameter names the view's filter backends accept."""
    names: list[str] = []
    for backend_class in getattr(view, "filter_backends", ()):
        backend = backend_class()
        if hasattr(backend, "get_query_param_names"):
            names.extend(backend.get_query_param_names(view))
        elif isinstance(backend, DjangoFilterBackend):
            filterset_class = getattr(view, "filterset_class", None)
            if filterset_class is None and getattr(view, "filterset_fields", None):
                queryset = view.get_queryset()
                filterset_class = backend.get_filterset_class(view, queryset)
            for name, filter_ in getattr(filterset_class, "base_filters", {}).items():
                suffixes = getattr(filter_.field_class.widget, "suffixes", None)
                names.extend(f"{name}_{suffix}" if suffix else name for suffix in suffixes or [""])
        for attribute in ("search_param", "ordering_param"):
            if hasattr(backend, attribute):
                names.append(getattr(backend, attribute))
    return names


class PublicApiMixin:
    """Strict query parameters, language negotiation and the response cache for one view."""

    #: Extra query parameters this view reads itself (e.g. ("q",) for search).
    extra_query_params: tuple[str, ...] = ()
    #: Whether 200 responses go to the response cache (preview: False).
    cache_responses: bool = True
    schema = PesaAutoSchema()

    def is_list_view(self) -> bool:
        action = getattr(self, "action", None)
        if action is not None:
            return action == "list"
        return isinstance(self, ListModelMixin)

    def get_allowed_query_params(self) -> list[str]:
        allowed = [*GLOBAL_QUERY_PARAMS, *self.extra_query_params]
        if self.is_list_view():
            if self.paginator is not None:
                allowed.extend(self.paginator.query_params())
            allowed.extend(filter_param_names(self))
        return list(dict.fromkeys(allowed))

    def check_query_params(self, request: Any) -> None:
        allowed = self.get_allowed_query_params()
        unknown = sorted(set(request.query_params) - set(allowed))
        if unknown:
            raise InvalidQueryParameters(
                detail=(
                    f"Unknown query parameter(s): {', '.join(unknown)}. "
                    f"Allowed: {', '.join(allowed)}."
                ),
                errors={name: ["Unknown query parameter."] for name in unknown},
                allowed_parameters=allowed,
            )
        check_parameter_values(request.query_params)

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):  # type: ignore[attr-defined]
            # A 405 before the parameter checks, which only know the routed methods' names.
            raise MethodNotAllowed(request.method)
        request.api_meta = {}
        self.check_query_params(request)
        try:
            request.language_choice = negotiate_language(request)
        except UnsupportedLanguage as exc:
            languages = supported_languages()
            raise InvalidQueryParameters(
                detail=f"`lang` must be one of {', '.join(languages)}; got {exc.value!r}.",
                errors={LANG_PARAM: [f"Unsupported language {exc.value!r}."]},
                allowed_values={LANG_PARAM: languages},
            ) from None
        self._cache_key = None
        if self._uses_response_cache(request):
            self._cache_key = caching.response_cache_key(
                request, lang=request.language_choice.requested
            )
            looked_up = getattr(request, "pesa_cache_lookup", None)
            if looked_up is not None and looked_up[0] == self._cache_key:
                self._cache_generation = looked_up[1]  # a miss in ApiResponseCacheMiddleware
                return
            hit, self._cache_generation = caching.lookup(self._cache_key)
            if hit is not None:
                raise _CachedHit(hit)

    def _uses_response_cache(self, request: Any) -> bool:
        return (
            self.cache_responses
            and settings.PESA_API_RESPONSE_CACHE
            and request.method in ("GET", "HEAD")
        )

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _CachedHit):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        choice = getattr(request, "language_choice", None)
        if choice is None or response.has_header("X-Cache"):
            return response
        if 200 <= response.status_code < 300:
            response["Content-Language"] = choice.content_language
            response["Pesa-Language-Fallback"] = "true" if choice.fallback_used else "false"
        key = getattr(self, "_cache_key", None)
        if key and response.status_code == 200 and request.method == "GET":
            generation = self._cache_generation
            if hasattr(response, "add_post_render_callback"):
                response.add_post_render_callback(
                    lambda rendered: caching.store_response(key, rendered, generation=generation)
                )
            else:
                caching.store_response(key, response, generation=generation)
        return response


class PublicReadOnlyViewSet(PublicApiMixin, ReadOnlyModelViewSet):
    """Base for the public read endpoints (articles, services, organizations, …)."""


class PublicAPIView(PublicApiMixin, APIView):
    """Base for public read endpoints that are not model lists (search, changes)."""
