"""What a proposed policy changes against today's grant, compactly enough for a report.

``policy_diff`` compares the actions an identity is granted today with a
``ProposedPolicy``: what is removed (counted per service and access level,
not listed: an administrator loses tens of thousands of actions), what is
kept (listed), and where a kept action's resources are narrowed.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from models.iam.catalog import ACCESS_LEVELS, action_key, catalog_frame
from models.rightsizing.policy import ProposedPolicy

_UNKNOWN_LEVEL = "Unknown"


@dataclass(frozen=True)
class ServiceRemoval:
    """The granted actions of one service that the proposal drops.

    service: IAM prefix.
    removed_actions: how many.
    removed_by_access_level: ``(access_level, count)`` in ``ACCESS_LEVELS``
        order, levels with none left out.
    is_whole_service: the proposal keeps no action of the service.
    """

    service: str
    removed_actions: int
    removed_by_access_level: tuple[tuple[str, int], ...]
    is_whole_service: bool

    def to_dict(self) -> dict:
        return {
            "service": self.service,
            "removed_actions": self.removed_actions,
            "removed_by_access_level": dict(self.removed_by_access_level),
            "is_whole_service": self.is_whole_service,
        }


@dataclass(frozen=True)
class ScopeChange:
    """A kept action whose resources change.

    action: the action.
    granted_resources: today's ``Resource`` patterns (sorted).
    proposed_resources: the proposal's (sorted).
    """

    action: str
    granted_resources: tuple[str, ...]
    proposed_resources: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "granted_resources": list(self.granted_resources),
            "proposed_resources": list(self.proposed_resources),
        }


@dataclass(frozen=True)
class PolicyDiff:
    """A proposal against today's grant.

    identity_id: whose.
    granted_actions / proposed_actions / removed_actions: counts.
    removed_by_service: per service that loses actions, sorted by service.
    kept_actions: the actions both grant, sorted.
    narrowed_scopes: kept actions whose resources change, sorted by action.
    """

    identity_id: str
    granted_actions: int
    proposed_actions: int
    removed_actions: int
    removed_by_service: tuple[ServiceRemoval, ...]
    kept_actions: tuple[str, ...]
    narrowed_scopes: tuple[ScopeChange, ...]

    def to_dict(self) -> dict:
        """Plain JSON-able values, stable key order."""
        return {
            "identity_id": self.identity_id,
            "granted_actions": self.granted_actions,
            "proposed_actions": self.proposed_actions,
            "removed_actions": self.removed_actions,
            "removed_by_service": [r.to_dict() for r in self.removed_by_service],
            "kept_actions": list(self.kept_actions),
            "narrowed_scopes": [c.to_dict() for c in self.narrowed_scopes],
        }


def proposed_resources(document: dict) -> dict[str, tuple[str, ...]]:
    """Action key -> sorted resources, over the Allow statements of a proposal's document."""
    resources: dict[str, set[str]] = {}
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow" or "Resource" not in statement:
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        patterns = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            resources.setdefault(action_key(action), set()).update(patterns)
    return {key: tuple(sorted(values)) for key, values in resources.items()}


def _level_counts(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    order = (*ACCESS_LEVELS, _UNKNOWN_LEVEL)
    return tuple((level, counts[level]) for level in order if counts.get(level))


_GRANTED_COLUMNS = ("identity_id", "action", "service", "access_level", "resource_patterns")


def _granted_rows(granted_usage: pl.DataFrame) -> pl.DataFrame:
    """``identity_id, action, _key, service, access_level, resource_patterns`` per identity and granted action;
    service and level from the frame where it has them, else from the catalog. ``granted_usage`` holds a row
    per identity and action, as the usage mart does (made unique here, a million rows took a third of a GiB
    more)."""
    # the columns read, taken before the filter copies rows: the usage mart's rows have a dozen more
    frame = granted_usage.select(c for c in (*_GRANTED_COLUMNS, "is_granted") if c in granted_usage.columns)
    if "is_granted" in frame.columns:
        frame = frame.filter(pl.col("is_granted"))
    missing = {"service": pl.String, "access_level": pl.String, "resource_patterns": pl.List(pl.String)}
    frame = frame.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in missing.items() if c not in frame.columns)
    frame = frame.with_columns(_key=pl.col("action").str.to_lowercase())
    if frame.select(pl.col("service").is_null().any() | pl.col("access_level").is_null().any()).item():
        # only a frame missing some service or level needs the catalog (the usage mart's rows rarely do)
        catalog = catalog_frame().select(
            pl.col("action_key").alias("_key"), pl.col("service").alias("_service"),
            pl.col("access_level").alias("_access_level"),
        )
        frame = frame.join(catalog, on="_key", how="left").with_columns(
            service=pl.coalesce("service", "_service"), access_level=pl.coalesce("access_level", "_access_level")
        )
    return (
        frame.select(
            "identity_id",
            "action",
            "_key",
            pl.coalesce("service", pl.col("action").str.split(":").list.first()).alias("service"),
            pl.when(pl.col("access_level").is_null() | (pl.col("access_level") == ""))
            .then(pl.lit(_UNKNOWN_LEVEL)).otherwise(pl.col("access_level")).alias("access_level"),
            "resource_patterns",
        )
    )


