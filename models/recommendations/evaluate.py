"""Each recommendation's effect, recomputed: the risk score re-run on the identity's features as they would
be after the change, and the blast radius re-run on the graph as it would be (``blast_after``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class GrantCut:
    """An identity's grant cut to ``keep_actions`` (when given) with ``drop_services`` removed."""

    identity_id: str
    keep_actions: tuple[str, ...] | None
    drop_services: tuple[str, ...]


@dataclass(frozen=True)
class CutCounts:
    """What stays granted after a cut: actions, unused ones, their access-level weights, the unused ones CloudTrail
    cannot show."""

    granted: int = 0
    unused: int = 0
    weight: float = 0.0
    unused_weight: float = 0.0
    unobservable_unused: int = 0


_IS_UNUSED = ~(pl.col("is_used") | pl.col("is_used_inferred"))


def _cut_rows(cuts: list[GrantCut]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The cuts as frames: ``_cut, identity_id, _has_keep, _has_drop``; the kept ``_cut, action``; the dropped
    ``_cut, service``."""
    frame = pl.DataFrame(
        {"_cut": list(range(len(cuts))), "identity_id": [c.identity_id for c in cuts],
         "_has_keep": [c.keep_actions is not None for c in cuts], "_has_drop": [bool(c.drop_services) for c in cuts]},
        schema={"_cut": pl.Int64, "identity_id": pl.String, "_has_keep": pl.Boolean, "_has_drop": pl.Boolean},
    )
    kept = [(i, a) for i, c in enumerate(cuts) for a in dict.fromkeys(c.keep_actions or ())]
    dropped = [(i, s) for i, c in enumerate(cuts) for s in dict.fromkeys(c.drop_services)]
    return (frame,
            pl.DataFrame(kept, schema={"_cut": pl.Int64, "action": pl.String}, orient="row"),
            pl.DataFrame(dropped, schema={"_cut": pl.Int64, "service": pl.String}, orient="row"))


_COUNTS = {
    "granted": pl.len(),
    "unused": pl.col("_is_unused").sum(),
    "weight": pl.col("_weight").sum(),
    "unused_weight": pl.col("_weight").filter(pl.col("_is_unused")).sum(),
    "unobservable_unused": (pl.col("_is_unused") & ~pl.col("is_observable")).sum(),
}


def _without_dropped(rows: pl.DataFrame, dropped: pl.DataFrame) -> pl.DataFrame:
    """``rows`` of cuts that drop services, less those services' rows; as a filter on ``is_in`` would, a row
    without a service goes too."""
    return rows.join(dropped, on=["_cut", "service"], how="anti").filter(
        ~pl.col("_has_drop") | pl.col("service").is_not_null()
    )


def cut_counts(usage: pl.DataFrame, cuts: list[GrantCut]) -> list[CutCounts]:
    """Per cut, in order, the counts of what stays granted, from the identities' ``identity_action_usage`` rows:
    every cut of every identity in one pass (a what-if per recommendation made thousands of small frames). A cut
    to kept actions joins only those; a cut of nothing is its identity's totals."""
    if not cuts:
        return []
    frame, kept, dropped = _cut_rows(cuts)
    granted = usage.filter(pl.col("is_granted")).select(
        "identity_id", "action", "service", "is_observable",
        pl.col("access_level").replace_strict(ACCESS_LEVEL_WEIGHTS, default=UNKNOWN_ACCESS_LEVEL_WEIGHT,
                                              return_dtype=pl.Float64).alias("_weight"),
        _IS_UNUSED.alias("_is_unused"),
    )
    whole = frame.filter(~pl.col("_has_keep") & ~pl.col("_has_drop")).select("_cut", "identity_id").join(
        granted.group_by("identity_id").agg(**_COUNTS), on="identity_id"
    )
    kept_rows = kept.join(frame.filter(pl.col("_has_keep")), on="_cut").join(granted, on=["identity_id", "action"])
    dropping_rows = frame.filter(~pl.col("_has_keep") & pl.col("_has_drop")).join(granted, on="identity_id")
    cut = _without_dropped(pl.concat([kept_rows.select(dropping_rows.columns), dropping_rows]), dropped)
    counts = pl.concat([whole.drop("identity_id"), cut.group_by("_cut").agg(**_COUNTS)], how="vertical_relaxed")
    by_cut = {row.pop("_cut"): CutCounts(**row) for row in counts.iter_rows(named=True)}
    return [by_cut.get(i, CutCounts()) for i in range(len(cuts))]


def _observable_unused_share(counts: CutCounts) -> float:
    """1 − unobservable / unused over what stays granted (1 when nothing is unused), as in
    ``marts.identity_privilege``."""
    return 1.0 - counts.unobservable_unused / counts.unused if counts.unused else 1.0


def _unused_figures(counts: CutCounts) -> dict:
    return {
        "granted_actions": counts.granted,
        "unused_actions": counts.unused,
        "weighted_unused_ratio": round(counts.unused_weight / counts.weight, 4) if counts.weight else None,
    }


def _confidence(confidence: float | None, before: CutCounts, after: CutCounts) -> float | None:
    """``unused_confidence`` once the grant is cut: window coverage × the observable share of what stays unused.

    After a right-sizing what stays unused is often only what CloudTrail cannot see (data events), so the share
    changes; the coverage does not, and is read back from the confidence before. Where no unused action was observable
    before, none is after (what stays unused is a subset), and the confidence stays as it was (0)."""
    if confidence is None:
        return None
    share_before = _observable_unused_share(before)
    if share_before == 0:
        return confidence
    return round(confidence / share_before * _observable_unused_share(after), 4)


def _one_cut(usage: pl.DataFrame, keep_actions: tuple[str, ...] | None,
             drop_services: tuple[str, ...]) -> tuple[CutCounts, CutCounts]:
    """One identity's counts (``usage``: its rows) before and after one cut."""
    own = usage.with_columns(identity_id=pl.lit("", dtype=pl.String))
    before, after = cut_counts(own, [GrantCut("", None, ()), GrantCut("", keep_actions, drop_services)])
    return before, after


def unused_after(usage: pl.DataFrame, keep_actions: tuple[str, ...] | None, drop_services: tuple[str, ...]) -> dict:
    """Granted / unused counts and the weighted unused ratio of one identity's ``identity_action_usage`` rows
    once its grant is cut to ``keep_actions`` (when given) and ``drop_services`` are removed."""
    return _unused_figures(_one_cut(usage, keep_actions, drop_services)[1])


def confidence_after(confidence: float | None, usage: pl.DataFrame, keep_actions: tuple[str, ...] | None,
                     drop_services: tuple[str, ...]) -> float | None:
    """``unused_confidence`` of one identity once its grant is cut (see ``_confidence``)."""
    return _confidence(confidence, *_one_cut(usage, keep_actions, drop_services))


def _cuts_grant(recommendation: Recommendation) -> bool:
    return recommendation.change.keep_actions is not None or bool(recommendation.change.drop_services)


def _after(features: dict, recommendation: Recommendation, cut: tuple[CutCounts, CutCounts] | None,
           blast: dict | None) -> dict:
    """The features after the recommendation, given the counts before and after its cut of the grant."""
    change = recommendation.change
    after = dict(features) | {k: v for k, v in change.features.items() if v != RECOMPUTED}
    if cut is not None:
        before, cut_to = cut
        after |= _unused_figures(cut_to)
        after["unused_confidence"] = _confidence(features.get("unused_confidence"), before, cut_to)
    if change.changes_graph and blast is not None:
        after |= {k: blast[k] for k in BLAST_FEATURES}
        if not blast["can_reach_admin"]:
            after["unused_admin_edges"] = 0
    return after


def features_after(features: dict, recommendation: Recommendation, usage: pl.DataFrame, blast: dict | None) -> dict:
    """The identity's risk features as they would be once the recommendation is applied."""
    change = recommendation.change
    cut = _one_cut(usage, change.keep_actions, change.drop_services) if _cuts_grant(recommendation) else None
    return _after(features, recommendation, cut, blast)


# Identities whose usage is gathered before their cuts are counted together: a few hundred small frames at once.
CUT_BATCH_IDENTITIES = 500


def _cuts_of(recommendations: list[Recommendation], in_identity_order: list[int],
             usage_of: Callable[[str], pl.DataFrame]) -> dict[int, tuple[CutCounts, CutCounts]]:
    """For each recommendation that cuts the grant (by index): the counts before and after its cut, counted
    ``CUT_BATCH_IDENTITIES`` identities at a time (their usage asked of ``usage_of`` in identity order, once
    each)."""
    cutting = [i for i in in_identity_order if _cuts_grant(recommendations[i])]
    identities = list(dict.fromkeys(recommendations[i].identity_id for i in cutting))
    result: dict[int, tuple[CutCounts, CutCounts]] = {}
    for start in range(0, len(identities), CUT_BATCH_IDENTITIES):
        batch = identities[start:start + CUT_BATCH_IDENTITIES]
        members = set(batch)
        indices = [i for i in cutting if recommendations[i].identity_id in members]
        # the batch's identities uncut first (the counts before), then each recommendation's cut
        cuts = [GrantCut(identity_id, None, ()) for identity_id in batch] + [
            GrantCut(recommendations[i].identity_id, recommendations[i].change.keep_actions,
                     recommendations[i].change.drop_services) for i in indices
        ]
        counts = cut_counts(pl.concat([usage_of(identity_id) for identity_id in batch]), cuts)
        before = dict(zip(batch, counts))
        for index, after in zip(indices, counts[len(batch):]):
            result[index] = (before[recommendations[index].identity_id], after)
    return result


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
    cuts = _cuts_of(recommendations, in_identity_order, usage_of)
    for index in in_identity_order:
        recommendation = recommendations[index]
        current = by_identity[recommendation.identity_id]
        changes_graph = recommendation.change.changes_graph
        blast = blast_after(recommendation) if changes_graph else None
        after = _after(current, recommendation, cuts.get(index), blast)
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
