"""Least-privilege policy proposals, their diff against today's grant, and the replay check."""

import json
import re

import dagster as dg
import polars as pl

from models.rightsizing.policy import propose_policies
from models.rightsizing.policy_diff import policy_diffs
from models.rightsizing.policy_replay import observed_calls, replay_all_denials
from pipelines.identity_runs import DECISION_RUN_ROWS, identity_runs, read_runs
from pipelines.assets_support import replace_table, sql_params_for, timed
from pipelines.resources import RunSettings, Warehouse
from pipelines.sql import query_frame

PROPOSALS_SCHEMA = {
    "identity_id": pl.String,
    "name": pl.String,
    "granted_actions": pl.Int64,
    "proposed_actions": pl.Int64,
    "removed_actions": pl.Int64,
    "actions": pl.List(pl.String),
    "is_tight_warning": pl.Boolean,
    "notes": pl.List(pl.String),
    "document": pl.String,
    "diff": pl.String,
    "policy_file": pl.String,
}
# policy_file: where the report writes the document, relative to reports/<as-of>/ (null: nothing to write,
# the identity used nothing and the recommendation is to retire it).


def policy_file_name(name: str, identity_id: str) -> str:
    """A file name from the identity's name (names can repeat across accounts and providers, so the
    account is added when the identity id carries one)."""
    account = identity_id.split(":")[4] if identity_id.startswith("arn:") and identity_id.count(":") >= 5 else ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "identity"
    return f"{stem}-{account}.json" if account else f"{stem}.json"


def _proposals_of_run(usage: pl.DataFrame, passed: pl.DataFrame, privilege: pl.DataFrame,
                      names: dict[str, str]) -> tuple[list[dict], pl.DataFrame]:
    """The proposal rows and replay denials of the identities whose usage rows these are."""
    proposals = propose_policies(usage, passed, privilege)
    granted_usage = usage.filter(pl.col("is_granted"))
    diffs = policy_diffs(granted_usage, proposals)
    rows = []
    for identity_id, proposal in proposals.items():
        diff = diffs[identity_id]
        file_name = policy_file_name(names.get(identity_id) or identity_id, identity_id)
        rows.append({
            "identity_id": identity_id,
            "name": names.get(identity_id),
            "granted_actions": diff.granted_actions,
            "proposed_actions": diff.proposed_actions,
            "removed_actions": diff.removed_actions,
            "actions": list(proposal.actions),
            "is_tight_warning": proposal.is_tight_warning,
            "notes": list(proposal.notes),
            "document": proposal.document_json(),
            "diff": json.dumps(diff.to_dict(), sort_keys=True),
            "policy_file": f"policies/{file_name}" if proposal.has_statements else None,
        })
    # Calls the identity's own policies never granted (a resource policy allowed them) are not the
    # proposal's to allow: today's policies do not grant them either, and the proposal's notes list them.
    return rows, replay_all_denials(proposals, observed_calls(granted_usage))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["marts", "proposed_policies"], kinds={"duckdb", "json"},
                     deps=[["marts", "identity_action_usage"], ["marts", "identity_privilege"], ["core", "access_events"]],
                     description="Per identity: a least-privilege policy from what it used (plus the dependent actions "
                     "the catalog requires), its diff against today's grant, and notes for the reviewer."),
        dg.AssetSpec(["marts", "policy_replay_denials"], kinds={"duckdb"}, deps=[["marts", "proposed_policies"]],
                     description="Successful calls of the window that a proposed policy would deny (expected: none)."),
    ],
    group_name="decisions",
    check_specs=[dg.AssetCheckSpec("proposals_allow_every_observed_call", asset=["marts", "policy_replay_denials"])],
)
def proposed_policies(context: dg.AssetExecutionContext, settings: RunSettings, warehouse: Warehouse):
    with timed() as watch, warehouse.connect() as con:
        privilege = con.sql("SELECT * FROM marts.identity_privilege").pl()
        passed = query_frame(con, "queries/passed_roles", **sql_params_for(settings, warehouse, context))
        names = dict(privilege.select("identity_id", "name").iter_rows())
        rows, denials = [], []
        # a run of identities at a time: at 10k identities the usage mart holds 14M rows
        runs = identity_runs(con, DECISION_RUN_ROWS)
        for usage in read_runs(con, "SELECT * FROM marts.identity_action_usage", runs):
            part_rows, part_denials = _proposals_of_run(usage, passed, privilege, names)
            rows += part_rows
            denials.append(part_denials)
        proposal_rows = replace_table(con, "marts.proposed_policies", pl.DataFrame(rows, schema=PROPOSALS_SCHEMA))
        denial_rows = replace_table(con, "marts.policy_replay_denials", pl.concat(denials))
    yield dg.MaterializeResult(asset_key=["marts", "proposed_policies"],
                               metadata={"rows": proposal_rows, "seconds": watch.seconds})
    yield dg.MaterializeResult(asset_key=["marts", "policy_replay_denials"], metadata={"rows": denial_rows})
    yield dg.AssetCheckResult(asset_key=["marts", "policy_replay_denials"], check_name="proposals_allow_every_observed_call",
                              passed=denial_rows == 0, metadata={"denied_calls": denial_rows})
