"""Right-sizing recommendations with their effect recomputed: the score and the graph re-run per change."""

import gc
from collections.abc import Callable

import dagster as dg
import polars as pl

from models.graph import build_graph
from pipelines.graph_io import identity_grants, reach_index_of_run, read_graph_inputs
from models.graph.whatif import ReachIndex
from models.iam.effective import resolve_grants
from models.iam.policy import expand_policies
from models.recommendations.evaluate import evaluate
from models.recommendations.facts import build_facts
from models.recommendations.rules import Recommendation, recommend
from pipelines.identity_runs import DECISION_RUN_ROWS, RunReader, identity_runs
from pipelines.assets_support import replace_table, sql_params_for, timed
from pipelines.resources import LIMIT_BESIDE_LARGE_PYTHON, RunSettings, Warehouse
from pipelines.sql import query_frame

INPUTS = [["marts", n] for n in ("risk_features", "identity_risk", "proposed_policies", "permission_edges",
                                 "grant_scoping", "identity_service_usage", "identity_action_usage")]
INPUTS += [["core", "credentials"], ["core", "grants"]]


USAGE_COLUMNS = ("SELECT identity_id, action, service, access_level, is_granted, is_used, is_used_inferred, "
                 "is_observable FROM marts.identity_action_usage")

# Graph re-runs a night affords, spent on the recommendations that matter most (never-used paths to admin,
# then the riskiest identities); beyond it a recommendation's blast radius after is left unknown, not guessed.
GRAPH_WHAT_IF_BUDGET = 400


class GraphWhatIf:
    """Re-runs the blast radius of one identity on the graph with a recommendation applied."""

    def __init__(self, index: ReachIndex, inputs: dict[str, pl.DataFrame], proposals: pl.DataFrame,
                 grants_of: Callable[[str], pl.DataFrame], chosen: set[int] | None = None) -> None:
        """``index``: the base graph's; ``inputs``: ``build_graph``'s arguments but the grants;
        ``grants_of(identity_id)``: that identity's ``core.grants`` rows. A what-if needs one identity's grants
        at a time, so none are held for all."""
        self.chosen = chosen
        self.inputs = inputs
        self.grants_of = grants_of
        self._last_grants: tuple[str, pl.DataFrame] | None = None
        self.index = index
        self.documents = dict(proposals.select("identity_id", "document").iter_rows())

    def _own_grants(self, identity_id: str) -> pl.DataFrame:
        # an identity's recommendations come one after the other: its grants are read once for all of them
        if self._last_grants is None or self._last_grants[0] != identity_id:
            self._last_grants = (identity_id, self.grants_of(identity_id))
        return self._last_grants[1]

    def _grants_after(self, recommendation: Recommendation) -> pl.DataFrame | None:
        change, identity_id = recommendation.change, recommendation.identity_id
        if change.keep_actions is not None:
            policy = pl.DataFrame({"policy_id": ["proposed"], "document": [self.documents[identity_id]]})
            attachments = pl.DataFrame({"identity_id": [identity_id], "policy_id": ["proposed"], "via": ["inline"]})
            return resolve_grants(expand_policies(policy), attachments)
        if change.drop_services:
            return self._own_grants(identity_id).filter(~pl.col("service").is_in(list(change.drop_services)))
        if change.scope:
            narrowed = dict(change.scope)
            own = self._own_grants(identity_id)
            scoped = own.filter(pl.col("action").is_in(list(narrowed))).with_columns(
                pl.col("action").replace_strict(narrowed, return_dtype=pl.List(pl.String)).alias("resource_pattern")
            ).explode("resource_pattern")
            return pl.concat([own.filter(~pl.col("action").is_in(list(narrowed))), scoped])
        return None

    def __call__(self, recommendation: Recommendation) -> dict | None:
        if self.chosen is not None and id(recommendation) not in self.chosen:
            return None
        change = recommendation.change
        new_grants = self._grants_after(recommendation)
        replacement = None
        if new_grants is not None:
            inputs = self.inputs | {"grants": new_grants, "used_edges": None}
            if change.keep_actions is not None:
                # The generated policy replaces all of the identity's permissions, those of its groups too.
                memberships = inputs["group_memberships"]
                inputs["group_memberships"] = memberships.filter(pl.col("user_arn") != recommendation.identity_id)
            replacement = build_graph(**inputs)
        with self.index.changed(recommendation.identity_id, replacement=replacement,
                                remove_edges=change.remove_edges, retire=change.retire) as edited:
            return edited.figures(recommendation.identity_id)


