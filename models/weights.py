"""Weights and thresholds in one place: how much an unused action of each access level counts."""

from __future__ import annotations

import polars as pl

# An unused Permissions-management action can hand out everything else; an unused List action reveals names.
ACCESS_LEVEL_WEIGHTS: dict[str, float] = {
    "List": 1.0,
    "Read": 2.0,
    "Tagging": 2.0,
    "Write": 4.0,
    "Permissions management": 8.0,
}
UNKNOWN_ACCESS_LEVEL_WEIGHT = 4.0

# unused_confidence at or above these levels reads as high / medium, below as low.
CONFIDENCE_LEVELS = {"high": 0.8, "medium": 0.5}


def access_level_weights_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {"access_level": list(ACCESS_LEVEL_WEIGHTS), "weight": list(ACCESS_LEVEL_WEIGHTS.values())},
        schema={"access_level": pl.String, "weight": pl.Float64},
    )
