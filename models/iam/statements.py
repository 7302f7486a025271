"""Policy documents as rows of parsed statements, for ``core.policy_statements``."""

from __future__ import annotations

import json

import polars as pl

from models.iam.policy import PolicyParseError, parse_policy_document

STATEMENTS_SCHEMA = {
    "policy_id": pl.String,
    "policy_kind": pl.String,
    "statement_index": pl.Int32,
    "sid": pl.String,
    "effect": pl.String,
    "actions": pl.List(pl.String),
    "is_not_action": pl.Boolean,
    "resources": pl.List(pl.String),
    "is_not_resource": pl.Boolean,
    "principals": pl.String,
    "is_not_principal": pl.Boolean,
    "condition": pl.String,
    "is_conditional": pl.Boolean,
    "parse_error": pl.String,
}


def statement_rows(policies: pl.DataFrame) -> pl.DataFrame:
    """One row per statement of each ``policy_id, policy_kind, document`` row.

    A document IAM would reject gives one row with ``parse_error`` set and no
    statement fields, so a broken policy is visible rather than silently empty.
    """
    rows = []
    for policy_id, kind, document in policies.select("policy_id", "policy_kind", "document").iter_rows():
        try:
            statements = parse_policy_document(document)
        except PolicyParseError as error:
            rows.append({"policy_id": policy_id, "policy_kind": kind, "parse_error": str(error)})
            continue
        rows.extend(
            {
                "policy_id": policy_id,
                "policy_kind": kind,
                "statement_index": s.index,
                "sid": s.sid,
                "effect": s.effect,
                "actions": list(s.actions),
                "is_not_action": s.is_not_action,
                "resources": list(s.resources),
                "is_not_resource": s.is_not_resource,
                "principals": json.dumps([list(p) for p in s.principals]) if s.principals else None,
                "is_not_principal": s.is_not_principal,
                "condition": s.condition,
                "is_conditional": s.is_conditional,
                "parse_error": None,
            }
            for s in statements
        )
    return pl.DataFrame(rows, schema=STATEMENTS_SCHEMA)
