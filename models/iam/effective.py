"""Effective identity-level grants: what each identity's own policies let it do.

Contract. ``resolve_grants`` evaluates, per identity, the identity-based
policies attached to it (managed, inline, and its groups' policies, as listed
in ``attachments``) and its permissions boundary:

- granted = actions allowed by some identity policy (``Action`` / ``NotAction``
  expanded against the catalog), intersected with the actions the boundary
  allows when the identity has one, minus the actions an unconditional
  explicit ``Deny`` (identity policy or boundary) removes on the whole of the
  grant's resources;
- a ``Deny`` that covers only part of a grant's resources keeps the grant and
  sets ``is_partially_denied``; a ``Deny`` with a ``Condition`` never removes,
  it sets ``has_conditional_deny``; in both cases the Deny rows themselves are
  returned too (``effect = 'Deny'``) so an analyst sees what qualifies the grant;
- a grant with a ``Condition`` (its own, or the boundary statement's) is kept
  with ``is_conditional``;
- resources stay patterns. Where the boundary is narrower than the grant the
  boundary's pattern is returned; where the two only overlap the grant's
  pattern is kept and ``is_boundary_limited`` says the real scope is smaller.

Choices where the pattern arithmetic cannot be exact. Resource comparisons err
towards reporting more privilege, never less: a Deny removes a grant only when
its resources provably contain the grant's (``scope_covers``); otherwise it
marks the grant partially denied if they may overlap. A Deny with
``NotResource`` removes only grants provably outside its exclusions; an Allow
with ``NotResource`` is removed only by a Deny on every resource. A boundary
whose policy is not in ``expanded`` (invalid, or missing from the export) is
ignored rather than read as "allows nothing". When several conditional
boundary statements admit the same grant, one of their conditions is shown.
Any ``via`` other than ``boundary`` is an identity policy.

Not evaluated, by design: condition values (a conditional grant may never
apply, a conditional Deny may always apply); AWS Organizations SCPs and RCPs;
resource-based policies (bucket, key, queue policies may grant more, or deny);
session policies and the session tags of assumed roles; ``NotPrincipal`` and
trust policies (who can become whom is the delegation graph's job); policy
variables in resources; whether a resource actually exists. So ``granted``
over-approximates what an identity can do through its own policies, and says
nothing of access granted to it by resource policies.

Pattern comparisons (does this Deny cover that grant's resources?) are done in
Python, once per distinct pair of resource scopes in the data rather than once
per row, because glob containment is not a Polars expression; everything else
is Polars joins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import polars as pl

from models.iam.patterns import ResourceScope, scope_covers, scope_overlaps
from models.iam.policy import EXPANDED_SCHEMA

BOUNDARY_VIA = "boundary"
GROUP_VIA_PREFIX = "group:"

ATTACHMENTS_SCHEMA = {"identity_id": pl.String, "policy_id": pl.String, "via": pl.String}

GRANTS_SCHEMA = {
    "identity_id": pl.String,
    "action": pl.String,
    "service": pl.String,
    "access_level": pl.String,
    "resource_pattern": pl.String,
    "is_not_resource": pl.Boolean,
    "effect": pl.String,
    "is_conditional": pl.Boolean,
    "condition": pl.String,
    "via": pl.String,
    "policy_id": pl.String,
    "statement_index": pl.Int32,
    "is_partially_denied": pl.Boolean,
    "has_conditional_deny": pl.Boolean,
    "is_boundary_limited": pl.Boolean,
    "boundary_policy_id": pl.String,
    "boundary_condition": pl.String,
}

# A resource scope travels through the joins as one string: '=' + pattern for
# a Resource pattern, '!' + the statement's NotResource patterns joined by SCOPE_SEPARATOR
# (a byte no ARN holds).
SCOPE_SEPARATOR = "\x1f"
_ROW_COLUMNS = [
    "identity_id", "policy_id", "via", "statement_index", "effect", "action", "service", "access_level",
    "scope_key", "is_conditional", "condition",
]


def _scope(key: str) -> ResourceScope:
    return ResourceScope(patterns=tuple(key[1:].split(SCOPE_SEPARATOR)), is_not_resource=key.startswith("!"))


def _boundary_relation(grant_key: str, boundary_key: str) -> str:
    """How a boundary statement's resources relate to a grant's: inside, narrower, overlap or disjoint."""
    grant, boundary = _scope(grant_key), _scope(boundary_key)
    if scope_covers(boundary, grant):
        return "inside"
    if scope_covers(grant, boundary):
        return "narrower"
    return "overlap" if scope_overlaps(grant, boundary) else "disjoint"


def _deny_relation(grant_key: str, deny_key: str) -> str:
    """How a Deny's resources relate to a grant's: covers, overlap or disjoint."""
    grant, deny = _scope(grant_key), _scope(deny_key)
    if scope_covers(deny, grant):
        return "covers"
    return "overlap" if scope_overlaps(grant, deny) else "disjoint"


def _relations(pairs: pl.LazyFrame, left: str, right: str, relate: Callable[[str, str], str]) -> pl.LazyFrame:
    """``left, right, relation`` for each distinct pair of scope keys in ``pairs``."""
    distinct = pairs.select(left, right).unique().collect()
    relation = [relate(a, b) for a, b in distinct.iter_rows()]
    return distinct.with_columns(relation=pl.Series(relation, dtype=pl.String)).lazy()


def _scoped_rows(expanded: pl.DataFrame) -> pl.LazyFrame:
    """Expanded rows with one ``scope_key`` per grant: a NotResource statement's rows become one."""
    rows = expanded.lazy().drop("sid")
    plain = rows.filter(~pl.col("is_not_resource")).with_columns(scope_key=pl.lit("=") + pl.col("resource_pattern"))
    negated = rows.filter(pl.col("is_not_resource"))
    not_scopes = negated.group_by("policy_id", "statement_index").agg(
        scope_key=pl.lit("!") + pl.col("resource_pattern").unique().sort().str.join(SCOPE_SEPARATOR)
    )
    negated = (
        negated.join(not_scopes, on=["policy_id", "statement_index"])
        .unique(subset=["policy_id", "statement_index", "action"], maintain_order=True)
    )
    return pl.concat([plain, negated]).drop("resource_pattern", "is_not_resource")


