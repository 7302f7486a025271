"""Landed CloudTrail records → events partitioned by day, and the daily usage rollups.

A night rebuilds only the days whose set of source files changed (new files, a
back-filled day, a file that disappeared); every other day keeps its Parquet file
and its rollup rows. ``ops.event_days`` is the manifest: for each day, the digest
of the files that made it and the events file that holds it. A rebuild writes into
a directory named by the digests it rebuilt, so it never overwrites a file the
published warehouse still reads; files no published manifest names are removed
after publication (``remove_unreferenced_event_files``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.sources.cloudtrail import (
    LANDING_PART,
    create_landing_shape,
    outcome_from_document,
    read_landed_documents,
)
from pipelines.sources.detect import CLOUDTRAIL_JSONL, CLOUDTRAIL_RECORDS
from pipelines.sources.ledger import FileOutcome
from pipelines.sql import path_literal, scalar, sql_text

ROLLUPS = ("core.usage_daily", "core.resource_usage_daily", "core.credential_usage_daily", "core.delegation_usage_daily")
# Part of every day's digest: bump it when a rollup's definition changes, so every day is rebuilt once.
ROLLUP_VERSION = 3


@dataclass(frozen=True)
class DayPlan:
    """One day's events: which landed files hold them and the digest naming that set."""

    day: str
    source_keys: tuple[str, ...]

    @property
    def digest(self) -> str:
        text = f"{ROLLUP_VERSION}|{self.day}|{','.join(self.source_keys)}"
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class RefreshSummary:
    days_total: int
    days_rebuilt: int
    days_removed: int
    events: int


def landed_outcomes(detected, landing_dir: Path) -> list[FileOutcome]:
    """The landing outcomes of the run's CloudTrail files (``detected``: ``DetectedFile`` rows)."""
    documents = read_landed_documents(landing_dir / "outcomes")
    return [
        outcome_from_document(d.source, documents[d.source.key])
        for d in detected
        if d.format in (CLOUDTRAIL_RECORDS, CLOUDTRAIL_JSONL) and d.source.key in documents
    ]


def plan_days(outcomes: list[FileOutcome]) -> dict[str, DayPlan]:
    keys_by_day: dict[str, set[str]] = defaultdict(set)
    for outcome in outcomes:
        for day in outcome.records_by_day:
            keys_by_day[day].add(outcome.source.key)
    return {day: DayPlan(day, tuple(sorted(keys))) for day, keys in sorted(keys_by_day.items())}


def _ensure_manifest(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS ops.event_days "
        "(event_day DATE, sources_digest VARCHAR, source_files INTEGER, events BIGINT, events_file VARCHAR)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS ops.event_day_files "
        "(event_day DATE, source_key VARCHAR, records BIGINT, duplicates BIGINT)"
    )


def _ensure_rollups(con: duckdb.DuckDBPyConnection) -> None:
    """Create the rollup tables (empty) from their SQL when a warehouse has none yet."""
    for table in ROLLUPS:
        schema, name = table.split(".")
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM ({sql_text(f'{schema}/{name}')}) LIMIT 0")


# Days are rebuilt in batches of at most this many landed records: one pass of DuckDB statements per batch
# (not per day) keeps a first load fast, and the bound keeps its memory flat however long the history. With the
# copies found by the IDs' hashes (sql/core/event_copies.sql) nothing of a batch is sorted but its copies: at M
# (10M events) 1M a batch took 8.5 s, 250k 9.7 s, at the same peak.
BATCH_RECORDS = 1_000_000


def refresh_events(
    con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome], landing_dir: Path, events_dir: Path
) -> RefreshSummary:
    """Bring day partitions, rollups and the manifest in line with the landed files."""
    _ensure_manifest(con)
    create_landing_shape(con)
    # the shape of day_events for an empty warehouse's rollups and view, until a rebuild replaces it
    con.execute("CREATE OR REPLACE TEMP TABLE day_landing AS SELECT * FROM cloudtrail_landing_shape")
    _day_events_shape(con)
    _ensure_rollups(con)
    wanted = plan_days(outcomes)
    known = dict(con.execute("SELECT event_day::VARCHAR, sources_digest FROM ops.event_days").fetchall())
    files = dict(con.execute("SELECT event_day::VARCHAR, events_file FROM ops.event_days").fetchall())
    rebuilt = [
        plan for day, plan in wanted.items()
        if known.get(day) != plan.digest or not _day_files(events_dir, files.get(day))
    ]
    removed = sorted(set(known) - set(wanted))
    _forget_days(con, removed)
    records = _records_by_day(outcomes)
    files_of = {o.source.key: o.records_file for o in outcomes if o.records_file}
    for batch in _batches(rebuilt, records):
        _rebuild_days(con, batch, landing_dir / "records", files_of, events_dir)
    _publish_view(con, events_dir)
    events = scalar(con, "SELECT coalesce(sum(events), 0) FROM ops.event_days")
    return RefreshSummary(len(wanted), len(rebuilt), len(removed), events)