def _kept_frame(proposals: dict[str, ProposedPolicy]) -> pl.DataFrame:
    """``identity_id, _key`` of every action a proposal allows."""
    ids, keys = [], []
    for identity_id, proposal in proposals.items():
        actions = {action_key(a) for a in proposal.actions}
        ids.extend([identity_id] * len(actions))
        keys.extend(actions)
    return pl.DataFrame({"identity_id": ids, "_key": keys, "_is_kept": [True] * len(ids)},
                        schema={"identity_id": pl.String, "_key": pl.String, "_is_kept": pl.Boolean})


def _removals(dropped: dict[str, dict[str, int]], kept_services: set[str]) -> tuple[ServiceRemoval, ...]:
    """One identity's removed actions (``{service: {access_level: count}}``) per service, sorted by service."""
    return tuple(
        ServiceRemoval(service, sum(levels.values()), _level_counts(levels), service not in kept_services)
        for service, levels in sorted(dropped.items())
    )


def _narrowed(kept: list[tuple], scopes: dict[str, tuple[str, ...]]) -> tuple[ScopeChange, ...]:
    """Kept actions (``action, _key, service, resource_patterns``, by action) whose proposed resources are not
    today's patterns."""
    changes = []
    for action, key, _, patterns in kept:
        before = tuple(sorted(set(patterns or ())))
        after = scopes.get(key, ())
        if before and after != before:
            changes.append(ScopeChange(action, before, after))
    return tuple(changes)


def _dropped_by_identity(granted: pl.DataFrame) -> dict[str, dict[str, dict[str, int]]]:
    """``{identity_id: {service: {access_level: removed actions}}}`` of the granted rows not kept."""
    dropped: dict[str, dict[str, dict[str, int]]] = {}
    for identity_id, service, level, count in (
        granted.filter(~pl.col("_is_kept")).group_by("identity_id", "service", "access_level").len().iter_rows()
    ):
        dropped.setdefault(identity_id, {}).setdefault(service, {})[level] = count
    return dropped


def _kept_by_identity(granted: pl.DataFrame) -> dict[str, list[tuple]]:
    """The kept rows (``action, _key, service, resource_patterns``, by action) of each identity."""
    kept: dict[str, list[tuple]] = {}
    for identity_id, *row in granted.filter(pl.col("_is_kept")).sort("identity_id", "action").select(
        "identity_id", "action", "_key", "service", "resource_patterns"
    ).iter_rows():
        kept.setdefault(identity_id, []).append(row)
    return kept


def policy_diffs(granted_usage: pl.DataFrame, proposals: dict[str, ProposedPolicy]) -> dict[str, PolicyDiff]:
    """``policy_diff`` of every proposal (``{identity_id: ProposedPolicy}``) against its identity's rows of
    ``granted_usage`` (as ``policy_diff``'s frame, with ``identity_id``), at once: the granted actions are
    sorted into kept and removed in one frame (an administrator is granted tens of thousands), and only the
    removed counts and the kept actions come to Python."""
    granted = _granted_rows(granted_usage).join(
        _kept_frame(proposals), on=["identity_id", "_key"], how="left"
    ).with_columns(pl.col("_is_kept").fill_null(False))
    granted_counts = dict(granted.group_by("identity_id").len().iter_rows())
    dropped, kept = _dropped_by_identity(granted), _kept_by_identity(granted)
    diffs = {}
    for identity_id, proposal in proposals.items():
        own_kept = kept.get(identity_id, [])
        removals = _removals(dropped.get(identity_id, {}), {service for _, _, service, _ in own_kept})
        diffs[identity_id] = PolicyDiff(
            identity_id=identity_id,
            granted_actions=granted_counts.get(identity_id, 0),
            proposed_actions=len(proposal.actions),
            removed_actions=sum(r.removed_actions for r in removals),
            removed_by_service=removals,
            kept_actions=tuple(action for action, *_ in own_kept),
            narrowed_scopes=_narrowed(own_kept, proposed_resources(proposal.document)),
        )
    return diffs


def policy_diff(current_granted_actions: pl.DataFrame, proposed: ProposedPolicy) -> PolicyDiff:
    """The changes ``proposed`` makes to an identity's grant.

    current_granted_actions: the identity's rows of
        ``marts.identity_action_usage`` (only ``is_granted`` rows are read), or
        any frame with ``action`` and optionally ``service, access_level,
        resource_patterns`` (one row per granted action).
    A kept action's scope counts as narrowed when its proposed resources differ
    from today's patterns (actions granted only through ``NotResource`` have no
    patterns and are not compared).
    """
    own = current_granted_actions.with_columns(identity_id=pl.lit(proposed.identity_id, dtype=pl.String))
    return policy_diffs(own, {proposed.identity_id: proposed})[proposed.identity_id]
