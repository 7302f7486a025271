"""Risk weights and thresholds: one documented place, defaults here, overridable per run.

The score of an identity is the sum over factors of ``weight × value``, where each
factor's ``value`` is between 0 and 1 and the weights add up to 100, so the score is
between 0 and 100. Tiers cut the score into critical / high / medium / low.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

DEFAULT_WEIGHTS: dict[str, float] = {
    "unused_privilege": 20.0,
    "blast_radius": 15.0,
    "admin_reach": 15.0,
    "unused_path_to_admin": 10.0,
    "long_lived_key": 8.0,
    "rotation_overdue": 7.0,
    "no_owner": 5.0,
    "no_expiry": 4.0,
    "dormant": 4.0,
    "expiring_soon": 3.0,
    "shared_identity": 3.0,
    "human_use": 3.0,
    "cross_environment": 3.0,
}

DEFAULT_TIERS: dict[str, float] = {"critical": 70.0, "high": 45.0, "medium": 20.0}


@dataclass(frozen=True)
class RiskConfig:
    """weights: factor code → points at full value (they add up to 100).
    tiers: lowest score of each tier, highest first; below the last is ``low``.
    rotation_days: a credential not rotated for longer is overdue.
    dormant_days: no successful activity for longer means dormant.
    expiring_within_days: a credential expiring this soon (or expired) is an outage risk.
    top_reasons: how many reasons ``identity_risk.top_reasons`` lists.
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    tiers: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    rotation_days: int = 90
    dormant_days: int = 90
    expiring_within_days: int = 30
    top_reasons: int = 3

    def with_overrides(self, overrides: dict) -> RiskConfig:
        """A copy with the given settings replaced; ``weights`` / ``tiers`` merge key by key.

        Unknown keys or factor codes raise ``ValueError`` naming them, so a typo in a
        run's configuration never silently scores with the defaults.
        """
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown risk settings: {sorted(unknown)}")
        changes = dict(overrides)
        for mapping in ("weights", "tiers"):
            if mapping in changes:
                base = getattr(self, mapping)
                bad = set(changes[mapping]) - set(base)
                if bad:
                    raise ValueError(f"unknown {mapping}: {sorted(bad)}")
                changes[mapping] = base | {k: float(v) for k, v in changes[mapping].items()}
        return replace(self, **changes)

    def tier(self, score: float) -> str:
        for name, floor in sorted(self.tiers.items(), key=lambda item: -item[1]):
            if score >= floor:
                return name
        return "low"
