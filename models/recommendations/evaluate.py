"""Each recommendation's effect, recomputed: the risk score re-run on the identity's features as they would
be after the change, and the blast radius re-run on the graph as it would be (``blast_after``).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from models.recommendations.rules import RECOMPUTED, Recommendation
from models.risk.config import RiskConfig
from models.risk.factors import FEATURE_SCHEMA, score_identities
from models.weights import ACCESS_LEVEL_WEIGHTS, UNKNOWN_ACCESS_LEVEL_WEIGHT

RECOMMENDATIONS_SCHEMA = {
    "identity_id": pl.String,
    "kind": pl.String,
    "priority": pl.Int64,
    "action": pl.String,
    "evidence": pl.String,
    "risk_before": pl.Float64,
    "risk_after": pl.Float64,
    "risk_reduction": pl.Float64,
    "blast_radius_before": pl.Int64,
    "blast_radius_after": pl.Int64,
    "is_blast_recomputed": pl.Boolean,
    "frameworks": pl.List(pl.String),
}

BLAST_FEATURES = ("blast_radius_score", "reachable_identities", "reachable_sensitive_resources", "can_reach_admin",
                  "hops_to_admin")


def _granted_after(usage: pl.DataFrame, keep_actions: tuple[str, ...] | None,
                   drop_services: tuple[str, ...]) -> pl.DataFrame:
    granted = usage.filter(pl.col("is_granted"))
    if keep_actions is not None:
        granted = granted.filter(pl.col("action").is_in(list(keep_actions)))
    if drop_services:
        granted = granted.filter(~pl.col("service").is_in(list(drop_services)))
    return granted


def _observable_unused_share(granted: pl.DataFrame) -> float:
    """1 − unobservable / unused over the granted rows (1 when nothing is unused), as in ``marts.identity_privilege``."""
    unused = granted.filter(~(pl.col("is_used") | pl.col("is_used_inferred")))
    return 1.0 - unused.filter(~pl.col("is_observable")).height / unused.height if unused.height else 1.0


def unused_after(usage: pl.DataFrame, keep_actions: tuple[str, ...] | None, drop_services: tuple[str, ...]) -> dict:
    """Granted / unused counts and the weighted unused ratio of one identity's ``identity_action_usage`` rows
    once its grant is cut to ``keep_actions`` (when given) and ``drop_services`` are removed."""
    granted = _granted_after(usage, keep_actions, drop_services)
    weights = granted.select(
        pl.col("access_level").replace_strict(ACCESS_LEVEL_WEIGHTS, default=UNKNOWN_ACCESS_LEVEL_WEIGHT,
                                              return_dtype=pl.Float64).alias("weight"),
        (~(pl.col("is_used") | pl.col("is_used_inferred"))).alias("is_unused"),
    )
    total = weights["weight"].sum()
    unused = weights.filter(pl.col("is_unused"))["weight"].sum()
    return {
        "granted_actions": granted.height,
        "unused_actions": int(weights["is_unused"].sum()),
        "weighted_unused_ratio": round(unused / total, 4) if total else None,
    }


def confidence_after(confidence: float | None, usage: pl.DataFrame, keep_actions: tuple[str, ...] | None,
                     drop_services: tuple[str, ...]) -> float | None:
    """``unused_confidence`` once the grant is cut: window coverage × the observable share of what stays unused.

    After a right-sizing what stays unused is often only what CloudTrail cannot see (data events), so the share
    changes; the coverage does not, and is read back from the confidence before. Where no unused action was observable
    before, none is after (what stays unused is a subset), and the confidence stays as it was (0)."""
    if confidence is None:
        return None
    share_before = _observable_unused_share(usage.filter(pl.col("is_granted")))
    if share_before == 0:
        return confidence
    share_after = _observable_unused_share(_granted_after(usage, keep_actions, drop_services))
    return round(confidence / share_before * share_after, 4)


def features_after(features: dict, recommendation: Recommendation, usage: pl.DataFrame, blast: dict | None) -> dict:
    """The identity's risk features as they would be once the recommendation is applied."""
    change = recommendation.change
    after = dict(features) | {k: v for k, v in change.features.items() if v != RECOMPUTED}
    if change.keep_actions is not None or change.drop_services:
        after |= unused_after(usage, change.keep_actions, change.drop_services)
        after["unused_confidence"] = confidence_after(features.get("unused_confidence"), usage, change.keep_actions,
                                                      change.drop_services)
    if change.changes_graph and blast is not None:
        after |= {k: blast[k] for k in BLAST_FEATURES}
        if not blast["can_reach_admin"]:
            after["unused_admin_edges"] = 0
    return after


