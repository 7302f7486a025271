"""Machine-readable outputs: recommendations.json (versioned schema, docs/recommendations.md) and CSVs of the marts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.reports.data import ReportData

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


def write_mart_csvs(con: duckdb.DuckDBPyConnection, directory: Path) -> list[Path]:
    """One CSV per marts table, written by DuckDB (lists and structs as their text form), rows in the table's
    order."""
    directory.mkdir(parents=True, exist_ok=True)
    tables = [row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1"
    ).fetchall()]
    written = []
    with _one_thread(con):
        for table in tables:
            target = directory / f"{table}.csv"
            # table names come from the catalog of our own warehouse; the path is quoted
            con.execute(f"COPY marts.\"{table}\" TO '{str(target).replace(chr(39), chr(39) * 2)}' (HEADER, DELIMITER ',')")
            written.append(target)
    return written


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