def graph_what_ifs_to_run(candidates: list[Recommendation], features: pl.DataFrame, budget: int) -> set[int]:
    """Which graph-changing recommendations get their graph re-run: never-used paths to admin first, then by
    the identity's blast radius and unused privilege, up to ``budget``."""
    weight = {r["identity_id"]: (r["blast_radius_score"] or 0, r["weighted_unused_ratio"] or 0)
              for r in features.iter_rows(named=True)}
    graph_changing = [r for r in candidates if r.change.changes_graph and not r.change.retire]
    ranked = sorted(graph_changing, key=lambda r: (r.kind != "break_escalation_path",
                                                   tuple(-x for x in weight.get(r.identity_id, (0, 0)))))
    return {id(r) for r in ranked[:budget]}


def base_reach_index(warehouse: Warehouse, run_id: str,
                     read_inputs: Callable[[], dict[str, pl.DataFrame]]) -> ReachIndex:
    """The what-ifs' index of the run's graph, taken before anything else is read: where the graph has to be
    built here (1 GiB at 10k identities), it is let go once indexed, and what the step reads next reuses its
    memory."""
    index = reach_index_of_run(warehouse.reach_index_path, run_id, read_inputs)
    gc.collect()  # a graph refers to itself: only the cycle collector frees it
    return index


@dg.asset(key=["marts", "recommendations"], deps=INPUTS, group_name="decisions", kinds={"duckdb", "networkx"})
def recommendations(context: dg.AssetExecutionContext, settings: RunSettings, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per identity: what to change (kind, action in plain words, evidence), the risk and blast radius before and
    after — recomputed on the features and the graph with the change applied — and the OWASP NHI / NIST CSF
    references. Ranked: never-used paths to admin first, then the largest risk reduction."""
    params = sql_params_for(settings, warehouse, context)
    config = settings.risk_config()
    with timed() as watch, warehouse.connect(memory_limit=LIMIT_BESIDE_LARGE_PYTHON) as con:
        index = base_reach_index(warehouse, context.run.run_id, lambda: read_graph_inputs(con, params))
        features = con.sql("SELECT * FROM marts.risk_features").pl()
        proposals = con.sql("SELECT * FROM marts.proposed_policies").pl()
        facts = build_facts(
            identities=con.sql("SELECT identity_id, name, kind, path, is_ai, environment, agent_names FROM core.identities").pl(),
            features=features,
            privilege=con.sql("SELECT * FROM marts.identity_privilege").pl(),
            proposals=proposals,
            service_usage=con.sql("SELECT * FROM marts.identity_service_usage").pl(),
            scoping=con.sql("SELECT * FROM marts.grant_scoping").pl(),
            move_edges=query_frame(con, "queries/move_edges"),
            credentials=query_frame(con, "queries/credential_ages", **params),
        )
        candidates = [r for f in facts for r in recommend(f, config)]
        chosen = graph_what_ifs_to_run(candidates, features, GRAPH_WHAT_IF_BUDGET)
        # a what-if rebuilds from the changed identity's grants alone, read when it runs
        graph_inputs = read_graph_inputs(con, params, with_grants=False)
        # the columns the re-scoring reads, a run of identities at a time (10k identities: 14M rows)
        usage = RunReader(con, USAGE_COLUMNS, identity_runs(con, DECISION_RUN_ROWS))
        what_if = GraphWhatIf(index, graph_inputs, proposals, lambda identity_id: identity_grants(con, identity_id),
                              chosen)
        frame = evaluate(candidates, features, usage, what_if, config)
        rows = replace_table(con, "marts.recommendations", frame)
    kinds = frame.group_by("kind").len().sort("kind")
    return dg.MaterializeResult(metadata={
        "rows": rows, "seconds": watch.seconds,
        "by_kind": dg.MetadataValue.md("\n".join(f"- {k}: {n}" for k, n in kinds.iter_rows())),
    })