def _bounded_identities(attachments: pl.LazyFrame, expanded: pl.DataFrame) -> pl.LazyFrame:
    # A boundary whose document is not in `expanded` (invalid, or not exported)
    # is ignored rather than read as "allows nothing": over-report, never hide.
    known = expanded.lazy().select("policy_id").unique()
    return (
        attachments.filter(pl.col("via") == BOUNDARY_VIA)
        .join(known, on="policy_id", how="semi")
        .select("identity_id")
        .unique()
    )


def _intersect_boundaries(allows: pl.LazyFrame, boundary_allows: pl.LazyFrame, bounded: pl.LazyFrame) -> pl.LazyFrame:
    """Allow rows limited to what each identity's boundary allows (identities without one unchanged)."""
    unbounded = allows.join(bounded, on="identity_id", how="anti").with_columns(
        is_boundary_limited=pl.lit(False),
        boundary_policy_id=pl.lit(None, dtype=pl.String),
        boundary_condition=pl.lit(None, dtype=pl.String),
    )
    limits = boundary_allows.select(
        "identity_id",
        "action",
        boundary_scope_key="scope_key",
        boundary_policy_id="policy_id",
        is_boundary_conditional="is_conditional",
        boundary_condition="condition",
    )
    pairs = (
        allows.join(bounded, on="identity_id", how="semi")
        .collect()
        .with_row_index("allow_row")
        .lazy()
        .join(limits, on=["identity_id", "action"])
    )
    pairs = pairs.join(_relations(pairs, "scope_key", "boundary_scope_key", _boundary_relation),
                       on=["scope_key", "boundary_scope_key"])
    relation = pl.col("relation")
    # One unconditional boundary statement containing the whole grant says all there is to say.
    is_whole = (relation == "inside") & ~pl.col("is_boundary_conditional")
    bounded_rows = (
        pairs.filter((relation != "disjoint") & (is_whole | ~is_whole.any().over("allow_row")))
        .with_columns(
            scope_key=pl.when(relation == "narrower").then("boundary_scope_key").otherwise("scope_key"),
            is_boundary_limited=relation == "overlap",
            is_conditional=pl.col("is_conditional") | pl.col("is_boundary_conditional"),
            boundary_condition=pl.when(pl.col("is_boundary_conditional")).then("boundary_condition"),
        )
        .sort("allow_row", "boundary_policy_id", "boundary_scope_key", "boundary_condition", nulls_last=False)
        .unique(subset=["allow_row", "scope_key", "is_boundary_limited", "is_conditional"], keep="first",
                maintain_order=True)
        .drop("allow_row", "boundary_scope_key", "is_boundary_conditional", "relation")
    )
    return pl.concat([unbounded, bounded_rows], how="diagonal")


