"""Python's cycle collector, paused around bulk construction."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while building many small objects that stay alive: each collection walks
    every tracked object of its generations again, and in a process that already holds a large heap (a
    pipeline step after DuckDB reads) those walks cost more than the building itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
