"""Risk factors as data and the one function that scores identities with them.

Each factor turns one or two per-identity features into a value between 0 and 1 and a
human reason; its contribution is ``weight × value`` (weights from ``RiskConfig``). The
features are the columns of ``FEATURE_SCHEMA`` (the pipeline computes them in SQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from models.risk.config import RiskConfig

FEATURE_SCHEMA = {
    "identity_id": pl.String,
    "is_ai": pl.Boolean,
    "granted_actions": pl.Int64,
    "unused_actions": pl.Int64,
    "weighted_unused_ratio": pl.Float64,
    "unused_confidence": pl.Float64,
    "blast_radius_score": pl.Float64,
    "reachable_identities": pl.Int64,
    "reachable_sensitive_resources": pl.Int64,
    "can_reach_admin": pl.Boolean,
    "hops_to_admin": pl.Int64,
    "unused_admin_edges": pl.Int64,
    "long_lived_keys": pl.Int64,
    "oldest_key_age_days": pl.Int64,
    "max_days_since_rotation": pl.Int64,
    "credentials_without_expiry": pl.Int64,
    "days_to_nearest_expiry": pl.Int64,
    "has_owner": pl.Boolean,
    "days_since_last_activity": pl.Int64,
    "observed_days": pl.Int64,
    "agents_sharing": pl.Int64,
    "console_events": pl.Int64,
    "reaches_other_environments": pl.String,
}

FACTOR_SCHEMA = {
    "identity_id": pl.String,
    "factor": pl.String,
    "value": pl.Float64,
    "weight": pl.Float64,
    "contribution": pl.Float64,
    "reason": pl.String,
}

RISK_SCHEMA = {
    "identity_id": pl.String,
    "risk_score": pl.Float64,
    "risk_tier": pl.String,
    "top_reasons": pl.List(pl.String),
}

c = pl.col


def _flag(condition: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(1.0).otherwise(0.0)


@dataclass(frozen=True)
class Factor:
    """code: the factor's name in ``marts.risk_factors`` and in ``RiskConfig.weights``.
    description: what it measures, for the docs.
    value: config → expression in [0, 1] over the features.
    reason: config → expression giving the human reason (used where the value is above 0).
    """

    code: str
    description: str
    value: Callable[[RiskConfig], pl.Expr]
    reason: Callable[[RiskConfig], pl.Expr]


def _dormant(config: RiskConfig) -> pl.Expr:
    inactive_too_long = c("days_since_last_activity") > config.dormant_days
    never_seen_while_watched = c("days_since_last_activity").is_null() & (c("observed_days") >= config.dormant_days)
    return _flag(inactive_too_long.fill_null(False) | never_seen_while_watched.fill_null(False))


FACTORS: tuple[Factor, ...] = (
    Factor(
        "unused_privilege",
        "share of granted privilege never used in the window, weighted by access level, times the confidence that "
        "unused really means unused (window coverage, observability)",
        lambda cfg: (c("weighted_unused_ratio").fill_null(0.0) * c("unused_confidence").fill_null(0.0)).clip(0.0, 1.0),
        lambda cfg: pl.format(
            "{} of {} granted actions unused (weighted ratio {}, confidence {})",
            c("unused_actions"), c("granted_actions"), c("weighted_unused_ratio").round(2), c("unused_confidence").round(2),
        ),
    ),
    Factor(
        "blast_radius",
        "how far a thief of this identity's credentials gets: the blast-radius score / 100",
        lambda cfg: (c("blast_radius_score").fill_null(0.0) / 100.0).clip(0.0, 1.0),
        lambda cfg: pl.format(
            "blast radius {}/100: reaches {} identities and {} sensitive resources",
            c("blast_radius_score").round(1), c("reachable_identities"), c("reachable_sensitive_resources"),
        ),
    ),
    Factor(
        "admin_reach",
        "full control of an account is reachable",
        lambda cfg: _flag(c("can_reach_admin").fill_null(False)),
        lambda cfg: pl.format("can reach admin in {} step(s)", c("hops_to_admin")),
    ),
    Factor(
        "unused_path_to_admin",
        "a delegation or escalation edge never used in the window lies on a path to admin",
        lambda cfg: _flag(c("unused_admin_edges").fill_null(0) > 0),
        lambda cfg: pl.format("{} never-used delegation or escalation edge(s) on its paths to admin", c("unused_admin_edges")),
    ),
    Factor(
        "long_lived_key",
        "an active access key (static, long-lived secret)",
        lambda cfg: _flag(c("long_lived_keys").fill_null(0) > 0),
        lambda cfg: pl.format("{} active long-lived access key(s), oldest {} days", c("long_lived_keys"), c("oldest_key_age_days")),
    ),
    Factor(
        "rotation_overdue",
        "days since a credential was last rotated beyond the rotation period, as a share of that period (capped at 1)",
        lambda cfg: ((c("max_days_since_rotation").fill_null(0) - cfg.rotation_days) / cfg.rotation_days).clip(0.0, 1.0),
        lambda cfg: pl.format("a credential not rotated for {} days (rotate every {})", c("max_days_since_rotation"),
                              pl.lit(cfg.rotation_days)),
    ),
    Factor(
        "no_owner",
        "nobody is named as owner",
        lambda cfg: _flag(~c("has_owner").fill_null(False)),
        lambda cfg: pl.lit("no owner recorded"),
    ),
    Factor(
        "no_expiry",
        "an active token, API key or certificate that never expires",
        lambda cfg: _flag(c("credentials_without_expiry").fill_null(0) > 0),
        lambda cfg: pl.format("{} active credential(s) without expiry", c("credentials_without_expiry")),
    ),
    Factor(
        "dormant",
        "no successful activity for longer than the dormancy period (or never, while watched that long)",
        _dormant,
        lambda cfg: pl.when(c("days_since_last_activity").is_null())
        .then(pl.format("no activity seen in {} observed days", c("observed_days")))
        .otherwise(pl.format("no activity for {} days", c("days_since_last_activity"))),
    ),
    Factor(
        "expiring_soon",
        "a credential expired or expiring within the warning period: an outage waiting to happen",
        lambda cfg: _flag(c("days_to_nearest_expiry") <= cfg.expiring_within_days).fill_null(0.0),
        lambda cfg: pl.when(c("days_to_nearest_expiry") < 0)
        .then(pl.format("a credential expired {} days ago", -c("days_to_nearest_expiry")))
        .otherwise(pl.format("a credential expires in {} days", c("days_to_nearest_expiry"))),
    ),
    Factor(
        "shared_identity",
        "one identity used by several agents",
        lambda cfg: _flag(c("agents_sharing").fill_null(0) > 1),
        lambda cfg: pl.format("used by {} agents", c("agents_sharing")),
    ),
    Factor(
        "human_use",
        "an AI identity also used by people (console sessions)",
        lambda cfg: _flag(c("is_ai").fill_null(False) & (c("console_events").fill_null(0) > 0)),
        lambda cfg: pl.format("{} console event(s) on an AI identity", c("console_events")),
    ),
    Factor(
        "cross_environment",
        "reaches identities of another environment (dev reaching prod)",
        lambda cfg: _flag(c("reaches_other_environments").is_not_null()),
        lambda cfg: pl.format("reaches other environment(s): {}", c("reaches_other_environments")),
    ),
)


def _factor_rows(features: pl.DataFrame, factor: Factor, config: RiskConfig) -> pl.DataFrame:
    weight = float(config.weights[factor.code])
    value = factor.value(config).cast(pl.Float64).round(4)
    return features.select(
        "identity_id",
        pl.lit(factor.code).alias("factor"),
        value.alias("value"),
        pl.lit(weight).alias("weight"),
        (value * weight).round(2).alias("contribution"),
        pl.when(value > 0).then(factor.reason(config)).otherwise(None).alias("reason"),
    )


def _tier(config: RiskConfig) -> pl.Expr:
    expression = pl.lit("low")
    for name, floor in sorted(config.tiers.items(), key=lambda item: item[1]):
        expression = pl.when(c("risk_score") >= floor).then(pl.lit(name)).otherwise(expression)
    return expression


def score_identities(features: pl.DataFrame, config: RiskConfig | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Score every identity of ``features`` (``FEATURE_SCHEMA``).

    Returns ``(identity_risk, risk_factors)``: ``identity_risk`` has ``identity_id,
    risk_score (0–100), risk_tier, top_reasons`` (the reasons of the largest
    contributions, largest first); ``risk_factors`` has one row per identity and
    factor: ``identity_id, factor, value, weight, contribution, reason``.
    """
    config = config or RiskConfig()
    missing = set(FEATURE_SCHEMA) - set(features.columns)
    if missing:
        raise ValueError(f"score_identities: missing feature columns {sorted(missing)}")
    prepared = features.select([pl.col(k).cast(v) for k, v in FEATURE_SCHEMA.items()])
    factors = pl.concat([_factor_rows(prepared, f, config) for f in FACTORS]).sort("identity_id", "factor")
    top = (
        factors.filter(pl.col("contribution") > 0)
        .sort(["identity_id", "contribution", "factor"], descending=[False, True, False])
        .group_by("identity_id", maintain_order=True)
        .agg(pl.col("reason").head(config.top_reasons).alias("top_reasons"))
    )
    risk = (
        factors.group_by("identity_id")
        .agg(pl.col("contribution").sum().clip(0.0, 100.0).round(1).alias("risk_score"))
        .with_columns(_tier(config).alias("risk_tier"))
        .join(top, on="identity_id", how="left")
        .with_columns(pl.col("top_reasons").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .select(list(RISK_SCHEMA))
        .sort(["risk_score", "identity_id"], descending=[True, False])
    )
    return risk, factors.select(list(FACTOR_SCHEMA))
