"""The web workers' heap and Python's cyclic garbage collector.

A full (oldest-generation) collection walks every tracked object in the process: Django's,
Wagtail's and DRF's registries, URL patterns, compiled reads, language analysers. In a
warm API worker that took 150-200 ms, once every few dozen requests: the p99 of a 10 ms
service list was 190 ms in process. What start-up and the first requests build lives as
long as the process, so it is frozen (`gc.freeze`): moved out of the collector's sight.
Reference counting still frees it; only cycles made before the freeze are never reclaimed.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import Any


def freeze_heap() -> None:
    """Collect what is garbage now, then freeze every object that survives."""
    gc.collect()
    gc.freeze()


class FreezeHeapAfterWarmUp:
    """WSGI middleware: freezes the heap once more after the worker's first `requests`
    requests (caches and lazily built registries are there by then). 0 turns it off."""

    def __init__(self, application: Callable[..., Iterable[bytes]], *, requests: int) -> None:
        self.application = application
        self.remaining = requests
        self.frozen = requests <= 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return self.application(environ, start_response)
        finally:
            if not self.frozen:
                self.remaining -= 1
                if self.remaining <= 0:
                    self.frozen = True
                    freeze_heap()


def web_application(application: Callable[..., Iterable[bytes]]) -> Callable[..., Any]:
    """`application` as the web workers run it: start-up frozen now, the warm heap later."""
    from django.conf import settings

    freeze_heap()
    return FreezeHeapAfterWarmUp(application, requests=settings.PESA_GC_FREEZE_AFTER_REQUESTS)
