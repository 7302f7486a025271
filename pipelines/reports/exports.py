"""Machine-readable outputs: recommendations.json (versioned schema, docs/recommendations.md) and the marts as CSV
(Parquet past a spreadsheet's rows)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import duckdb

from pipelines.reports.data import ReportData
from pipelines.sql import path_literal

RECOMMENDATIONS_SCHEMA_NAME = "overreach.recommendations"
RECOMMENDATIONS_SCHEMA_VERSION = "1.0"


def recommendations_document(data: ReportData) -> dict:
    return {
        "schema": RECOMMENDATIONS_SCHEMA_NAME,
        "schema_version": RECOMMENDATIONS_SCHEMA_VERSION,
        "as_of": data.as_of.isoformat(),
        "window_days": data.window_days,
        "recommendations": [
            {
                "priority": r["priority"],
                "identity_id": r["identity_id"],
                "identity_name": r["name"],
                "is_ai": r["is_ai"],
                "kind": r["kind"],
                "action": r["action"],
                "evidence": r["evidence"],
                "risk_before": r["risk_before"],
                "risk_after": r["risk_after"],
                "risk_reduction": r["risk_reduction"],
                "blast_radius_before": r["blast_radius_before"],
                "blast_radius_after": r["blast_radius_after"],
                "frameworks": list(r["frameworks"] or []),
                "policy_file": r["policy_file"],
            }
            for r in data.recommendations.iter_rows(named=True)
        ],
    }


def write_recommendations_json(data: ReportData, path: Path) -> Path:
    path.write_text(json.dumps(recommendations_document(data), indent=2, sort_keys=False) + "\n")
    return path


# The rows a spreadsheet opens (Excel's 1,048,576 less the header). A mart past it goes out as Parquet: at 50,000
# identities the 74M rows of identity_action_usage made a 14 GB CSV every night, 303 MiB as Parquet in half the time.
SPREADSHEET_ROWS = 1_048_575


def write_mart_exports(con: duckdb.DuckDBPyConnection, directory: Path) -> list[Path]:
    """Every marts table as ``csv/<mart>.csv`` (lists and structs as their text form, rows in the table's order), or
    as ``parquet/<mart>.parquet`` when it has more rows than a spreadsheet opens; the paths written."""
    tables = [row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1"
    ).fetchall()]
    return [_export_mart(con, table, directory) for table in tables]


def _export_mart(con: duckdb.DuckDBPyConnection, table: str, directory: Path) -> Path:
    # table names come from the catalog of our own warehouse
    rows = con.execute(f'SELECT count(*) FROM marts."{table}"').fetchall()[0][0]
    kind, options = ("csv", "HEADER, DELIMITER ','") if rows <= SPREADSHEET_ROWS else ("parquet", "FORMAT parquet")
    target = directory / kind / f"{table}.{kind}"
    target.parent.mkdir(parents=True, exist_ok=True)
    statement = f"COPY marts.\"{table}\" TO {path_literal(target)} ({options})"
    with _one_thread(con) if kind == "csv" else nullcontext():
        con.execute(statement)
    return target


@contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB on one thread meanwhile. Keeping the rows' order on two, its CSV writer gathers a batch of rows' text
    in one buffer: the escalation paths of 50,000 identities (2 KB a row) asked for 256 MiB past the run's 1 GB and
    failed the night. On one it streams, 183 MiB at the most, and the largest mart (74M rows) took as long."""
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}")
