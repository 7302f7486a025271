"""Replay check: would a proposed policy have allowed every call the identity made?

Each successful call of the window is evaluated against the proposed document
with our own IAM semantics (``models.iam.policy.expand_policies`` for the
actions, ``models.iam.patterns.resource_matches`` for the resources): a call
is allowed when some ``Allow`` statement names its action and matches its
resource, and no unconditional ``Deny`` does. A correct proposal denies none.

How a call's resource is read:

- null (the log named no ARN): only the action is checked, i.e. the call is
  allowed when some ``Allow`` statement names the action at all; a ``Deny``
  applies only when its resources match ``*``;
- an ARN that is not of one of the action's resource types (the bucket beside
  an object, the role in ``CreateFunction``'s parameters) is not what IAM
  authorizes the action on, so it is read as null as well
  (``policy_resources.arn_applies_to_action``).

Not evaluated: condition values (a conditional ``Allow`` allows, a conditional
``Deny`` does not deny), policy variables, and anything outside the document
(boundaries, SCPs, resource policies, session policies).
"""

from __future__ import annotations

import json

import polars as pl

from models.iam.patterns import resource_matches
from models.iam.effective import SCOPE_SEPARATOR
from models.iam.policy import expand_policies
from models.rightsizing.policy_resources import MATCH_ALL, arn_applies_to_action

DENIAL_REASONS = ("explicit_deny", "action_not_allowed", "resource_not_allowed")

_POLICY_ID = "proposed"


def _statement_scopes(documents: pl.DataFrame) -> pl.DataFrame:
    """``_doc, effect, is_conditional, _key, scope`` per (document, statement, action), ``documents`` being
    ``_doc, document`` (JSON): scope = the statement's patterns joined, prefixed '!' for NotResource, '=' else."""
    expanded = expand_policies(documents.select(pl.col("_doc").alias("policy_id"), "document"))
    return (
        expanded.group_by("policy_id", "statement_index", "effect", "action", "is_not_resource", "is_conditional")
        .agg(patterns=pl.col("resource_pattern").unique().sort().str.join(SCOPE_SEPARATOR))
        .select(
            pl.col("policy_id").alias("_doc"),
            "effect",
            "is_conditional",
            pl.col("action").str.to_lowercase().alias("_key"),
            (pl.when(pl.col("is_not_resource")).then(pl.lit("!")).otherwise(pl.lit("=")) + pl.col("patterns"))
            .alias("scope"),
        )
    )


def _scope_matches(scope: str, resource: str | None, effect: str) -> bool:
    """Whether a statement's resources cover one call's resource (null: see the module docstring)."""
    is_not_resource, patterns = scope.startswith("!"), scope[1:].split(SCOPE_SEPARATOR)
    if resource is None:
        if effect == "Allow":
            return True
        resource = MATCH_ALL
    matched = any(resource_matches(p, resource) for p in patterns)
    return not matched if is_not_resource else matched


def _applicable_resource(action: str, resource: str | None) -> str | None:
    if resource is None or resource == MATCH_ALL:
        return None
    return resource if arn_applies_to_action(resource, action) else None


def _with_checked_resources(calls: pl.DataFrame) -> pl.DataFrame:
    """Distinct ``_key, resource`` of ``calls`` with the resource each is evaluated on (``checked_resource``)."""
    distinct = calls.select("_key", "action", "resource").unique(subset=["_key", "resource"], maintain_order=True)
    checked = [_applicable_resource(a, r) for _, a, r in distinct.iter_rows()]
    return distinct.with_columns(checked_resource=pl.Series(checked, dtype=pl.String)).drop("action")


def _matched(pairs: pl.DataFrame) -> pl.DataFrame:
    """``pairs`` with ``is_match``: each distinct (scope, resource, effect) evaluated once, however many
    identities' proposals share the statement."""
    triples = pairs.select("scope", "checked_resource", "effect").unique()
    verdicts = [_scope_matches(s, r, e) for s, r, e in triples.iter_rows()]
    return pairs.join(triples.with_columns(is_match=pl.Series(verdicts, dtype=pl.Boolean)),
                      on=["scope", "checked_resource", "effect"], how="left", nulls_equal=True)


