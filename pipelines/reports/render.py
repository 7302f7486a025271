"""Write a run's reports under ``<warehouse>/reports/<as-of>/``: report.html, report.md, recommendations.json and
the marts as csv/<mart>.csv or parquet/<mart>.parquet (the proposed policies are written by their own asset)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from pipelines.reports.data import read_report_data
from pipelines.reports.exports import write_mart_exports, write_recommendations_json
from pipelines.reports.html_page import render_html
from pipelines.reports.markdown import render_markdown


def write_reports(con: duckdb.DuckDBPyConnection, directory: Path, *, as_of: date, window_days: int) -> list[Path]:
    """Render every report file from the warehouse behind ``con``; return the paths written."""
    data = read_report_data(con, as_of=as_of, window_days=window_days)
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "report.html"
    page.write_text(render_html(data))
    markdown = directory / "report.md"
    markdown.write_text(render_markdown(data))
    recommendations = write_recommendations_json(data, directory / "recommendations.json")
    policies = write_policies(con, directory)
    return [page, markdown, recommendations, *policies, *write_mart_exports(con, directory)]


def write_policies(con: duckdb.DuckDBPyConnection, directory: Path) -> list[Path]:
    """``policies/<name>.json``: each proposed least-privilege policy, ready to attach."""
    written = []
    rows = con.execute(
        "SELECT policy_file, document FROM marts.proposed_policies WHERE policy_file IS NOT NULL ORDER BY policy_file"
    ).fetchall()
    for policy_file, document in rows:
        target = directory / policy_file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(document)
        written.append(target)
    return written
