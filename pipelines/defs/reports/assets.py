"""Reports for the security lead, and the publication of the run's warehouse."""


import dagster as dg

from pipelines.assets_support import timed
from pipelines.reports.render import write_reports
from pipelines.resources import RunSettings, Warehouse
from pipelines.sources.events import remove_unreferenced_event_files

REPORT_INPUTS = [
    ["core", "identities"],
    ["core", "credentials"],
    ["core", "access_events"],
    ["core", "policy_attachments"],
    ["ops", "load_log"],
    ["ops", "quarantine"],
    ["marts", "identity_privilege"],
    ["marts", "identity_service_usage"],
    ["marts", "unmapped_events"],
    ["marts", "grant_scoping"],
    ["core", "policy_statements"],
    ["core", "resources"],
    ["marts", "identity_blast_radius"],
    ["marts", "escalation_paths"],
    ["marts", "permission_edges"],
    ["marts", "graph_findings"],
    ["marts", "identity_risk"],
    ["marts", "risk_factors"],
    ["marts", "proposed_policies"],
    ["marts", "policy_replay_denials"],
    ["marts", "recommendations"],
    ["marts", "run_history"],
]


@dg.asset(key=["reports", "daily_report"], deps=REPORT_INPUTS, group_name="reports", kinds={"html", "markdown"})
def daily_report(context: dg.AssetExecutionContext, settings: RunSettings, warehouse: Warehouse) -> dg.MaterializeResult:
    """`reports/<as-of>/report.md` and `report.html`: what the run found, for the morning read."""
    as_of = settings.as_of_date(context)
    with timed() as watch, warehouse.connect() as con:
        written = write_reports(con, warehouse.reports_dir(as_of), as_of=as_of, window_days=settings.window_days)
    return dg.MaterializeResult(
        metadata={"rows": len(written), "seconds": watch.seconds, "directory": str(warehouse.reports_dir(as_of))}
    )


@dg.asset(key=["ops", "warehouse_published"], deps=[["reports", "daily_report"]], group_name="publish", kinds={"duckdb"})
def warehouse_published(warehouse: Warehouse) -> dg.MaterializeResult:
    """The run's database replaces the published `overreach.duckdb` in one rename; analysts never see half a run."""
    with timed() as watch:
        path = warehouse.publish()
        with warehouse.connect() as con:
            removed = remove_unreferenced_event_files(con, warehouse.events_dir)
    return dg.MaterializeResult(
        metadata={"path": str(path), "seconds": watch.seconds, "rows": 1, "stale_event_files_removed": removed}
    )
