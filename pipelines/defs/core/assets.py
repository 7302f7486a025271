"""Core tables: identities, credentials, policies and access events, each built by one SQL file."""


import dagster as dg

from models.ai import ai_rules_frame
from models.collector import gc_paused
from pipelines.assets_support import sql_table_asset, timed
from pipelines.sources import events, landing
from pipelines.resources import Warehouse

AWS = "landing.aws_authorization"
CLOUDTRAIL = "landing.cloudtrail"
INVENTORY = "landing.inventory"



@dg.asset(key=["core", "access_events"], deps=[dg.AssetKey(CLOUDTRAIL.split("."))], group_name="core",
          kinds={"duckdb", "parquet"})
def core_access_events(warehouse: Warehouse) -> dg.MaterializeResult:
    """One row per unique CloudTrail event, attributed to an identity (assumed-role sessions to the role), kept as
    Parquet by day; days whose source files changed are rebuilt with their daily usage rollups, the rest kept."""
    with timed() as watch, warehouse.connect() as con, gc_paused():  # objects by the file, as in the landing
        detected = landing.detected_from_frame(con.sql("SELECT * FROM ops.source_files ORDER BY source_file").pl())
        outcomes = events.landed_outcomes(detected, warehouse.landing_dir / "cloudtrail")
        summary = events.refresh_events(
            con, outcomes, warehouse.landing_dir / "cloudtrail", warehouse.events_dir
        )
    return dg.MaterializeResult(
        metadata={
            "rows": summary.events,
            "seconds": watch.seconds,
            "days": summary.days_total,
            "days_rebuilt": summary.days_rebuilt,
            "days_removed": summary.days_removed,
        }
    )
core_identities = sql_table_asset(
    "core.identities",
    deps=[AWS, INVENTORY],
    group="core",
    description="Users, roles and groups from the IAM exports and identities known only to the inventory, "
    "with owner, environment and whether (and why) each is an AI identity.",
    extra_tables={"ai_rules": ai_rules_frame},
)
core_credentials = sql_table_asset(
    "core.credentials",
    deps=[INVENTORY, "core.access_events"],
    group="core",
    description="Access keys, API keys, tokens and certificates: created, rotated, expires, last used, status.",
)
core_policies = sql_table_asset(
    "core.policies", deps=[AWS], group="core", description="Managed (default version) and inline policies."
)
core_policy_versions = sql_table_asset(
    "core.policy_versions", deps=[AWS], group="core", description="Every stored version of each managed policy."
)
core_group_memberships = sql_table_asset(
    "core.group_memberships", deps=[AWS], group="core", description="Users in groups, by group ARN."
)
core_policy_attachments = sql_table_asset(
    "core.policy_attachments",
    deps=[AWS, "core.group_memberships"],
    group="core",
    description="Each identity's policies and how it holds them: managed, inline, boundary, or group:<arn>.",
)
core_resources = sql_table_asset(
    "core.resources",
    deps=["core.access_events"],
    group="core",
    description="Resources touched in the events, with a sensitivity tier where an input provides one.",
)

UNKNOWN_IDENTITY_SQL = """
SELECT e.identity_id, sum(e.event_count) AS events
FROM core.usage_daily AS e
LEFT JOIN core.identities AS i USING (identity_id)
WHERE i.identity_id IS NULL AND e.identity_id IS NOT NULL
  AND e.identity_id NOT LIKE 'aws-service:%' AND e.identity_id NOT LIKE 'aws-account:%'
GROUP BY ALL
ORDER BY events DESC, identity_id
"""


@dg.asset_check(
    asset=["core", "access_events"],
    additional_deps=[["core", "identities"]],
    description="Every event is attributed to an identity known to the IAM exports or the inventory; "
    "events of unknown identities are listed.",
)
def events_refer_to_known_identities(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        unknown = con.sql(UNKNOWN_IDENTITY_SQL).pl()
    return dg.AssetCheckResult(
        passed=unknown.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unknown_identities": unknown.height,
            "events_of_unknown_identities": int(unknown["events"].sum()) if unknown.height else 0,
            "examples": dg.MetadataValue.md(
                "\n".join(f"- `{i}`: {n}" for i, n in unknown.head(10).iter_rows()) or "none"
            ),
        },
    )
