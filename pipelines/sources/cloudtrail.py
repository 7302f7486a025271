"""Land CloudTrail records as Parquet, parsed by DuckDB's JSON reader with explicit columns.

Native log files (``{"Records": [...]}``, gzipped or not) are unwrapped to their
record array before DuckDB sees them: DuckDB reads one huge wrapper object an
order of magnitude slower than the same records as an array. JSON Lines exports
(CloudTrail Lake, Athena, Logstash) are read as lines. Python parses records
only for a file DuckDB rejects, to find and quarantine the bad records.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.sources.detect import CLOUDTRAIL_JSONL, CLOUDTRAIL_RECORDS
from pipelines.sources.files import SourceFile, UnreadableFile, read_content
from pipelines.sources.ledger import FileOutcome, Rejected, excerpt
from pipelines.sql import run_sql, fetch_row, scalar

_WRAPPER_START = re.compile(rb'^\s*\{\s*"Records"\s*:\s*')
ARRAY, LINES = "array", "newline_delimited"


@dataclass(frozen=True)
class ReadPlan:
    """How DuckDB will read one source file: which path, as which JSON format, and how to name positions."""

    source: SourceFile
    read_path: Path
    json_format: str
    position_prefix: str


def land_cloudtrail(
    con: duckdb.DuckDBPyConnection, sources: list[tuple[SourceFile, str]], landing_dir: Path, scratch_dir: Path
) -> list[FileOutcome]:
    """Land every record of the given files under ``landing_dir`` (one Parquet per source file).

    Every record is either landed or quarantined; the outcomes say which, file by file.
    """
    shutil.rmtree(landing_dir, ignore_errors=True)
    landing_dir.mkdir(parents=True)
    scratch_dir.mkdir(parents=True, exist_ok=True)
    outcomes = {s.path: FileOutcome(source=s, format=fmt) for s, fmt in sources}
    plans: list[ReadPlan] = []
    for source, fmt in sources:
        try:
            plans.append(_plan(source, fmt, scratch_dir))
        except UnreadableFile as error:
            outcomes[source.path].rejected.append(Rejected(None, str(error)))
    for json_format in (ARRAY, LINES):
        batch = [p for p in plans if p.json_format == json_format]
        if batch:
            _read_batch(con, batch, outcomes, scratch_dir)
    _write_landing(con, landing_dir, scratch_dir)
    shutil.rmtree(scratch_dir, ignore_errors=True)
    return list(outcomes.values())


def _plan(source: SourceFile, fmt: str, scratch_dir: Path) -> ReadPlan:
    if fmt == CLOUDTRAIL_JSONL:
        if not source.is_gzip:
            return ReadPlan(source, source.path, LINES, "line ")
        target = scratch_dir / f"{source.key}.jsonl"
        target.write_bytes(read_content(source))
        return ReadPlan(source, target, LINES, "line ")
    if fmt != CLOUDTRAIL_RECORDS:
        raise ValueError(f"not a CloudTrail format: {fmt}")
    target = scratch_dir / f"{source.key}.json"
    target.write_bytes(records_array(read_content(source)))
    return ReadPlan(source, target, ARRAY, "record ")


def records_array(content: bytes) -> bytes:
    """The ``[...]`` of a ``{"Records": [...]}`` document, without parsing it.

    A document of any other shape is returned whole, so that DuckDB rejects it and
    the careful path explains why.
    """
    start = _WRAPPER_START.match(content)
    body = content.rstrip()
    if start is None or not body.endswith(b"}"):
        return content
    return body[start.end() : -1]


def _read_batch(con, batch: list[ReadPlan], outcomes: dict, scratch_dir: Path) -> None:
    try:
        _read_into_landing(con, batch, outcomes)
        return
    except duckdb.Error:
        if len(batch) == 1:
            _read_carefully(con, batch[0], outcomes, scratch_dir)
            return
    half = len(batch) // 2
    _read_batch(con, batch[:half], outcomes, scratch_dir)
    _read_batch(con, batch[half:], outcomes, scratch_dir)


def _read_into_landing(con, batch: list[ReadPlan], outcomes: dict) -> None:
    files = pl.DataFrame(
        {
            "read_path": [str(p.read_path) for p in batch],
            "source_file": [str(p.source.path) for p in batch],
            "source_key": [p.source.key for p in batch],
            "position_prefix": [p.position_prefix for p in batch],
        }
    )
    con.register("cloudtrail_batch_files", files)
    try:
        run_sql(con, "landing/cloudtrail_read", files=[str(p.read_path) for p in batch], json_format=batch[0].json_format)
        run_sql(con, "landing/cloudtrail_events")
        con.execute(
            "CREATE TEMP TABLE IF NOT EXISTS cloudtrail_landed AS SELECT * FROM (" + _landing_query() + ") LIMIT 0"
        )
        con.execute("INSERT INTO cloudtrail_landed " + _landing_query())
        _count_outcomes(con, outcomes)
    finally:
        con.unregister("cloudtrail_batch_files")


def _landing_query() -> str:
    from pipelines.sql import sql_text

    return sql_text("landing/cloudtrail_landing")


def _count_outcomes(con, outcomes: dict) -> None:
    loaded = con.execute(
        "SELECT source_file, count(*) FROM cloudtrail_checked WHERE reject_reason IS NULL GROUP BY ALL"
    ).fetchall()
    for source_file, count in loaded:
        outcomes[Path(source_file)].records_loaded += count
    rejected = con.execute(
        """
        SELECT source_file, record_position, reject_reason,
               to_json({eventID: eventID, eventTime: eventTime, eventSource: eventSource, eventName: eventName})::VARCHAR
        FROM cloudtrail_checked WHERE reject_reason IS NOT NULL ORDER BY source_file, rowid
        """
    ).fetchall()
    for source_file, position, reason, record in rejected:
        outcomes[Path(source_file)].rejected.append(Rejected(position, reason, excerpt(record)))


def _read_carefully(con, plan: ReadPlan, outcomes: dict, scratch_dir: Path) -> None:
    """Parse a file DuckDB rejected record by record; quarantine what is broken, land the rest."""
    outcome = outcomes[plan.source.path]
    text = plan.read_path.read_bytes()
    good: list[bytes] = []
    if plan.json_format == LINES:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                outcome.rejected.append(Rejected(f"line {number}", f"malformed JSON: {error}", excerpt(line)))
                continue
            good.append(_positioned(record, f"line {number}", outcome))
    else:
        try:
            records = json.loads(text)
        except ValueError as error:
            outcome.rejected.append(Rejected(None, f"malformed JSON, file not loaded: {error}", excerpt(text)))
            return
        if not isinstance(records, list):
            outcome.rejected.append(Rejected(None, "no Records array in the file", excerpt(text)))
            return
        good = [_positioned(r, f"record {i}", outcome) for i, r in enumerate(records, start=1)]
    good = [g for g in good if g]
    if not good:
        return
    cleaned = scratch_dir / f"{plan.source.key}.cleaned.jsonl"
    cleaned.write_bytes(b"\n".join(good))
    _read_into_landing(con, [ReadPlan(plan.source, cleaned, LINES, plan.position_prefix)], outcomes)


def _positioned(record, position: str, outcome: FileOutcome) -> bytes:
    if not isinstance(record, dict):
        outcome.rejected.append(Rejected(position, "record is not a JSON object", excerpt(json.dumps(record))))
        return b""
    return json.dumps(record | {"_overreach_position": position}).encode()


def _write_landing(con, landing_dir: Path, scratch_dir: Path) -> None:
    """One Parquet per source file (``source_key=<hash>/``); an empty file when nothing landed,
    so readers always find the landing schema."""
    exists = scalar(con, 
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'cloudtrail_landed' AND temporary"
    )
    if not exists:
        empty = scratch_dir / "empty.jsonl"
        empty.write_bytes(b"")
        placeholder = SourceFile(empty, 0, "0" * 64, False)
        _read_into_landing(con, [ReadPlan(placeholder, empty, LINES, "line ")], {})
    if scalar(con, "SELECT count(*) FROM cloudtrail_landed"):
        target, options = _quoted(landing_dir), "FORMAT parquet, PARTITION_BY (source_key), OVERWRITE_OR_IGNORE"
    else:
        target, options = _quoted(landing_dir / "empty.parquet"), "FORMAT parquet"
    con.execute(f"COPY cloudtrail_landed TO '{target}' ({options})")
    con.execute("DROP TABLE cloudtrail_landed")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
