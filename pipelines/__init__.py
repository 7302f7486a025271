"""Overreach's Dagster side: sources, assets, resources, the CLI and the reports."""

import os

# Polars allocates through its own jemalloc, which by default keeps freed pages until later allocations
# purge them: a night's run would keep each step's peak resident into the next one. Pages handed back at
# once let each step start from what the process really holds. Read when Polars loads, so set first.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
