"""How blast radius is weighed: access levels, sensitivity tiers and the score curve, in one place.

Each service of each account an identity reaches (through any principal it
can become) counts once, at its most damaging reached resource:

    reach_points = sum over reached (service, account) of
                   max over its reached resources of ACCESS_LEVEL_WEIGHTS[level] * TIER_WEIGHTS[tier]
    blast_radius_score = 100                      if full control of an account is reachable
                       = min(99, round(100 * (1 - exp(-reach_points / SCORE_SCALE_POINTS))))  otherwise

so a thousand objects of one bucket weigh what the bucket's worst object
weighs, breadth across services and sensitive resources raise the score, and
only admin reach scores 100. A resource's tier is its own
``sensitivity_tier`` when the resources input gives one, else its service's
default from ``SERVICE_DEFAULT_TIERS``, else ``DEFAULT_TIER``. Service classes
(``service:<svc>:<account>`` nodes) take the service default.
"""

from __future__ import annotations

import math

import polars as pl

from models.iam.catalog import ACCESS_LEVELS
from models.weights import ACCESS_LEVEL_WEIGHTS, UNKNOWN_ACCESS_LEVEL_WEIGHT

SENSITIVITY_TIERS = ("critical", "high", "medium", "low")
SENSITIVE_TIERS = frozenset({"critical", "high"})
TIER_WEIGHTS: dict[str, float] = {"critical": 8.0, "high": 4.0, "medium": 2.0, "low": 1.0}
DEFAULT_TIER = "low"

# Services whose resources are sensitive by nature: identity and account control,
# keys and secrets, audit trails; then the usual data stores and compute.
SERVICE_DEFAULT_TIERS: dict[str, str] = {
    "iam": "critical",
    "organizations": "critical",
    "sso": "critical",
    "identitystore": "critical",
    "kms": "high",
    "secretsmanager": "high",
    "sts": "high",
    "cloudtrail": "high",
    "ssm": "high",
    "acm": "high",
    "s3": "medium",
    "dynamodb": "medium",
    "rds": "medium",
    "redshift": "medium",
    "redshift-data": "medium",
    "athena": "medium",
    "glue": "medium",
    "lambda": "medium",
    "ec2": "medium",
    "ecs": "medium",
    "eks": "medium",
    "cloudformation": "medium",
    "bedrock": "medium",
    "bedrock-agentcore": "medium",
    "sagemaker": "medium",
}

SCORE_SCALE_POINTS = 200.0
ADMIN_SCORE = 100
MAX_NON_ADMIN_SCORE = 99

# Access levels from least to most powerful; a resource counts at the highest reached.
ACCESS_LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(ACCESS_LEVELS)}


def tier_of(sensitivity_tier: str | None, service: str | None) -> str:
    """The effective tier: the resource's own, else its service's default, else ``DEFAULT_TIER``."""
    if sensitivity_tier in TIER_WEIGHTS:
        return sensitivity_tier
    return SERVICE_DEFAULT_TIERS.get(service or "", DEFAULT_TIER)


def access_weight(access_level: str) -> float:
    return ACCESS_LEVEL_WEIGHTS.get(access_level, UNKNOWN_ACCESS_LEVEL_WEIGHT)


def damage(access_level: str, sensitivity_tier: str | None) -> float:
    """What one access edge can do to one resource: its access level's weight times the resource's tier's."""
    return access_weight(access_level) * TIER_WEIGHTS.get(sensitivity_tier, 1.0)


# Every value ``damage`` takes, the worst first.
DAMAGE_VALUES: tuple[float, ...] = tuple(sorted(
    {level * tier for level in {*map(access_weight, ACCESS_LEVELS), UNKNOWN_ACCESS_LEVEL_WEIGHT}
     for tier in {*TIER_WEIGHTS.values(), 1.0}},
    reverse=True,
))


def blast_radius_score(reach_points: float, *, can_reach_admin: bool) -> int:
    if can_reach_admin:
        return ADMIN_SCORE
    return min(MAX_NON_ADMIN_SCORE, round(100 * (1 - math.exp(-reach_points / SCORE_SCALE_POINTS))))


def scoring_weights_frame() -> pl.DataFrame:
    """The weights as rows ``factor, key, weight`` (stored beside the scores, so they explain themselves)."""
    rows = (
        [("access_level", level, access_weight(level)) for level in ACCESS_LEVELS]
        + [("sensitivity_tier", tier, TIER_WEIGHTS[tier]) for tier in SENSITIVITY_TIERS]
        + [("score_scale_points", "", SCORE_SCALE_POINTS)]
    )
    return pl.DataFrame(rows, schema={"factor": pl.String, "key": pl.String, "weight": pl.Float64}, orient="row")
