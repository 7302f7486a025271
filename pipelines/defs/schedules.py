"""The nightly run: every asset, at 02:00 UTC, for the scheduled date."""

import dagster as dg

nightly_job = dg.define_asset_job(
    "overreach_nightly",
    selection=dg.AssetSelection.all(),
    description="Ingest every source, rebuild core and marts, write the reports, publish the warehouse.",
)

nightly = dg.ScheduleDefinition(
    name="nightly",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Runs the whole graph at 02:00 with as-of = the scheduled date.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
