"""Fewer garbage collections for the long set-based jobs (imports, exports).

Python's cyclic collector runs every 700 new containers, and each of its full
passes walks every object alive: Django's own, then the job's (a chunk of rows,
plans, model instances). An import allocates millions of short-lived dicts and
lists that reference counting frees anyway; the collector walking them was a
third of an import's check (measured: bench/README.md, imports, 23/11/2026 3ᵉ séance).

`few_collections()` freezes what is alive when the job starts (the process's
modules, settings, caches: never garbage) and collects the young generation
every 50,000 containers instead of 700. Cycles are still collected; they wait a
little longer. Re-entrant; the previous thresholds come back at the end.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

YOUNG = 50_000  # new containers between two collections of the young generation

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] = ()


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(YOUNG, 20, 100)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()