def _usage_lookup(action_usage: pl.DataFrame) -> Callable[[str], pl.DataFrame]:
    by_identity = {key[0]: frame for key, frame in action_usage.partition_by("identity_id", as_dict=True).items()}
    empty = action_usage.clear()
    return lambda identity_id: by_identity.get(identity_id, empty)


def evaluate(
    recommendations: list[Recommendation],
    features: pl.DataFrame,
    action_usage: pl.DataFrame | Callable[[str], pl.DataFrame],
    blast_after: Callable[[Recommendation], dict | None],
    config: RiskConfig | None = None,
) -> pl.DataFrame:
    """``marts.recommendations``: every recommendation with its risk and blast radius before and after,
    ranked. Breaking a never-used path to admin comes first; then the largest risk reduction.

    ``action_usage``: ``marts.identity_action_usage`` rows, or a function giving one identity's (asked in
    identity order, as ``blast_after`` is)."""
    if not recommendations:
        return pl.DataFrame(schema=RECOMMENDATIONS_SCHEMA)
    config = config or RiskConfig()
    by_identity = {row["identity_id"]: row for row in features.iter_rows(named=True)}
    before_risk, _ = score_identities(features, config)
    risk_before = dict(before_risk.select("identity_id", "risk_score").iter_rows())
    rows, after_rows = [], []
    usage_of = _usage_lookup(action_usage) if isinstance(action_usage, pl.DataFrame) else action_usage
    in_identity_order = sorted(range(len(recommendations)), key=lambda i: recommendations[i].identity_id)
    for index in in_identity_order:
        recommendation = recommendations[index]
        current = by_identity[recommendation.identity_id]
        changes_graph = recommendation.change.changes_graph
        blast = blast_after(recommendation) if changes_graph else None
        usage = usage_of(recommendation.identity_id)
        after = features_after(current, recommendation, usage, blast)
        after_rows.append(after | {"identity_id": str(index)})
        retired = recommendation.change.retire
        # A graph change whose re-run was not afforded (see GraphWhatIf's budget) keeps no made-up figure.
        recomputed = retired or not changes_graph or blast is not None
        rows.append({
            "index": str(index),
            "identity_id": recommendation.identity_id,
            "kind": recommendation.kind,
            "action": recommendation.action,
            "evidence": recommendation.evidence,
            "risk_before": risk_before[recommendation.identity_id],
            "blast_radius_before": int(current["blast_radius_score"] or 0),
            "blast_radius_after": 0 if retired else (int(after["blast_radius_score"] or 0) if recomputed else None),
            "is_blast_recomputed": recomputed,
            "is_retired": retired,
            "frameworks": list(recommendation.frameworks),
        })
    after_frame = pl.DataFrame(after_rows, schema=FEATURE_SCHEMA | {"identity_id": pl.String})
    risk_after, _ = score_identities(after_frame.select(list(FEATURE_SCHEMA)), config)
    scored = pl.DataFrame(rows).join(
        risk_after.select(pl.col("identity_id").alias("index"), pl.col("risk_score").alias("risk_after")), on="index"
    )
    return (
        scored.with_columns(
            pl.when(pl.col("is_retired")).then(0.0).otherwise(pl.col("risk_after")).alias("risk_after"),
        )
        .with_columns((pl.col("risk_before") - pl.col("risk_after")).round(1).alias("risk_reduction"))
        .sort(
            [pl.col("kind") != "break_escalation_path", "risk_reduction", "blast_radius_before", "identity_id", "kind"],
            descending=[False, True, True, False, False],
        )
        .with_row_index("priority", offset=1)
        .with_columns(pl.col("priority").cast(pl.Int64))
        .select(list(RECOMMENDATIONS_SCHEMA))
    )