def _denied_calls(calls: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``calls`` (``_doc, action, resource``, more carried through) that the document named by
    their ``_doc`` (``documents``: ``_doc, document``) would deny, with ``denial_reason`` and
    ``checked_resource``, in input order."""
    calls = calls.with_columns(
        pl.col("resource").cast(pl.String), pl.col("action").str.to_lowercase().alias("_key")
    )
    checked = _with_checked_resources(calls)
    distinct = calls.select("_doc", "_key", "resource").unique(maintain_order=True).join(
        checked, on=["_key", "resource"], how="left", nulls_equal=True, maintain_order="left"
    )
    pairs = _matched(distinct.join(_statement_scopes(documents), on=["_doc", "_key"], how="inner"))
    keys = ["_doc", "_key", "resource"]
    verdicts = pairs.group_by(keys).agg(
        is_allowed=(pl.col("is_match") & (pl.col("effect") == "Allow")).any(),
        is_denied=(pl.col("is_match") & (pl.col("effect") == "Deny") & ~pl.col("is_conditional")).any(),
        has_allow_statement=(pl.col("effect") == "Allow").any(),
    )
    reason = (
        pl.when(pl.col("is_denied").fill_null(False)).then(pl.lit("explicit_deny"))
        .when(~pl.col("has_allow_statement").fill_null(False)).then(pl.lit("action_not_allowed"))
        .when(~pl.col("is_allowed").fill_null(False)).then(pl.lit("resource_not_allowed"))
    )
    return (
        calls.join(distinct, on=keys, how="left", nulls_equal=True, maintain_order="left")
        .join(verdicts, on=keys, how="left", nulls_equal=True, maintain_order="left")
        .with_columns(denial_reason=reason)
        .filter(pl.col("denial_reason").is_not_null())
    )


def replay_denials(proposed_document: dict, used_calls: pl.DataFrame) -> pl.DataFrame:
    """The calls ``proposed_document`` would deny (expected: none).

    used_calls: one row per call (or per distinct call): ``action`` and
        ``resource`` (an ARN or null); other columns (``identity_id``,
        ``event_time``...) are carried through.

    Returns the denied rows with ``denial_reason`` (one of ``DENIAL_REASONS``)
    and ``checked_resource`` (the resource evaluated: null for an action-only
    check), in input order.
    """
    documents = pl.DataFrame({"_doc": [_POLICY_ID], "document": [json.dumps(proposed_document)]})
    denied = _denied_calls(used_calls.with_columns(_doc=pl.lit(_POLICY_ID)), documents)
    return denied.select(*used_calls.columns, "denial_reason", "checked_resource")


def observed_calls(action_usage: pl.DataFrame) -> pl.DataFrame:
    """Distinct ``identity_id, action, resource`` of the used rows of ``marts.identity_action_usage``
    (one null-resource row for an action seen without ARNs): replay input from the mart alone."""
    used = action_usage.filter(pl.col("is_used")).select("identity_id", "action", "resources_touched")
    return (
        used.with_columns(
            resource=pl.when(pl.col("resources_touched").list.len() > 0)
            .then(pl.col("resources_touched"))
            .otherwise(pl.lit([None], dtype=pl.List(pl.String)))
        )
        .explode("resource")
        .select("identity_id", "action", "resource")
        .unique()
        .sort("identity_id", "action", "resource", nulls_last=False)
    )


def replay_all_denials(proposals: dict, used_calls: pl.DataFrame) -> pl.DataFrame:
    """``replay_denials`` for each identity's proposal (``{identity_id: ProposedPolicy}``) against
    its own rows of ``used_calls`` (which needs ``identity_id``); identities without a proposal are skipped.
    Denied rows come by identity id, then in input order.

    Every identity is replayed at once: proposals that are the same document (many are) are expanded and their
    statements matched once."""
    owners = pl.DataFrame(
        {"identity_id": list(proposals), "document": [json.dumps(p.document) for p in proposals.values()]},
        schema={"identity_id": pl.String, "document": pl.String},
    )
    documents = owners.select("document").unique(maintain_order=True).with_row_index("_doc").with_columns(
        pl.col("_doc").cast(pl.String)
    )
    calls = used_calls.join(owners.join(documents, on="document").select("identity_id", "_doc"),
                            on="identity_id", how="inner", maintain_order="left")
    denied = _denied_calls(calls, documents)
    return denied.select(*used_calls.columns, "denial_reason", "checked_resource").sort(
        "identity_id", maintain_order=True
    )
