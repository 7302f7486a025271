"""The Dagster definitions load, and hold what the nightly run and the UI rely on."""

import dagster as dg

from pipelines.definitions import defs
from pipelines.defs_loader import load_project_defs
from pipelines.resources import build_resources


def loaded() -> dg.Definitions:
    return load_project_defs(resources=build_resources(sources=["data/sample"], warehouse_dir="warehouse"))


def test_the_entry_point_is_loadable_by_dagster():
    dg.Definitions.validate_loadable(loaded())
    assert callable(defs)


def test_nightly_schedule_runs_the_whole_graph_at_two():
    definitions = loaded()
    schedule = definitions.resolve_schedule_def("nightly")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    job = definitions.resolve_job_def(schedule.job_name)
    graph_assets = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert {"ops/source_files", "core/identities", "core/access_events", "ops/warehouse_published"} <= graph_assets


def test_assets_are_grouped_by_layer():
    groups = {
        spec.key.to_user_string(): spec.group_name
        for spec in loaded().resolve_all_asset_specs()
    }
    assert groups["landing/cloudtrail"] == "ingest"
    assert groups["core/identities"] == "core"
    assert groups["reports/daily_report"] == "reports"


def test_checks_that_matter_are_declared():
    checks = {key.name for key in loaded().resolve_asset_graph().asset_check_keys}
    assert {"counts_reconcile", "events_refer_to_known_identities", "events_reconcile"} <= checks


class _Run:
    def __init__(self, tags: dict) -> None:
        self.tags = tags


class _Context:
    """What RunSettings reads of an execution context: the run's tags."""

    def __init__(self, tags: dict) -> None:
        self.run = _Run(tags)


def test_a_scheduled_run_is_as_of_its_scheduled_date():
    settings = build_resources(sources=["data/sample"], warehouse_dir="warehouse")["settings"]
    scheduled = _Context({"dagster/scheduled_execution_time": "2026-11-28T02:00:00+00:00"})
    assert settings.as_of_date(scheduled).isoformat() == "2026-11-28"
    pinned = build_resources(sources=["data/sample"], warehouse_dir="warehouse", as_of="2026-10-01")["settings"]
    assert pinned.as_of_date(scheduled).isoformat() == "2026-10-01"
