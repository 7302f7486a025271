"""The report's essentials as Markdown, for tickets and chat."""

from __future__ import annotations

import polars as pl

from pipelines.reports.data import ReportData


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    # Markdown tables break on pipes and newlines; angle brackets stay literal text in chat tools
    return str(value).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def md_table(frame: pl.DataFrame, columns: dict[str, str]) -> str:
    if frame.is_empty():
        return "_none_\n"
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in frame.iter_rows(named=True)]
    return "\n".join(lines) + "\n"


def _change(value) -> str:
    return "" if value is None else f" ({'+' if value > 0 else ''}{value} since the last run)"


def render_markdown(data: ReportData) -> str:
    h, q = data.headline, data.quality
    headline = "\n".join(
        f"- **{h.get(key)}** {label}{_change(h.get(f'{key}_change'))}"
        for key, label in (
            ("ai_identities", "AI identities"),
            ("ai_over_privileged", "over-privileged AI identities"),
            ("ai_admin_reachable", "AI identities that can reach admin"),
            ("credential_issues", "credentials overdue, long-lived or expiring"),
            ("high_risk_identities", "identities at high or critical risk"),
        )
    )
    paths = "\n".join(
        f"- **{_cell(r['name'])}**: " + " → ".join(
            [_cell(r["steps"][0]["from"])] + [f"({_cell(s['method'])}) {_cell(s['to'])}" for s in r["steps"]]
        )
        for r in data.admin_paths.iter_rows(named=True)
    ) or "_none_"
    return (
        f"# Overreach report, {data.as_of.isoformat()}\n\n"
        f"Observation window: {data.window_days} days ending {data.as_of.isoformat()}.\n\n"
        f"## Headline\n\n{headline}\n\n"
        "## Riskiest AI identities\n\n"
        + md_table(data.riskiest.head(10), {"name": "identity", "risk_score": "risk", "risk_tier": "tier",
                                            "owner": "owner", "top_reasons": "top reasons"})
        + f"\n## Paths to admin\n\n{paths}\n\n## What to do first\n\n"
        + md_table(data.recommendations.head(20), {"priority": "#", "name": "identity", "kind": "kind",
                                                   "action": "action", "risk_before": "risk before",
                                                   "risk_after": "risk after", "frameworks": "references"})
        + "\n## Data quality\n\n"
        f"{q['files_read']} files read, {q['files_skipped']} skipped; {q['records_read']} records read, "
        f"{q['records_quarantined']} quarantined; {q['unmapped_events']} events mapped to no IAM action; "
        f"{q['identities_observed_less_than_window']} identities observed for less than the window.\n"
    )
