"""The automatic cyclic garbage collector, paused while a run reads and writes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Items (or written rows) between two collections of the young generations while the
# automatic cyclic garbage collector is paused.
GC_EVERY = 500


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Reading a feed makes millions of short-lived JSON containers, freed by reference
    counting; the automatic cyclic collector would keep scanning every document's objects
    while they live (JSON loading measured 3–7× slower in a worker with Django loaded).
    Paused here; `collect_young` still frees young cycles every `GC_EVERY` items."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collect_young(count: int) -> None:
    if count % GC_EVERY == 0:
        gc.collect(1)
