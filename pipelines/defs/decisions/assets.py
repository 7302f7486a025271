"""Decisions: an explainable risk score per identity and the changes that would lower it."""

import json

import dagster as dg

from models.risk.factors import score_identities
from pipelines.assets_support import replace_table, sql_params_for, sql_table_asset, timed
from pipelines.resources import RunSettings, Warehouse
from pipelines.sql import run_sql, scalar, table_rows

GROUP = "decisions"

marts_risk_features = sql_table_asset(
    "marts.risk_features",
    deps=["marts.identity_privilege", "marts.identity_blast_radius", "marts.escalation_paths",
          "marts.permission_edges", "core.delegations", "core.credentials", "core.identities"],
    group=GROUP,
    description="Per identity: the measurements the risk factors read (privilege, reach, credential hygiene, governance).",
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["marts", "identity_risk"], deps=[["marts", "risk_features"]], kinds={"duckdb", "polars"},
                     description="Per identity: a 0–100 risk score, its tier and its top reasons."),
        dg.AssetSpec(["marts", "risk_factors"], deps=[["marts", "risk_features"]], kinds={"duckdb", "polars"},
                     description="Per identity and factor: value, weight, contribution and reason — the score explained."),
    ],
    group_name=GROUP,
)
def identity_risk(settings: RunSettings, warehouse: Warehouse):
    config = settings.risk_config()
    with timed() as watch, warehouse.connect() as con:
        risk, factors = score_identities(con.sql("SELECT * FROM marts.risk_features").pl(), config)
        risk_rows = replace_table(con, "marts.identity_risk", risk)
        factor_rows = replace_table(con, "marts.risk_factors", factors)
    yield dg.MaterializeResult(asset_key=["marts", "identity_risk"], metadata={"rows": risk_rows, "seconds": watch.seconds,
                               "config": json.dumps({"weights": config.weights, "tiers": config.tiers})})
    yield dg.MaterializeResult(asset_key=["marts", "risk_factors"], metadata={"rows": factor_rows})


RUN_HISTORY_COLUMNS = """
    as_of DATE, window_days INTEGER, identity_id VARCHAR, name VARCHAR, is_ai BOOLEAN, risk_score DOUBLE, risk_tier VARCHAR,
    blast_radius_score BIGINT, can_reach_admin BOOLEAN, unused_ratio DOUBLE, granted_actions BIGINT,
    used_actions BIGINT, recommendations BIGINT, credential_issues BIGINT
"""


@dg.asset(key=["marts", "run_history"], group_name=GROUP, kinds={"duckdb"},
          deps=[["marts", "identity_risk"], ["marts", "identity_blast_radius"], ["marts", "identity_privilege"],
                ["marts", "recommendations"]])
def run_history(context: dg.AssetExecutionContext, settings: RunSettings, warehouse: Warehouse) -> dg.MaterializeResult:
    """One snapshot of scores per identity and as-of date, kept across runs, for trends."""
    params = sql_params_for(settings, warehouse, context)
    with timed() as watch, warehouse.connect() as con:
        con.execute(f"CREATE TABLE IF NOT EXISTS marts.run_history ({RUN_HISTORY_COLUMNS})")
        for column in RUN_HISTORY_COLUMNS.split(","):  # history written by an older version gains new columns
            con.execute(f"ALTER TABLE marts.run_history ADD COLUMN IF NOT EXISTS {column.strip()}")
        con.execute("DELETE FROM marts.run_history WHERE as_of = $as_of::DATE", {"as_of": params["as_of"]})
        run_sql(con, "marts/run_history", **params)
        snapshots = scalar(con, "SELECT count(DISTINCT as_of) FROM marts.run_history")
        rows = table_rows(con, "marts.run_history")
    return dg.MaterializeResult(metadata={"rows": rows, "seconds": watch.seconds, "snapshots": snapshots})
