"""Risk scores on hand-built features: exact contributions, tiers, reasons, overrides."""

import polars as pl
import pytest

from models.risk.config import DEFAULT_WEIGHTS, RiskConfig
from models.risk.factors import FACTORS, FEATURE_SCHEMA, score_identities

NEUTRAL = {
    "is_ai": True,
    "granted_actions": 10,
    "unused_actions": 0,
    "weighted_unused_ratio": 0.0,
    "unused_confidence": 1.0,
    "blast_radius_score": 0.0,
    "reachable_identities": 0,
    "reachable_sensitive_resources": 0,
    "can_reach_admin": False,
    "hops_to_admin": None,
    "unused_admin_edges": 0,
    "long_lived_keys": 0,
    "oldest_key_age_days": None,
    "max_days_since_rotation": None,
    "credentials_without_expiry": 0,
    "days_to_nearest_expiry": None,
    "has_owner": True,
    "days_since_last_activity": 1,
    "observed_days": 90,
    "agents_sharing": 1,
    "console_events": 0,
    "reaches_other_environments": None,
}


def features(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame([NEUTRAL | row for row in rows], schema=FEATURE_SCHEMA)


def contributions(factors: pl.DataFrame, identity_id: str) -> dict[str, float]:
    rows = factors.filter((pl.col("identity_id") == identity_id) & (pl.col("contribution") > 0))
    return dict(rows.select("factor", "contribution").iter_rows())


def test_weights_cover_every_factor_and_sum_to_100():
    assert {f.code for f in FACTORS} == set(DEFAULT_WEIGHTS)
    assert sum(DEFAULT_WEIGHTS.values()) == 100.0


def test_a_well_kept_identity_scores_zero():
    risk, factors = score_identities(features({"identity_id": "tidy"}))
    assert risk.row(0, named=True) == {"identity_id": "tidy", "risk_score": 0.0, "risk_tier": "low", "top_reasons": []}
    assert factors.height == len(FACTORS)


def test_each_factor_contributes_its_weight_times_its_value():
    risk, factors = score_identities(
        features(
            {
                "identity_id": "messy",
                "unused_actions": 9,
                "weighted_unused_ratio": 0.9,
                "unused_confidence": 0.5,
                "blast_radius_score": 40.0,
                "reachable_identities": 3,
                "can_reach_admin": True,
                "hops_to_admin": 2,
                "unused_admin_edges": 1,
                "long_lived_keys": 1,
                "oldest_key_age_days": 400,
                "max_days_since_rotation": 135,
                "has_owner": False,
                "days_to_nearest_expiry": 10,
                "console_events": 3,
            }
        )
    )
    assert contributions(factors, "messy") == {
        "unused_privilege": 9.0,  # 20 × 0.9 × 0.5
        "blast_radius": 6.0,  # 15 × 0.4
        "admin_reach": 15.0,
        "unused_path_to_admin": 10.0,
        "long_lived_key": 8.0,
        "rotation_overdue": 3.5,  # 7 × (135 − 90) / 90
        "no_owner": 5.0,
        "expiring_soon": 3.0,
        "human_use": 3.0,
    }
    row = risk.row(0, named=True)
    assert row["risk_score"] == 62.5
    assert row["risk_tier"] == "high"
    assert row["top_reasons"] == [
        "can reach admin in 2 step(s)",
        "1 never-used delegation or escalation edge(s) on its paths to admin",
        "9 of 10 granted actions unused (weighted ratio 0.9, confidence 0.5)",
    ]


@pytest.mark.parametrize(
    ("row", "factor", "reason"),
    [
        ({"days_since_last_activity": 120}, "dormant", "no activity for 120 days"),
        ({"days_since_last_activity": None, "observed_days": 90}, "dormant", "no activity seen in 90 observed days"),
        ({"agents_sharing": 3}, "shared_identity", "used by 3 agents"),
        ({"credentials_without_expiry": 2}, "no_expiry", "2 active credential(s) without expiry"),
        ({"days_to_nearest_expiry": -4}, "expiring_soon", "a credential expired 4 days ago"),
        ({"reaches_other_environments": "prod"}, "cross_environment", "reaches other environment(s): prod"),
    ],
)
def test_governance_and_hygiene_factors(row, factor, reason):
    _, factors = score_identities(features({"identity_id": "x", **row}))
    fired = factors.filter(pl.col("contribution") > 0)
    assert fired.select("factor", "reason").rows() == [(factor, reason)]
    assert fired["contribution"].item() == DEFAULT_WEIGHTS[factor]


def test_an_identity_not_watched_long_enough_is_not_called_dormant():
    _, factors = score_identities(features({"identity_id": "new", "days_since_last_activity": None, "observed_days": 10}))
    assert contributions(factors, "new") == {}


def test_console_use_counts_as_human_use_only_for_ai_identities():
    _, factors = score_identities(features({"identity_id": "person", "is_ai": False, "console_events": 40}))
    assert contributions(factors, "person") == {}


def test_overrides_change_weights_and_thresholds_per_run():
    config = RiskConfig().with_overrides({"weights": {"no_owner": 30}, "tiers": {"medium": 25}, "rotation_days": 30})
    risk, factors = score_identities(
        features({"identity_id": "x", "has_owner": False, "max_days_since_rotation": 45}), config
    )
    assert contributions(factors, "x") == {"no_owner": 30.0, "rotation_overdue": 3.5}
    assert risk.row(0, named=True)["risk_tier"] == "medium"


@pytest.mark.parametrize("overrides", [{"weight": {}}, {"weights": {"no_such_factor": 1}}, {"tiers": {"extreme": 90}}])
def test_unknown_overrides_are_refused(overrides):
    with pytest.raises(ValueError, match="unknown"):
        RiskConfig().with_overrides(overrides)
