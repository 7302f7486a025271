"""What the permission graph reads of ``core.grants``, made small before the graph sees it.

An organisation's grants run to millions of rows (every action a broad policy
expands to); the graph needs far less of them:

- ``rule_rows``: the rows of the actions the graph asks about (trust,
  pass-role, the escalation rules), Allow and Deny, for ``build_capabilities``;
- ``full_access``: ``identity_id, is_conditional`` of those allowed every
  catalog action on every resource (``full_access_identities``);
- ``attached``: ``identity_id, policy_id`` of the customer-managed policies
  granting them something (the ``attached_policy`` escalation rule);
- ``scopes``: one row per Allow scope (``identity_id, service, scope_key,
  level_rank, is_conditional``): the highest access level of its actions, and
  whether every grant behind it is conditional (the CAN_ACCESS edges).

Each part depends on one identity's rows only, so a summary of all grants is
the summaries of batches of identities put together (``combine``): memory
follows a batch, not the organisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from models.graph.capabilities import full_access_identities
from models.graph.escalation import available_rules, rule_actions
from models.graph.scoring import ACCESS_LEVEL_RANK
from models.graph.trust import ASSUME_ROLE
from models.iam.catalog import action_key
from models.iam.effective import GRANTS_SCHEMA, SCOPE_SEPARATOR

# The columns of ``core.grants`` the summary reads: a caller holding grants for the graph reads no others.
GRANT_COLUMNS = ("identity_id", "action", "service", "access_level", "resource_pattern", "is_not_resource", "effect",
                 "is_conditional", "via", "policy_id", "statement_index", "has_conditional_deny")

# What ``build_capabilities`` reads of a rule row.
_RULE_COLUMNS = ["identity_id", "action", "effect", "policy_id", "statement_index", "via", "is_not_resource",
                 "is_conditional", "resource_pattern"]
_CUSTOMER_POLICY_PREFIX = r"^arn:aws[\w-]*:iam::\d{12}:policy/"

FULL_ACCESS_SCHEMA = {"identity_id": pl.String, "is_conditional": pl.Boolean}


@dataclass(frozen=True)
class GrantSummary:
    """See the module docstring; every frame sorted by identity."""

    rule_rows: pl.DataFrame
    full_access: pl.DataFrame
    attached: pl.DataFrame
    scopes: pl.DataFrame

    def full_access_by_identity(self) -> dict[str, bool]:
        return dict(self.full_access.iter_rows())

    def attached_by_identity(self) -> dict[str, tuple[str, ...]]:
        grouped = self.attached.group_by("identity_id", maintain_order=True).agg("policy_id")
        return {i: tuple(p) for i, p in grouped.iter_rows()}

    def _frames(self) -> tuple[pl.DataFrame, ...]:
        return self.rule_rows, self.full_access, self.attached, self.scopes


def graph_actions() -> list[str]:
    """Action keys the graph asks capabilities about: the escalation rules' and ``sts:AssumeRole``."""
    return sorted({action_key(a) for a in rule_actions(available_rules()) | {ASSUME_ROLE}})


def summarize_grants(grants: pl.DataFrame) -> GrantSummary:
    """The graph's summary of ``core.grants`` rows (``GRANT_COLUMNS`` are read)."""
    rule_rows = grants.select(_RULE_COLUMNS).filter(pl.col("action").str.to_lowercase().is_in(graph_actions()))
    full = full_access_identities(grants)
    return GrantSummary(
        rule_rows=_detached(rule_rows),
        full_access=pl.DataFrame({"identity_id": list(full), "is_conditional": list(full.values())},
                                 schema=FULL_ACCESS_SCHEMA),
        attached=_detached(_attached_policies(grants)),
        scopes=_detached(_allow_scopes(grants)),
    )


def _detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy holding its own strings only. A frame filtered or grouped from a batch keeps views into the whole
    batch's string buffers, so each summary kept would hold its batch alive (about 0.2 GiB per million rows)."""
    return pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()), schema=frame.schema)


def combine(parts: Iterable[GrantSummary]) -> GrantSummary:
    """Summaries of disjoint sets of identities, as one (the summary of all their grants)."""
    parts = list(parts)
    if not parts:
        return summarize_grants(pl.DataFrame(schema={c: GRANTS_SCHEMA[c] for c in GRANT_COLUMNS}))
    frames = zip(*(p._frames() for p in parts))
    return GrantSummary(*(pl.concat(list(f), how="vertical_relaxed").sort("identity_id", maintain_order=True)
                          for f in frames))


def _attached_policies(grants: pl.DataFrame) -> pl.DataFrame:
    return (
        grants.lazy()
        .filter((pl.col("effect") == "Allow") & pl.col("policy_id").str.contains(_CUSTOMER_POLICY_PREFIX))
        .select("identity_id", "policy_id")
        .unique()
        .sort("identity_id", "policy_id")
        .collect()
    )


def _allow_scopes(grants: pl.DataFrame) -> pl.DataFrame:
    """One row per Allow scope: a ``Resource`` pattern is ``=p``; a ``NotResource`` statement's rows are one
    scope ``!p1<SEP>p2``. An edge keeps the highest level and whether every grant behind it is conditional, so
    one row per scope says as much as one per action: a broad grant would otherwise meet every resource of its
    service once per action."""
    ranks = pl.DataFrame({"access_level": list(ACCESS_LEVEL_RANK), "level_rank": list(ACCESS_LEVEL_RANK.values())},
                         schema={"access_level": pl.String, "level_rank": pl.Int32}).lazy()
    allows = (
        grants.lazy()
        .filter(pl.col("effect") == "Allow")
        .with_columns(pl.col("is_not_resource", "is_conditional").fill_null(False))
        .join(ranks, on="access_level", how="left")
        .with_columns(pl.col("level_rank").fill_null(ACCESS_LEVEL_RANK["Write"]))
    )
    plain = allows.filter(~pl.col("is_not_resource")).with_columns(scope_key=pl.lit("=") + pl.col("resource_pattern"))
    negated = (
        allows.filter(pl.col("is_not_resource"))
        .group_by("identity_id", "policy_id", "statement_index", "via", "action", "service", "level_rank",
                  "is_conditional")
        .agg(scope_key=pl.lit("!") + pl.col("resource_pattern").unique().sort().str.join(SCOPE_SEPARATOR))
    )
    columns = ["identity_id", "service", "scope_key", "level_rank", "is_conditional"]
    return (
        pl.concat([plain.select(columns), negated.select(columns)])
        .group_by("identity_id", "service", "scope_key")
        .agg(level_rank=pl.col("level_rank").max(), is_conditional=pl.col("is_conditional").all())
        .sort("identity_id", "service", "scope_key")
        .collect()
    )
