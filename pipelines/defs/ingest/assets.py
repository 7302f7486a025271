"""Ingest: find the inputs, recognise each by content, land it as Parquet with what it gave."""


import dagster as dg

from models.collector import gc_paused
from pipelines.assets_support import sql_params_for, timed
from pipelines.resources import RunSettings, Warehouse
from pipelines.sources import landing
from pipelines.sources.ledger import FileOutcome
from pipelines.sql import fetch_row, run_sql, scalar, table_rows

SOURCE_FILES = dg.AssetKey(["ops", "source_files"])


def _outcome_metadata(outcomes: list[FileOutcome], seconds: float) -> dict:
    return {
        "files": len(outcomes),
        "rows": sum(o.records_loaded for o in outcomes),
        "records_quarantined": sum(o.records_quarantined for o in outcomes),
        "seconds": seconds,
    }


def _has_source_files(con) -> bool:
    """An earlier run's file list is there to reuse hashes from."""
    return bool(scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'source_files'"))


def _detected(warehouse: Warehouse) -> list[landing.DetectedFile]:
    with warehouse.connect() as con:
        frame = con.sql("SELECT * FROM ops.source_files ORDER BY source_file").pl()
    return landing.detected_from_frame(frame)


@dg.asset(key=["ops", "source_files"], group_name="ingest", kinds={"duckdb"})
def source_files(settings: RunSettings, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every file under the run's sources, with the format recognised from its content (or why it is skipped)."""
    with timed() as watch, warehouse.connect() as con, gc_paused():  # objects by the file, as in the landing
        known = landing.known_files(con.sql("SELECT * FROM ops.source_files").pl()) if _has_source_files(con) else {}
        detected = landing.discover(settings.source_paths(), known)
        frame = landing.source_files_frame(detected)
        landing.write_skipped(detected, warehouse.landing_dir)
        con.register("detected_files", frame)
        con.execute("CREATE OR REPLACE TABLE ops.source_files AS SELECT * FROM detected_files")
        con.unregister("detected_files")
    counts = frame.group_by("format").len().sort("format", nulls_last=True)
    return dg.MaterializeResult(
        metadata={
            "rows": frame.height,
            "seconds": watch.seconds,
            "by_format": dg.MetadataValue.md(
                "\n".join(f"- {fmt or 'skipped'}: {n}" for fmt, n in counts.iter_rows())
            ),
        }
    )


@dg.asset(key=["landing", "aws_authorization"], deps=[SOURCE_FILES], group_name="ingest", kinds={"parquet"})
def landing_aws_authorization(warehouse: Warehouse) -> dg.MaterializeResult:
    """IAM users, groups, roles and policies from `get-account-authorization-details` exports, pages merged."""
    with timed() as watch:
        outcomes = landing.land_aws_authorization(_detected(warehouse), warehouse.landing_dir)
    return dg.MaterializeResult(metadata=_outcome_metadata(outcomes, watch.seconds))


@dg.asset(key=["landing", "cloudtrail"], deps=[SOURCE_FILES], group_name="ingest", kinds={"parquet", "duckdb"})
def landing_cloudtrail(warehouse: Warehouse) -> dg.MaterializeResult:
    """CloudTrail records (native log files and JSON Lines exports), checked and attributed, as Parquet by UTC day;
    only files no earlier run landed are read."""
    # objects by the file, which stay alive: full collections of the process's every object on the way cost S's
    # landing 0.3 s of its 3.6
    with timed() as watch, warehouse.connect() as con, gc_paused():
        outcomes = landing.land_cloudtrail_files(con, _detected(warehouse), warehouse.landing_dir, warehouse.scratch_dir)
    metadata = _outcome_metadata(outcomes, watch.seconds)
    metadata["files_read_now"] = sum(not o.was_landed_before for o in outcomes)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(key=["landing", "inventory"], deps=[SOURCE_FILES], group_name="ingest", kinds={"parquet"})
def landing_inventory(warehouse: Warehouse) -> dg.MaterializeResult:
    """Identity inventory rows (CSV or JSON): owners, environments, AI flags and credential dates."""
    with timed() as watch, warehouse.connect() as con:
        outcomes = landing.land_inventory(con, _detected(warehouse), warehouse.landing_dir)
    return dg.MaterializeResult(metadata=_outcome_metadata(outcomes, watch.seconds))


LANDING = [["landing", "aws_authorization"], ["landing", "cloudtrail"], ["landing", "inventory"], ["core", "access_events"]]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["ops", "load_log"], deps=[dg.AssetKey(k) for k in LANDING], kinds={"duckdb"},
                     description="Per input file: format, status, records read / loaded / quarantined / duplicate."),
        dg.AssetSpec(["ops", "quarantine"], deps=[dg.AssetKey(k) for k in LANDING], kinds={"duckdb"},
                     description="Every rejected record with its file, position, reason and an excerpt."),
    ],
    group_name="ingest",
    check_specs=[
        dg.AssetCheckSpec("counts_reconcile", asset=["ops", "load_log"],
                          description="For every file, records read = loaded + quarantined."),
        dg.AssetCheckSpec("events_reconcile", asset=["ops", "load_log"],
                          description="Unique events = CloudTrail records landed − copies delivered twice."),
    ],
)
def ops_load_log(settings: RunSettings, warehouse: Warehouse):
    with timed() as watch, warehouse.connect() as con:
        params = sql_params_for(settings, warehouse)
        run_sql(con, "ops/load_log", **params)
        run_sql(con, "ops/quarantine", **params)
        unreconciled = scalar(con, 
            "SELECT count(*) FROM ops.load_log WHERE records_read <> records_loaded + records_quarantined"
        )
        quarantined_rows = table_rows(con, "ops.quarantine")
        claimed = scalar(con, "SELECT coalesce(sum(records_quarantined), 0) FROM ops.load_log")
        load_rows = table_rows(con, "ops.load_log")
        landed, duplicates = fetch_row(
            con,
            "SELECT coalesce(sum(records_loaded), 0), coalesce(sum(records_duplicate), 0) FROM ops.load_log "
            "WHERE format LIKE 'cloudtrail%'",
        )
        events = scalar(con, "SELECT count(*) FROM core.access_events")
    yield dg.MaterializeResult(asset_key=["ops", "load_log"], metadata={"rows": load_rows, "seconds": watch.seconds})
    yield dg.MaterializeResult(asset_key=["ops", "quarantine"], metadata={"rows": quarantined_rows})
    yield dg.AssetCheckResult(
        asset_key=["ops", "load_log"],
        check_name="counts_reconcile",
        passed=unreconciled == 0 and claimed == quarantined_rows,
        metadata={"files_not_reconciling": unreconciled, "quarantined_in_log": claimed, "quarantine_rows": quarantined_rows},
    )
    yield dg.AssetCheckResult(
        asset_key=["ops", "load_log"],
        check_name="events_reconcile",
        passed=events == landed - duplicates,
        metadata={"records_landed": landed, "duplicates": duplicates, "unique_events": events},
    )
