"""Render the run's report as Markdown and as one self-contained HTML page.

Every value that comes from the inputs is escaped: names, tags, descriptions and
session names are attacker-controllable text.
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines.sql import query_frame

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d8dce4}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceef2}
th{background:#f4f5f8}.figures{display:flex;flex-wrap:wrap;gap:12px}
.figure{border:1px solid #d8dce4;border-radius:6px;padding:8px 14px;min-width:140px}
.figure b{display:block;font-size:1.5rem}footer{margin-top:2rem;color:#5b6270;font-size:13px}
@media print{body{margin:0}}
"""

HEADLINE_LABELS = {
    "identities": "identities",
    "ai_identities": "AI identities",
    "ai_identities_without_owner": "AI identities without an owner",
    "events": "events",
    "credentials_expired_or_expiring": "credentials expired or expiring in 30 days",
    "records_quarantined": "records quarantined",
}


def write_reports(con: duckdb.DuckDBPyConnection, directory: Path, *, as_of: date, window_days: int) -> list[Path]:
    """Write ``report.md`` and ``report.html`` into ``directory``; return the paths written."""
    params = {"as_of": as_of, "window_days": window_days}
    headline = query_frame(con, "reports/headline", **params).row(0, named=True)
    ai = query_frame(con, "reports/ai_identities", **params)
    quarantine = query_frame(con, "reports/quarantine_by_reason")
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / "report.md"
    markdown.write_text(render_markdown(headline, ai, quarantine, as_of=as_of, window_days=window_days))
    page = directory / "report.html"
    page.write_text(render_html(headline, ai, quarantine, as_of=as_of, window_days=window_days))
    return [markdown, page]


def _cell(value) -> str:
    return "" if value is None else str(value)


def _markdown_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "_none_\n"
    escape = lambda v: _cell(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(escape(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines) + "\n"


def render_markdown(headline: dict, ai: pl.DataFrame, quarantine: pl.DataFrame, *, as_of: date, window_days: int) -> str:
    figures = "\n".join(f"- **{headline[k]}** {label}" for k, label in HEADLINE_LABELS.items())
    return (
        f"# Overreach report, {as_of.isoformat()}\n\n"
        f"Observation window: {window_days} days ending {as_of.isoformat()}.\n\n"
        f"## Headline\n\n{figures}\n\n"
        f"## AI identities\n\n{_markdown_table(ai)}\n"
        f"## Data quality\n\n"
        f"{headline['files_read']} files read, {headline['files_skipped']} skipped; "
        f"{headline['records_read']} records read, {headline['records_quarantined']} quarantined.\n\n"
        f"{_markdown_table(quarantine)}"
    )


def _html_table(frame: pl.DataFrame, table_id: str) -> str:
    if frame.is_empty():
        return f'<p id="{table_id}">None.</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in frame.iter_rows()
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(headline: dict, ai: pl.DataFrame, quarantine: pl.DataFrame, *, as_of: date, window_days: int) -> str:
    figures = "".join(
        f'<div class="figure"><b>{html.escape(str(headline[k]))}</b>{html.escape(label)}</div>'
        for k, label in HEADLINE_LABELS.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Overreach report {as_of.isoformat()}</title><style>{CSS}</style></head>
<body>
<h1>Overreach report, {as_of.isoformat()}</h1>
<p>Observation window: {window_days} days ending {as_of.isoformat()}.</p>
<section id="headline"><h2>Headline</h2><div class="figures">{figures}</div></section>
<section id="ai-identities"><h2>AI identities</h2>{_html_table(ai, "ai-identities-table")}</section>
<footer id="data-quality"><h2>Data quality</h2>
<p>{headline['files_read']} files read, {headline['files_skipped']} skipped;
{headline['records_read']} records read, {headline['records_quarantined']} quarantined.</p>
{_html_table(quarantine, "quarantine-table")}</footer>
</body></html>
"""
