"""Resources: the run's settings and the DuckDB warehouse it builds and publishes."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from models.risk.config import RiskConfig
from pipelines.sql import ensure_schemas

DATABASE_NAME = "overreach.duckdb"
# DuckDB checkpoints whenever its write-ahead log passes this. At its default (16 MB), the events refresh's 45
# batches at M (10M events) checkpointed the growing rollup tables again and again: 18.9 s against 14.5 s
# with one checkpoint at the end of the step.
CHECKPOINT_THRESHOLD = "1GB"
DEFAULT_WINDOW_DAYS = 90
SCHEDULED_TIME_TAG = "dagster/scheduled_execution_time"


class RunSettings(dg.ConfigurableResource):
    """What a run reads and for which day.

    sources: files or directories to read, any layout; formats are recognised by content.
    as_of: the last day of the observation window (YYYY-MM-DD); empty means the
        scheduled date for scheduled runs and today otherwise.
    window_days: length of the observation window ending at as_of.
    risk_overrides: JSON of risk settings to change for this run (``models.risk.config.RiskConfig``),
        e.g. ``{"weights": {"no_owner": 10}, "rotation_days": 30}``.
    """

    sources: list[str] = ["data/sample"]
    as_of: str = ""
    window_days: int = DEFAULT_WINDOW_DAYS
    risk_overrides: str = ""

    def source_paths(self) -> list[Path]:
        return [Path(s).expanduser().resolve() for s in self.sources]

    def risk_config(self) -> RiskConfig:
        config = RiskConfig()
        return config.with_overrides(json.loads(self.risk_overrides)) if self.risk_overrides else config

    def as_of_date(self, context: dg.AssetExecutionContext | None = None) -> date:
        if self.as_of:
            return date.fromisoformat(self.as_of)
        scheduled = context.run.tags.get(SCHEDULED_TIME_TAG) if context is not None else None
        if scheduled:
            return datetime.fromisoformat(scheduled).date()
        return date.today()


def _return_freed_heap() -> None:
    """Hand the C heap's free pages back to the system; glibc keeps them otherwise, under the next steps (10k
    identities, outside the pipeline: 0.43 → 0.30 GiB once the permission graph is freed)."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None) if sys.platform.startswith("linux") else None
    if trim is not None:  # glibc's; other C libraries have none
        trim(0)


# DuckDB's limit on the connection of a step that holds large Python structures beside it (the permission graph,
# the what-ifs' index, the grants' Polars batches): left at the run's limit, DuckDB keeps that much of what it read or wrote cached for the
# step's length, on top of them (10k identities: the recommendations' peak 1.83 → 1.68 GiB).
LIMIT_BESIDE_LARGE_PYTHON = "384MB"


class Warehouse(dg.ConfigurableResource):
    """The warehouse directory: ``overreach.duckdb`` (published), ``landing/``, ``reports/``.

    A run writes into a working copy (``build/overreach.duckdb``) made from the
    published database when the run starts; only the last step, ``warehouse_published``,
    replaces the published file, atomically. A run that fails midway leaves the
    published warehouse exactly as the previous run left it.
    """

    directory: str = "warehouse"
    # DuckDB spills to build/spill beyond this; Python holds per-identity frames beside it, and the two share
    # the run's memory (at 1M events DuckDB's steps peak at 1.3-2.0 GiB RSS with 1 GB here, 2.3-2.7 with 2 GB).
    memory_limit: str = "1GB"
    threads: int = 0

    @property
    def root(self) -> Path:
        return Path(self.directory).expanduser().resolve()

    @property
    def published_path(self) -> Path:
        return self.root / DATABASE_NAME

    @property
    def build_path(self) -> Path:
        return self.root / "build" / DATABASE_NAME

    @property
    def landing_dir(self) -> Path:
        return self.root / "landing"

    @property
    def events_dir(self) -> Path:
        """CloudTrail events as Parquet, one directory per day (``events/YYYY-MM-DD/<digest>.parquet``)."""
        return self.root / "events"

    @property
    def reach_index_path(self) -> Path:
        """The run's graph as the what-ifs read it (``ReachIndex``), handed from the graph step to the
        recommendations step."""
        return self.root / "build" / "reach_index.pickle"

    @property
    def scratch_dir(self) -> Path:
        return self.root / "build" / "scratch"

    def reports_dir(self, as_of: date) -> Path:
        return self.root / "reports" / as_of.isoformat()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.start_build()

    def start_build(self) -> None:
        """Begin a run: the working copy starts as the published warehouse (or empty)."""
        self.build_path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (self.build_path, self.build_path.with_suffix(".duckdb.wal")):
            stale.unlink(missing_ok=True)
        # what steps of earlier runs handed on (a graph of 260 MB at 10k identities, as earlier versions saved it)
        for handoff in self.build_path.parent.glob("*.pickle"):
            handoff.unlink()
        if self.published_path.exists():
            shutil.copyfile(self.published_path, self.build_path)
        with self.connect() as con:
            ensure_schemas(con)

    def _duckdb(self) -> DuckDBResource:
        config = {"memory_limit": self.memory_limit, "temp_directory": str(self.root / "build" / "spill"),
                  "checkpoint_threshold": CHECKPOINT_THRESHOLD}
        if self.threads:
            config["threads"] = self.threads
        return DuckDBResource(database=str(self.build_path), connection_config=config)

    @contextmanager
    def connect(self, memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the run's working copy; ``memory_limit`` lowers DuckDB's for a step whose own Python
        structures are large (DuckDB keeps what it read cached up to its limit)."""
        # The steps that build a networkx graph (it refers to itself through its views, so only the cycle
        # collector frees it) collect it themselves once they let it go; a full collection at every step's start
        # walked every object of the process again, 0.1-0.2 s a step. What the C heap freed goes back here.
        _return_freed_heap()
        with self._duckdb().get_connection() as con:
            if memory_limit:
                con.execute("SET memory_limit = $limit", {"limit": memory_limit})
            yield con

    def publish(self) -> Path:
        """Replace the published database with the working copy in one rename."""
        with self.connect() as con:
            con.execute("CHECKPOINT")
        staged = self.published_path.with_suffix(".duckdb.publishing")
        shutil.copyfile(self.build_path, staged)
        os.replace(staged, self.published_path)
        return self.published_path


def build_resources(
    sources: list[str], warehouse_dir: str, as_of: str = "", window_days: int = DEFAULT_WINDOW_DAYS, risk_overrides: str = ""
) -> dict:
    return {
        "settings": RunSettings(sources=sources, as_of=as_of, window_days=window_days, risk_overrides=risk_overrides),
        "warehouse": Warehouse(directory=warehouse_dir),
    }


def resources_from_environment() -> dict:
    """Resources for the scheduled run and the UI: OVERREACH_SOURCES (paths separated by ':'),
    OVERREACH_WAREHOUSE and OVERREACH_WINDOW_DAYS, defaulting to the sample and ./warehouse."""
    sources = [s for s in os.environ.get("OVERREACH_SOURCES", "data/sample").split(os.pathsep) if s]
    return build_resources(
        sources=sources,
        warehouse_dir=os.environ.get("OVERREACH_WAREHOUSE", "warehouse"),
        window_days=int(os.environ.get("OVERREACH_WINDOW_DAYS", DEFAULT_WINDOW_DAYS)),
    )