def _records_by_day(outcomes: list[FileOutcome]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        for day, count in outcome.records_by_day.items():
            totals[day] += count
    return totals


# A last batch of fewer records than this share of the bound joins the one before: a pass of the statements costs
# about the same for a day as for a batch (S's 1,000,080 events had taken two passes, the second for one day).
REMAINDER_SHARE = 0.1


def _batches(plans: list[DayPlan], records: dict[str, int]) -> list[list[DayPlan]]:
    """``plans`` in order, in batches of at most ``BATCH_RECORDS`` landed records (a day more than that is a batch of
    its own), a small remainder joined to the batch before."""
    batches: list[list[DayPlan]] = []
    sizes: list[int] = []
    for plan in plans:
        day_records = records.get(plan.day, 0)
        if not batches or sizes[-1] + day_records > BATCH_RECORDS:
            batches.append([])
            sizes.append(0)
        batches[-1].append(plan)
        sizes[-1] += day_records
    if len(batches) > 1 and sizes[-1] < BATCH_RECORDS * REMAINDER_SHARE:
        batches[-2].extend(batches.pop())
    return batches


def _forget_days(con: duckdb.DuckDBPyConnection, days: list[str]) -> None:
    """Drop the rollup and manifest rows of ``days``: a statement per table, not per day and table (a first
    load of 90 days ran 540 of them)."""
    if not days:
        return
    for table, column in _DAY_COLUMNS.items():
        con.execute(f"DELETE FROM {table} WHERE list_contains($days::DATE[], {column})", {"days": days})


# Every table a day's rebuild writes, with its day column.
_DAY_COLUMNS = dict.fromkeys(ROLLUPS, "day") | {"ops.event_days": "event_day", "ops.event_day_files": "event_day"}


def _day_file(batch_dir: str, day: str) -> str:
    """A day's files relative to the events directory, as a glob: a day taken as landed has a file per records
    directory that holds some of it, a day written again one."""
    return f"{batch_dir}/event_day={day}/*.parquet"


def _day_files(events_dir: Path, pattern: str | None) -> list[Path]:
    """The files a manifest's ``events_file`` names (a glob, or one file as earlier versions wrote)."""
    return sorted(events_dir.glob(pattern)) if pattern else []


def _day_events_shape(con: duckdb.DuckDBPyConnection) -> None:
    """``day_events`` with no rows, over the empty ``day_landing``: the day files' columns, which the rollups and
    the empty ``core.access_events`` take."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE day_copies AS {sql_text('core/event_copies')}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW day_events AS {sql_text('core/access_events_day')}")


def _landed_files(records_dir: Path, directories: list[str], days: list[str]) -> dict[str, list[Path]]:
    """The landed Parquet of each of ``days``, from the records directories given."""
    found: dict[str, list[Path]] = {day: [] for day in days}
    for directory in directories:
        for path in sorted((records_dir / directory).glob(f"{LANDING_PART}=*/*.parquet")):
            day = path.parent.name.removeprefix(f"{LANDING_PART}=")
            if day in found:
                found[day].append(path)
    return found


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (the landing may drop its name later; the file stays while a day
    names it), or a copy where the file system has no links across the two."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _rebuild_days(
    con: duckdb.DuckDBPyConnection, batch: list[DayPlan], records_dir: Path, files_of: dict[str, str], events_dir: Path
) -> None:
    """Rebuild the batch's days: their day files from the landed Parquet, their rollups and manifest."""
    days = [plan.day for plan in batch]
    keys = sorted({key for plan in batch for key in plan.source_keys})
    landed_of_day = _landed_files(records_dir, sorted({files_of[key] for key in keys if key in files_of}), days)
    files = [str(p) for files in landed_of_day.values() for p in files]
    token = hashlib.sha256("|".join(plan.digest for plan in batch).encode()).hexdigest()[:20]
    target = events_dir / f"batch-{token}"
    shutil.rmtree(target, ignore_errors=True)  # a failed run's leftovers: unlinked, never written over in place
    con.execute("CREATE OR REPLACE TEMP TABLE day_landed AS SELECT event_day, source_key, count(*) AS records "
                "FROM read_parquet($files, hive_partitioning = false) GROUP BY ALL", {"files": files})
    stale_days, stale_keys = _forget_stale_records(con, set(keys))
    landed, params = _landed_records(files, stale_keys)
    con.execute(f"CREATE OR REPLACE TEMP TABLE day_copies AS WITH day_landing AS ({landed}) "
                f"{sql_text('core/event_copies')}", params)
    # A day's landed Parquet is its day file as it is, unless it holds later copies of an event or stale records.
    copied = {row[0] for row in con.execute("SELECT DISTINCT event_day::VARCHAR FROM day_copies").fetchall()}
    rewritten = stale_days | copied
    for day in days:
        day_dir = target / f"event_day={day}"
        if day in rewritten:
            _write_day(con, landed, params, day, day_dir / "data_0.parquet")
        else:
            for source in landed_of_day[day]:  # named by the records directory, one file per read of new files
                _link_or_copy(source, day_dir / f"{source.parent.parent.name}-{source.name}")
    _forget_days(con, days)
    written = sorted(target.glob("event_day=*/*.parquet"))
    day_events = _day_events_view(written) if written else None
    if day_events:
        con.execute(day_events)
    else:
        _day_events_shape(con)
    # every landed record is kept in a day file or is a copy of one kept: duplicates are what the files lack
    con.execute(
        "INSERT INTO ops.event_day_files SELECT event_day, source_key, landed.records, landed.records - coalesce(kept.events, 0) "
        "FROM day_landed AS landed "
        "LEFT JOIN (SELECT event_day, source_key, count(*) AS events FROM day_events GROUP BY ALL) AS kept "
        "USING (event_day, source_key)"
    )
    _insert_rollups(con, day_events)
    manifest = [
        (plan.day, plan.digest, len(plan.source_keys), _day_file(target.name, plan.day))
        for plan in batch
    ]
    con.execute(
        "INSERT INTO ops.event_days "
        "SELECT m.day::DATE, m.digest, m.files, coalesce(e.events, 0), m.path "
        "FROM (SELECT unnest($days) AS day, unnest($digests) AS digest, unnest($counts) AS files, unnest($paths) AS path) AS m "
        "LEFT JOIN (SELECT event_day, count(*) AS events FROM day_events GROUP BY ALL) AS e "
        "ON e.event_day = m.day::DATE",
        {"days": [m[0] for m in manifest], "digests": [m[1] for m in manifest], "counts": [m[2] for m in manifest],
         "paths": [m[3] for m in manifest]},
    )


def _parquet_files(paths: list[Path]) -> str:
    """``read_parquet`` of ``paths`` written out as literals, for a view (which cannot take bound parameters)."""
    listing = ", ".join(path_literal(path) for path in paths)
    return f"read_parquet([{listing}], hive_partitioning = false)"


def _day_events_view(files: list[Path]) -> str:
    """The statement creating ``day_events`` over ``files``."""
    return f"CREATE OR REPLACE TEMP VIEW day_events AS SELECT * FROM {_parquet_files(files)}"


# The rollups in two groups of about equal cost, each on a connection of its own at once (M: the resources' 2.8 s
# beside 2.9 s for the other three): one statement after the other left a core idle in every statement's
# single-threaded phases (the refresh used 1.5 of 2 cores).
ROLLUPS_ASIDE = ("core.resource_usage_daily",)
ROLLUP_GROUPS = (ROLLUPS_ASIDE, tuple(table for table in ROLLUPS if table not in ROLLUPS_ASIDE))


def _insert_rollups(con: duckdb.DuckDBPyConnection, day_events: str | None) -> None:
    """The batch's rows of every rollup, from ``day_events`` (the statement creating the view of the batch's day
    files; None when the batch wrote none, and ``con`` holds an empty ``day_events`` of its own)."""
    if day_events is None:
        _insert_rollup_group(con, ROLLUPS)
        return
    with con.cursor() as beside, ThreadPoolExecutor(max_workers=1) as thread:
        beside.execute(day_events)  # temporary views belong to their connection
        aside = thread.submit(_insert_rollup_group, beside, ROLLUP_GROUPS[0])
        _insert_rollup_group(con, ROLLUP_GROUPS[1])
        aside.result()


def _insert_rollup_group(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    for table in tables:
        schema, name = table.split(".")
        con.execute(f"INSERT INTO {table} {sql_text(f'{schema}/{name}')}")


def _forget_stale_records(con: duckdb.DuckDBPyConnection, keys: set[str]) -> tuple[set[str], list[str]]:
    """Drop from ``day_landed`` the records of files no longer among the sources (``keys``), which a records
    directory holds while any of its other files stays; return the days that held some, and those files' keys."""
    stale_keys = sorted({row[0] for row in con.execute("SELECT DISTINCT source_key FROM day_landed").fetchall()} - keys)
    if not stale_keys:
        return set(), []
    stale_days = {row[0] for row in con.execute(
        "SELECT DISTINCT event_day::VARCHAR FROM day_landed WHERE list_contains($stale, source_key)", {"stale": stale_keys}
    ).fetchall()}
    con.execute("DELETE FROM day_landed WHERE list_contains($stale, source_key)", {"stale": stale_keys})
    return stale_days, stale_keys


def _landed_records(files: list[str], stale_keys: list[str]) -> tuple[str, dict]:
    """The query of the landed records in ``files``, less those of the files ``stale_keys`` names, and its
    parameters. The batch's keys, thousands of them, had been passed to test every record against: that cost more
    than finding the copies (S: 0.59 against 0.18 s of CPU)."""
    landed = "SELECT * FROM read_parquet($files, hive_partitioning = false)"
    if not stale_keys:
        return landed, {"files": files}
    return f"{landed} WHERE NOT list_contains($stale, source_key)", {"files": files, "stale": stale_keys}


def _write_day(con: duckdb.DuckDBPyConnection, landed: str, params: dict, day: str, target: Path) -> None:
    """One day's kept events (no later copies, only records of the day's files) written to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(
            f"COPY (WITH day_landing AS (SELECT * FROM ({landed}) WHERE event_day = $day::DATE) "
            f"{sql_text('core/access_events_day')}) TO {path_literal(target)} (FORMAT parquet)",
            params | {"day": day},
        )
    finally:
        con.execute("RESET preserve_insertion_order")


def _publish_view(con: duckdb.DuckDBPyConnection, events_dir: Path) -> None:
    """``core.access_events``: every kept event, read from the day files the manifest names.

    The manifest holds paths relative to ``events_dir`` so a warehouse can move; the view, rebuilt every
    run, holds absolute ones. A view cannot take bound parameters: the list is written in as quoted literals.
    """
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = 'core' AND table_name = 'access_events'"
    ).fetchall()
    if kind and kind[0][0] == "BASE TABLE":  # warehouses built before events moved to day files
        con.execute("DROP TABLE core.access_events")
    files = [row[0] for row in con.execute("SELECT events_file FROM ops.event_days ORDER BY event_day").fetchall()]
    # the landed Parquet a day takes as it is carries the landing's reject columns, NULL in every row
    if files:
        con.execute("CREATE OR REPLACE VIEW core.access_events AS SELECT * EXCLUDE (reject_reason, rejected_record) "
                    f"FROM {_parquet_files([events_dir / f for f in files])}")
        con.execute("DROP TABLE IF EXISTS core.access_events_none")
    else:
        con.execute("CREATE OR REPLACE TABLE core.access_events_none AS "
                    "SELECT * EXCLUDE (reject_reason, rejected_record) FROM day_events LIMIT 0")
        con.execute("CREATE OR REPLACE VIEW core.access_events AS SELECT * FROM core.access_events_none")


def remove_unreferenced_event_files(con: duckdb.DuckDBPyConnection, events_dir: Path) -> int:
    """Delete day files no manifest row names (left by rebuilt days or failed runs); return how many."""
    referenced = {
        path for row in con.execute("SELECT events_file FROM ops.event_days").fetchall()
        for path in _day_files(events_dir, row[0])
    }
    removed = 0
    for path in events_dir.rglob("*.parquet"):
        if path not in referenced:
            path.unlink()
            removed += 1
    for directory in sorted((d for d in events_dir.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
        if not any(directory.iterdir()):
            directory.rmdir()
    return removed