def _apply_denies(allows: pl.DataFrame, denies: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Allow rows left after explicit Denies, flagged; and the Deny rows that qualify a surviving one."""
    allows = allows.with_row_index("allow_row")
    denies = denies.with_row_index("deny_row")
    pairs = (
        allows.lazy()
        .select("allow_row", "identity_id", "action", "scope_key")
        .join(
            denies.lazy().select("deny_row", "identity_id", "action", "is_conditional", deny_scope_key="scope_key"),
            on=["identity_id", "action"],
        )
        .collect()
        .lazy()
    )
    pairs = (
        pairs.join(_relations(pairs, "scope_key", "deny_scope_key", _deny_relation), on=["scope_key", "deny_scope_key"])
        .filter(pl.col("relation") != "disjoint")
        .collect()
    )
    unconditional = ~pl.col("is_conditional")
    flags = pairs.group_by("allow_row").agg(
        is_removed=((pl.col("relation") == "covers") & unconditional).any(),
        is_partially_denied=((pl.col("relation") == "overlap") & unconditional).any(),
        has_conditional_deny=pl.col("is_conditional").any(),
    )
    surviving = (
        allows.join(flags, on="allow_row", how="left")
        .with_columns(pl.col("is_removed", "is_partially_denied", "has_conditional_deny").fill_null(False))
        .filter(~pl.col("is_removed"))
    )
    qualifying = pairs.join(surviving.select("allow_row"), on="allow_row", how="semi").select("deny_row").unique()
    kept_denies = denies.join(qualifying, on="deny_row", how="semi").with_columns(
        is_partially_denied=pl.lit(False),
        has_conditional_deny=pl.lit(False),
        is_boundary_limited=pl.lit(False),
        boundary_policy_id=pl.lit(None, dtype=pl.String),
        boundary_condition=pl.lit(None, dtype=pl.String),
    )
    return surviving.drop("allow_row", "is_removed"), kept_denies.drop("deny_row")


def _grant_rows(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Scope keys back to one row per resource pattern, in the ``GRANTS_SCHEMA`` layout."""
    return (
        rows.with_columns(
            is_not_resource=pl.col("scope_key").str.starts_with("!"),
            resource_pattern=pl.col("scope_key").str.slice(1).str.split(SCOPE_SEPARATOR),
        )
        .explode("resource_pattern")
        .select([pl.col(name).cast(dtype) for name, dtype in GRANTS_SCHEMA.items()])
    )


def resolve_grants(expanded: pl.DataFrame, attachments: pl.DataFrame) -> pl.DataFrame:
    """The ``core.grants`` rows of every identity in ``attachments``.

    ``expanded``: the output of ``expand_policies``. ``attachments``:
    ``identity_id, policy_id, via`` with ``via`` one of ``managed``,
    ``inline``, ``group:<group arn>`` (a policy of a group the identity is in;
    see ``with_group_policies``) or ``boundary``.

    Returns ``GRANTS_SCHEMA`` rows, sorted: the surviving Allow rows, one per
    (identity, attachment, statement, action, resource pattern), and the Deny
    rows that qualify one of them. Rows of one ``NotResource`` statement
    (``is_not_resource``) are read together, as in ``expand_policies``.
    See the module docstring for what is and is not evaluated.
    """
    attached = attachments.lazy().select(list(ATTACHMENTS_SCHEMA)).unique()
    rows = attached.join(_scoped_rows(expanded.select(list(EXPANDED_SCHEMA))), on="policy_id").select(_ROW_COLUMNS)
    is_boundary = pl.col("via") == BOUNDARY_VIA
    is_allow = pl.col("effect") == "Allow"
    allows = _intersect_boundaries(
        rows.filter(~is_boundary & is_allow),
        rows.filter(is_boundary & is_allow),
        _bounded_identities(attached, expanded),
    ).collect()
    denies = rows.filter(~is_allow).collect()
    surviving, kept_denies = _apply_denies(allows, denies)
    return (
        _grant_rows(pl.concat([surviving.lazy(), kept_denies.lazy()], how="diagonal"))
        .sort("identity_id", "action", "effect", "policy_id", "statement_index", "via", "resource_pattern")
        .collect()
    )


# Identities are resolved a batch at a time, a batch about this many rows of their policies' expansion (an
# identity's rows stay together however many): memory follows the batch, not the organisation.
GRANT_BATCH_ROWS = 500_000


def resolve_grants_in_batches(
    expanded: pl.DataFrame, attachments: pl.DataFrame, max_rows: int = GRANT_BATCH_ROWS
) -> Iterator[pl.DataFrame]:
    """``resolve_grants`` a contiguous range of identities at a time, in identity order: the frames, one after
    the other, are ``resolve_grants(expanded, attachments)`` (its rows are sorted by identity first, and each
    identity's grants depend on its own attachments only). At least one frame, empty when nothing is granted."""
    def expansion_of(policies: list[str] | None) -> pl.DataFrame:
        return expanded if policies is None else expanded.filter(pl.col("policy_id").is_in(policies))

    return resolve_batches(policy_row_counts(expanded), attachments, expansion_of, max_rows)


def resolve_batches(rows_of_policy: pl.DataFrame, attachments: pl.DataFrame,
                    expansion_of: Callable[[list[str] | None], pl.DataFrame],
                    max_rows: int = GRANT_BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """``resolve_grants_in_batches`` with the expansion asked for a batch's policies at a time:
    ``expansion_of(policy ids)`` gives their rows in expansion order, ``expansion_of(None)`` every row."""
    batches = grant_batches(rows_of_policy, attachments, max_rows)
    if not batches:
        yield resolve_grants(expansion_of(None), attachments)
        return
    for batch in batches:
        yield resolve_grants(expansion_of(batch["policy_id"].unique().to_list()), batch)


def policy_row_counts(expanded: pl.DataFrame) -> pl.DataFrame:
    """``policy_id, rows``: how many rows each policy expands to (what ``grant_batches`` weighs identities by)."""
    return expanded.group_by("policy_id").agg(rows=pl.len())


def grant_batches(rows_of_policy: pl.DataFrame, attachments: pl.DataFrame, max_rows: int = GRANT_BATCH_ROWS
                  ) -> list[pl.DataFrame]:
    """``attachments`` cut into runs of sorted identities whose policies expand to about ``max_rows`` rows each
    (an identity's attachments stay together however many); empty when there are none."""
    sizes = (
        attachments.select("identity_id", "policy_id").unique()
        .join(rows_of_policy, on="policy_id", how="left")
        .group_by("identity_id")
        .agg(rows=pl.col("rows").fill_null(0).sum())
        .sort("identity_id")
        .with_columns(batch=(pl.col("rows").cum_sum() - pl.col("rows")) // max(max_rows, 1))
    )
    batch_of = attachments.join(sizes.select("identity_id", "batch"), on="identity_id", maintain_order="left")
    return batch_of.sort("batch", maintain_order=True).partition_by("batch", maintain_order=True, include_key=False)


def with_group_policies(attachments: pl.DataFrame, memberships: pl.DataFrame) -> pl.DataFrame:
    """``attachments`` plus, for each member of a group, the group's policies as ``via = 'group:<group id>'``.

    ``memberships``: ``identity_id, group_id``. A group's own attachments are
    rows of ``attachments`` whose ``identity_id`` is the group id; they stay in
    the result (a group's grants are worth seeing on their own). Groups' boundaries
    do not exist in IAM, so a ``boundary`` row of a group is not inherited.
    """
    group_policies = attachments.filter(pl.col("via") != BOUNDARY_VIA).select(
        group_id="identity_id", policy_id="policy_id"
    )
    inherited = memberships.join(group_policies, on="group_id").select(
        "identity_id", "policy_id", via=pl.lit(GROUP_VIA_PREFIX) + pl.col("group_id")
    )
    return pl.concat([attachments.select(list(ATTACHMENTS_SCHEMA)), inherited]).unique(maintain_order=True)
