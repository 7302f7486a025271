"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

Every value from the inputs (names, descriptions, tags, session names, reasons) goes through ``esc``:
the content-security policy forbids scripts, and escaping keeps markup from ever becoming markup.
"""

from __future__ import annotations

import json
from html import escape

import polars as pl

from pipelines.reports.charts import granted_vs_used, histogram
from pipelines.reports.data import ReportData

CSS = """
:root{--ink:#1d2330;--muted:#5b6270;--line:#d8dce4;--bg:#f4f5f8;--crit:#a4161a;--high:#d9480f;--med:#b08900;--low:#2f8f5b}
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1150px;color:var(--ink);padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.02rem;margin:1.4rem 0 .4rem}.sub{color:var(--muted);margin-top:0}
table{border-collapse:collapse;width:100%;font-size:13px;margin:.4rem 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{background:var(--bg)}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.figures{display:flex;flex-wrap:wrap;gap:12px}.figure{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:150px}
.figure b{display:block;font-size:1.6rem}.delta{color:var(--muted);font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:18px}figure{margin:0}figcaption{font-size:12px;color:var(--muted)}
svg text{font-size:11px;fill:var(--ink)}svg text.axis{fill:var(--muted)}
.tier{display:inline-block;padding:0 6px;border-radius:8px;color:#fff;font-size:12px}
.tier-critical{background:var(--crit)}.tier-high{background:var(--high)}.tier-medium{background:var(--med)}.tier-low{background:var(--low)}
.path{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin:.3rem 0}.node{border:1px solid var(--line);border-radius:4px;padding:2px 6px;background:#fff}
.node.admin{background:var(--crit);color:#fff;border-color:var(--crit)}.hop{color:var(--muted);font-size:12px}.hop.unused{color:var(--high);font-weight:600}
details{margin:.4rem 0}pre{background:var(--bg);padding:8px;overflow:auto;font-size:12px;max-height:360px}
.identity{border-top:1px solid var(--line);margin-top:1rem}footer{margin-top:2.5rem;color:var(--muted);font-size:13px}
@media print{body{margin:0;max-width:none}details{display:block}details>*{display:block}.charts{break-inside:avoid}}
"""


def esc(value) -> str:
    """Any value as HTML text: None is empty, lists are comma-joined, markup is escaped."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value), quote=True)
    if isinstance(value, float):
        return escape(f"{value:g}", quote=True)
    return escape(str(value), quote=True)


def table(frame: pl.DataFrame, columns: dict[str, str], *, table_id: str = "", numeric: tuple[str, ...] = ()) -> str:
    ident = f' id="{esc(table_id)}"' if table_id else ""
    if frame.is_empty():
        return f'<p{ident} class="sub">None.</p>'
    head = "".join(f"<th>{esc(label)}</th>" for label in columns.values())
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{esc(row[c])}</td>' if c in numeric else f"<td>{esc(row[c])}</td>" for c in columns
        ) + "</tr>"
        for row in frame.iter_rows(named=True)
    )
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def tier(name: str | None) -> str:
    return f'<span class="tier tier-{esc(name)}">{esc(name)}</span>' if name else ""


def _delta(value) -> str:
    if value is None:
        return '<span class="delta">first run</span>'
    sign = "+" if value > 0 else ""
    return f'<span class="delta">{sign}{esc(value)} since the last run</span>'


def headline_section(data: ReportData) -> str:
    h = data.headline
    figures = [
        ("ai_identities", "AI identities"),
        ("ai_over_privileged", "over-privileged AI identities"),
        ("ai_admin_reachable", "AI identities that can reach admin"),
        ("credential_issues", "credentials overdue, long-lived or expiring"),
        ("high_risk_identities", "identities at high or critical risk"),
    ]
    share = (h.get("ai_over_privileged") or 0) / h["ai_identities"] if h.get("ai_identities") else 0.0
    cards = "".join(
        f'<div class="figure"><b>{esc(h.get(key))}</b>{esc(label)}<br>{_delta(h.get(f"{key}_change"))}</div>'
        for key, label in figures
    )
    return (
        f'<section id="headline"><h2>Headline</h2><div class="figures">{cards}</div>'
        f'<p class="sub">{share:.0%} of AI identities have 30% or more of their granted privilege unused. '
        f"{esc(h.get('identities'))} identities, {esc(h.get('events'))} events, "
        f"{esc(h.get('recommendations'))} recommendations.</p></section>"
    )


UNUSED_BINS = [(i / 10, (i + 1) / 10, f"{i * 10}–{(i + 1) * 10}%") for i in range(10)]
RISK_BINS = [(i * 10.0, (i + 1) * 10.0, f"{i * 10}–{(i + 1) * 10}") for i in range(10)]


def charts_section(data: ReportData) -> str:
    unused = [v for v in data.distributions["unused_ratio"].to_list() if v is not None]
    risk = [v for v in data.distributions["risk_score"].to_list() if v is not None]
    per_identity = []
    for (name,), rows in data.service_usage.group_by(["name"], maintain_order=True):
        bars = [(r["service"], r["granted_actions"], r["used_actions"]) for r in rows.iter_rows(named=True)]
        per_identity.append(granted_vs_used(bars, title=f"{name}: used / granted actions by service",
                                            chart_id=f"services-{name}"))
    return (
        '<section id="charts"><h2>Distributions</h2><div class="charts">'
        + histogram(unused, bins=UNUSED_BINS, title="AI identities by share of granted privilege unused",
                    chart_id="unused-distribution")
        + histogram(risk, bins=RISK_BINS, title="AI identities by risk score", chart_id="risk-distribution")
        + '</div><h3>Granted vs used, riskiest AI identities</h3><div class="charts">'
        + "".join(per_identity) + "</div></section>"
    )


def riskiest_section(data: ReportData) -> str:
    rows = []
    for r in data.riskiest.head(15).iter_rows(named=True):
        reasons = "".join(f"<li>{esc(reason)}</li>" for reason in r["top_reasons"] or [])
        rows.append(
            f"<tr><td>{esc(r['name'])}<br><span class='sub'>{esc(r['identity_id'])}</span></td>"
            f"<td class='num'>{esc(r['risk_score'])} {tier(r['risk_tier'])}</td><td>{esc(r['owner']) or '<em>none</em>'}</td>"
            f"<td class='num'>{esc(r['blast_radius_score'])}</td><td>{'yes' if r['can_reach_admin'] else 'no'}</td>"
            f"<td><ul>{reasons}</ul></td></tr>"
        )
    return (
        '<section id="riskiest"><h2>Riskiest AI identities</h2><table id="riskiest-table"><thead><tr><th>identity</th>'
        "<th>risk</th><th>owner</th><th>blast radius</th><th>reaches admin</th><th>top reasons</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def node_name(node_id: str, names: dict[str, str]) -> str:
    """How a path names a node: an identity by its name, ``admin:<a>`` and ``principals:<kind>:<a>`` in words."""
    if node_id.startswith("admin:"):
        return f"full control of {node_id.split(':', 1)[1]}"
    if node_id.startswith("principals:"):
        _, kind, account = node_id.split(":", 2)
        return f"any {kind} of {account}"
    return names.get(node_id, node_id)


def path_html(steps: list[dict], names: dict[str, str]) -> str:
    """An escalation path drawn as nodes and labelled hops: identity → role → admin."""
    if not steps:
        return ""
    parts = [f'<span class="node">{esc(node_name(steps[0]["from"], names))}</span>']
    for step in steps:
        unused = step.get("is_used") is False
        label = f'{step["method"]}{" (never used)" if unused else ""}'
        target = step["to"]
        is_admin = target.startswith("admin:")
        shown = node_name(target, names)
        parts.append(f'<span class="hop{" unused" if unused else ""}" title="{esc(step["reason"])}">→ {esc(label)} →</span>')
        parts.append(f'<span class="node{" admin" if is_admin else ""}">{esc(shown)}</span>')
    return f'<div class="path">{"".join(parts)}</div>'


def paths_section(data: ReportData, names: dict[str, str]) -> str:
    blocks = [
        f"<h3>{esc(r['name'])} — {esc(r['hops'])} step(s)</h3>{path_html(r['steps'], names)}"
        for r in data.admin_paths.iter_rows(named=True)
    ]
    body = "".join(blocks) or '<p class="sub">No identity can reach admin.</p>'
    return f'<section id="escalation-paths"><h2>Paths to admin</h2>{body}</section>'


# Recommendations listed on the page, by priority: at 10k identities all 19,835 of them, each with its evidence,
# were 15 MB of the page. Every one is in recommendations.json and csv/recommendations.csv.
RECOMMENDATIONS_ON_PAGE = 500


def recommendations_section(data: ReportData, on_page: int = RECOMMENDATIONS_ON_PAGE) -> str:
    rows = []
    for r in data.recommendations.head(on_page).iter_rows(named=True):
        policy = f"<br><span class='sub'>{esc(r['policy_file'])}</span>" if r["policy_file"] else ""
        rows.append(
            f"<tr><td class='num'>{esc(r['priority'])}</td><td>{esc(r['name'])}</td><td>{esc(r['kind'])}</td>"
            f"<td>{esc(r['action'])}{policy}<details><summary>evidence</summary>{esc(r['evidence'])}</details></td>"
            f"<td class='num'>{esc(r['risk_before'])} → {esc(r['risk_after'])}</td>"
            f"<td class='num'>{esc(r['blast_radius_before'])} → {esc(r['blast_radius_after'])}</td>"
            f"<td>{esc(r['frameworks'])}</td></tr>"
        )
    return (
        '<section id="recommendations"><h2>What to do first</h2><table id="recommendations-table"><thead><tr>'
        "<th>#</th><th>identity</th><th>kind</th><th>action</th><th>risk</th><th>blast radius</th><th>references</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{_more_recommendations(data, on_page)}</section>"
    )


def _more_recommendations(data: ReportData, on_page: int) -> str:
    more = data.recommendations.height - on_page
    if more <= 0:
        return ""
    return (f'<p class="sub" id="more-recommendations">{more:,} more, lower in priority, in '
            "<code>recommendations.json</code> and <code>csv/recommendations.csv</code>.</p>")


def diff_summary(diff: dict) -> str:
    """A proposal's diff in words: what it keeps and narrows in full, what it removes by service. Services removed
    whole are named, not itemised: an administrator's diff itemised was 100 kB of JSON per identity."""
    removals = diff.get("removed_by_service") or []
    whole = [r["service"] for r in removals if r["is_whole_service"]]
    partly = [r for r in removals if not r["is_whole_service"]]
    items = [f"<li>keeps: {esc(', '.join(diff.get('kept_actions') or [])) or '<em>nothing</em>'}</li>"]
    items += [
        f"<li>narrows {esc(c['action'])}: {esc(', '.join(c['granted_resources']))} → "
        f"{esc(', '.join(c['proposed_resources']))}</li>"
        for c in diff.get("narrowed_scopes") or []
    ]
    items += [
        f"<li>removes from {esc(r['service'])}: "
        + esc(", ".join(f"{count} {level}" for level, count in r["removed_by_access_level"].items())) + "</li>"
        for r in partly
    ]
    if whole:
        items.append(f"<li>removes every action of {len(whole):,} services: {esc(', '.join(whole))}</li>")
    return f"<p>Removes {esc(diff.get('removed_actions'))} granted actions.</p><ul>{''.join(items)}</ul>"


def identity_section(row: dict, services: pl.DataFrame, credentials: pl.DataFrame, names: dict[str, str]) -> str:
    path = row["path_to_admin"] or []
    path_text = " → ".join(node_name(n, names) for n in path) if path else "cannot reach admin"
    policy = ""
    if row["proposed_policy"]:
        diff = json.loads(row["policy_diff"]) if row["policy_diff"] else {}
        notes = "".join(f"<li>{esc(n)}</li>" for n in row["policy_notes"] or [])
        policy = (
            f"<details><summary>proposed policy: {esc(diff.get('proposed_actions'))} actions instead of "
            f"{esc(diff.get('granted_actions'))}</summary><pre>{esc(row['proposed_policy'])}</pre>"
            f"<ul>{notes}</ul>{diff_summary(diff)}</details>"
        )
    return (
        f'<article class="identity" id="identity-{esc(row["identity_id"])}"><h3>{esc(row["name"])} {tier(row["risk_tier"])}</h3>'
        f'<p class="sub">{esc(row["identity_id"])} · {esc(row["kind"])} · owner {esc(row["owner"]) or "<em>none</em>"}'
        f" · team {esc(row['team'])} · environment {esc(row['environment'])} · {esc(row['ai_evidence'])}</p>"
        f"<p>{esc(row['description'])}</p>"
        f"<p>Risk {esc(row['risk_score'])}; blast radius {esc(row['blast_radius_score'])}; path to admin: {esc(path_text)}. "
        f"Used {esc(row['used_actions'])} of {esc(row['granted_actions'])} granted actions, observed "
        f"{esc(row['observed_days'])} of {esc(row['window_days'])} days (confidence {esc(row['unused_confidence'])}).</p>"
        + table(services, {"service": "service", "granted_actions": "granted", "used_actions": "used",
                           "used_not_granted_actions": "used, not granted", "last_used": "last used"},
                numeric=("granted_actions", "used_actions", "used_not_granted_actions"))
        + table(credentials, {"credential_id": "credential", "credential_type": "type", "status": "status",
                              "created": "created", "rotated": "rotated", "expires": "expires", "last_used": "last used"})
        + policy + "</article>"
    )


def _rows_by_identity(frame: pl.DataFrame):
    """One identity's rows: the frame split once (a filter per identity scans every row 10k times at 10k)."""
    parts = {key[0]: part for key, part in frame.partition_by("identity_id", as_dict=True).items()}
    empty = frame.clear()
    return lambda identity_id: parts.get(identity_id, empty)


# Identities with a section of their own, riskiest first; the others are a row each of one table. A section for
# every one of 10k identities made a page of 165 MB (6 s and 0.9 GiB to render) that a browser barely opens;
# every proposed policy is in policies/ and every recommendation in recommendations.json all the same.
SECTIONS_IN_FULL = 100
_MORE_COLUMNS = {"name": "identity", "identity_id": "id", "risk_score": "risk", "risk_tier": "tier",
                 "blast_radius_score": "blast radius", "used_actions": "used", "granted_actions": "granted",
                 "policy_file": "proposed policy"}


def identities_section(data: ReportData, names: dict[str, str], in_full: int = SECTIONS_IN_FULL) -> str:
    services_of, credentials_of = _rows_by_identity(data.services), _rows_by_identity(data.credentials)
    blocks = [
        identity_section(row, services_of(row["identity_id"]), credentials_of(row["identity_id"]), names)
        for row in data.sections.head(in_full).iter_rows(named=True)
    ]
    rest = data.sections.slice(in_full)
    if not rest.is_empty():
        blocks.append(
            f'<h3>{rest.height:,} more identities</h3><p class="sub">Lower in risk than those above. Their proposed '
            "policies are in <code>policies/</code>, their recommendations in <code>recommendations.json</code>.</p>"
            + table(rest, _MORE_COLUMNS, table_id="more-identities",
                    numeric=("risk_score", "blast_radius_score", "used_actions", "granted_actions"))
        )
    return f'<section id="identities"><h2>Identity by identity</h2>{"".join(blocks)}</section>'


def trend_section(data: ReportData) -> str:
    if data.trend.is_empty():
        return '<section id="trend"><h2>Since the last run</h2><p class="sub">This is the first snapshot.</p></section>'
    columns = {"name": "identity", "risk_before": "risk before", "risk_now": "risk now", "risk_change": "change",
               "tier_before": "tier before", "tier_now": "tier now"}
    parts = []
    for kind, title in (("new risk", "New risks"), ("resolved", "Resolved"), ("new identity", "New identities"),
                        ("gone", "Gone")):
        rows = data.trend.filter(pl.col("change_kind") == kind)
        if rows.height:
            parts.append(f"<h3>{title}</h3>" + table(rows, columns, numeric=("risk_before", "risk_now", "risk_change")))
    moves = data.trend.filter(pl.col("risk_change") != 0).head(10)
    parts.append("<h3>Biggest moves</h3>" + table(moves, columns, numeric=("risk_before", "risk_now", "risk_change")))
    return f'<section id="trend"><h2>Since the last run</h2>{"".join(parts)}</section>'


def quality_footer(data: ReportData) -> str:
    q = data.quality
    return (
        f'<footer id="data-quality"><h2>Data quality</h2><p>Window: {esc(q["window_days"])} days, '
        f"{esc(q['window_start'])} to {esc(q['window_end'])}; mean coverage {esc(q['mean_window_coverage'])}, "
        f"{esc(q['identities_observed_less_than_window'])} identities observed for less than the window. "
        f"{esc(q['files_read'])} files read, {esc(q['files_skipped'])} skipped; {esc(q['records_read'])} records read, "
        f"{esc(q['records_quarantined'])} quarantined, {esc(q['duplicate_deliveries'])} duplicate deliveries. "
        f"{esc(q['unmapped_events'])} events mapped to no IAM action, {esc(q['events_needing_no_permission'])} needed "
        f"none. {esc(q['replay_denials'])} observed calls a proposed policy would deny.</p>"
        + table(data.quarantine, {"source_file": "file", "reason": "reason", "records": "records"},
                table_id="quarantine-table", numeric=("records",))
        + "</footer>"
    )


def render_html(data: ReportData) -> str:
    names = dict(data.sections.select("identity_id", "name").iter_rows())
    names |= dict(data.admin_paths.select("identity_id", "name").iter_rows())
    as_of = data.as_of.isoformat()
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">"
        f"<title>Overreach report {as_of}</title><style>{CSS}</style></head><body>"
        f"<h1>Overreach report, {as_of}</h1><p class='sub'>What AI agents and other non-human identities can do, "
        f"what they used in the {esc(data.window_days)} days to {as_of}, and what to take away.</p>"
        + headline_section(data) + charts_section(data) + riskiest_section(data) + paths_section(data, names)
        + recommendations_section(data) + trend_section(data) + identities_section(data, names) + quality_footer(data)
        + "</body></html>\n"
    )
