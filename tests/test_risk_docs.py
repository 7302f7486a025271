"""The published formula is the one the code computes: docs/risk.md lists every factor with its default weight."""

import re
from pathlib import Path

from models.graph.scoring import SCORE_SCALE_POINTS, TIER_WEIGHTS
from models.risk.config import DEFAULT_TIERS, RiskConfig
from models.risk.factors import FACTORS
from models.weights import ACCESS_LEVEL_WEIGHTS

DOC = (Path(__file__).resolve().parents[1] / "docs" / "risk.md").read_text()


def test_every_factor_is_published_with_its_default_weight():
    published = dict(re.findall(r"^\| `([a-z_]+)` \| (\d+(?:\.\d+)?) \|", DOC, flags=re.M))
    assert {code: float(w) for code, w in published.items()} == RiskConfig().weights
    assert [f.code for f in FACTORS] == list(published)


def test_thresholds_tiers_and_blast_radius_constants_match_the_code():
    config = RiskConfig()
    assert f"`rotation_days` {config.rotation_days}, `dormant_days` {config.dormant_days}, " \
           f"`expiring_within_days` {config.expiring_within_days}" in DOC
    assert f"`critical` from {DEFAULT_TIERS['critical']:g}, `high` from {DEFAULT_TIERS['high']:g}, " \
           f"`medium` from {DEFAULT_TIERS['medium']:g}" in DOC
    assert f"exp(−reach_points / {SCORE_SCALE_POINTS:g})" in DOC
    assert ", ".join(f"{k} {v:g}" for k, v in TIER_WEIGHTS.items()) in DOC
    levels = ", ".join(f"{k} {v:g}" for k, v in ACCESS_LEVEL_WEIGHTS.items())
    assert levels in DOC
