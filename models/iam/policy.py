"""IAM policy documents: parsing, and expansion of each statement against the action catalog.

``parse_policy_document`` turns a document (dict, JSON text, or the URL-encoded
JSON that raw IAM API responses carry) into ``Statement`` values.
``expand_action_patterns`` resolves ``Action`` / ``NotAction`` wildcards to
catalog actions, once per distinct pattern. ``expand_policies`` does both for a
table of policies, each distinct policy once, and returns one row per
(policy, statement, action, resource pattern).

Resource patterns are kept as written, never expanded. ``Condition`` is kept as
canonical JSON and only marks a statement as conditional; its values are not
evaluated. ``Principal`` / ``NotPrincipal`` are parsed for trust policies and
otherwise ignored here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import unquote

import polars as pl

from models.iam.catalog import catalog_actions, catalog_frame, catalog_services
from models.iam.patterns import action_pattern_regex

EFFECTS = ("Allow", "Deny")


class PolicyParseError(ValueError):
    """A policy document that IAM itself would reject, or that is not a policy at all."""


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document.

    index: position of the statement in the document (0 for a lone statement object).
    sid: the ``Sid``, if any.
    effect: ``Allow`` or ``Deny``.
    actions: the ``Action`` or ``NotAction`` patterns, as written.
    is_not_action: the patterns came from ``NotAction`` (the statement covers
        every action they do not match).
    resources: the ``Resource`` or ``NotResource`` patterns, as written; empty
        when the statement has neither (trust policies).
    is_not_resource: the patterns came from ``NotResource``.
    condition: the ``Condition`` block as canonical JSON (sorted keys), or None
        when absent or empty. Its values are never evaluated.
    principals: ``(type, value)`` pairs of ``Principal`` / ``NotPrincipal``
        (``("AWS", "arn:...")``, ``("Service", "lambda.amazonaws.com")``); a
        bare ``"*"`` is kept as ``("*", "*")`` because some services treat it
        differently from ``{"AWS": "*"}``.
    is_not_principal: the pairs came from ``NotPrincipal``.
    """

    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    is_not_action: bool
    resources: tuple[str, ...]
    is_not_resource: bool
    condition: str | None
    principals: tuple[tuple[str, str], ...] = ()
    is_not_principal: bool = False

    @property
    def is_conditional(self) -> bool:
        return self.condition is not None


# --- parsing ---------------------------------------------------------------


def _document_object(document: Any) -> dict:
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        raise PolicyParseError(f"a policy document is a dict or JSON text, not {type(document).__name__}")
    text = document.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)  # raw IAM API responses URL-encode documents (RFC 3986)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyParseError(f"policy document is not JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise PolicyParseError("policy document is not a JSON object")
    return parsed


def _string_tuple(value: Any, element: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise PolicyParseError(f"{element} must be a string or a list of strings")
    return tuple(values)


def _one_of(raw: dict, name: str, element: str, *, required: bool) -> tuple[tuple[str, ...], bool]:
    """The values of ``name`` or ``Not<name>``, and whether they came from the negated form."""
    has_plain, has_not = name in raw, f"Not{name}" in raw
    if has_plain and has_not:
        raise PolicyParseError(f"{element}: both {name} and Not{name}")
    if not (has_plain or has_not):
        if required:
            raise PolicyParseError(f"{element}: neither {name} nor Not{name}")
        return (), False
    key = name if has_plain else f"Not{name}"
    return _string_tuple(raw[key], f"{element}.{key}"), has_not


def _principal_pairs(value: Any, element: str) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, dict):
        raise PolicyParseError(f"{element}: Principal must be \"*\" or an object")
    return tuple(
        (kind, principal) for kind in sorted(value) for principal in _string_tuple(value[kind], f"{element}.{kind}")
    )


def _principals(raw: dict, element: str) -> tuple[tuple[tuple[str, str], ...], bool]:
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyParseError(f"{element}: both Principal and NotPrincipal")
    if "Principal" in raw:
        return _principal_pairs(raw["Principal"], element), False
    if "NotPrincipal" in raw:
        return _principal_pairs(raw["NotPrincipal"], element), True
    return (), False


def _condition_json(raw: dict, element: str) -> str | None:
    condition = raw.get("Condition")
    if condition is None or condition == {}:
        return None
    if not isinstance(condition, dict):
        raise PolicyParseError(f"{element}: Condition must be an object")
    return json.dumps(condition, sort_keys=True, separators=(",", ":"))


def _effect(raw: dict, element: str) -> str:
    effect = raw.get("Effect")
    normalized = next((e for e in EFFECTS if isinstance(effect, str) and effect.lower() == e.lower()), None)
    if normalized is None:
        raise PolicyParseError(f"{element}: Effect must be Allow or Deny, not {effect!r}")
    return normalized


def _statement(raw: Any, index: int) -> Statement:
    element = f"Statement[{index}]"
    if not isinstance(raw, dict):
        raise PolicyParseError(f"{element} is not an object")
    actions, is_not_action = _one_of(raw, "Action", element, required=True)
    resources, is_not_resource = _one_of(raw, "Resource", element, required=False)
    principals, is_not_principal = _principals(raw, element)
    sid = raw.get("Sid")
    return Statement(
        index=index,
        sid=str(sid) if sid is not None else None,
        effect=_effect(raw, element),
        actions=actions,
        is_not_action=is_not_action,
        resources=resources,
        is_not_resource=is_not_resource,
        condition=_condition_json(raw, element),
        principals=principals,
        is_not_principal=is_not_principal,
    )


def parse_policy_document(document: Any) -> tuple[Statement, ...]:
    """The statements of a policy document, in document order.

    ``document`` is a dict, JSON text, or URL-encoded JSON text (``%7B...``).
    ``Statement`` may be one object or a list. Raises ``PolicyParseError``
    for anything IAM would reject (missing Effect, Action and NotAction
    together, ...). A statement without ``Resource`` / ``NotResource`` is
    accepted here (trust policies have none); ``expand_policies`` rejects it.
    """
    parsed = _document_object(document)
    if "Statement" not in parsed:
        raise PolicyParseError("policy document has no Statement")
    raw = parsed["Statement"]
    statements = raw if isinstance(raw, list) else [raw]
    return tuple(_statement(s, i) for i, s in enumerate(statements))


@lru_cache(maxsize=8192)
def _parse_text(text: str) -> tuple[Statement, ...]:
    return parse_policy_document(text)


# --- action expansion ------------------------------------------------------


@dataclass(frozen=True)
class UnmatchedPattern:
    """An action pattern that matched no catalog action.

    pattern: as written in the policy.
    reason: ``unknown_service`` (the prefix is literal and not in the catalog),
        ``no_matching_action`` (the service exists, or the prefix has
        wildcards, but no action matches) or ``malformed`` (no ``service:``
        prefix and no wildcard: not an action name at all).
    """

    pattern: str
    reason: str


@dataclass(frozen=True)
class ExpandedActions:
    """The result of expanding action patterns.

    actions: the matched catalog actions, in catalog spelling.
    unmatched: the patterns that matched nothing, in input order, once each.
    """

    actions: frozenset[str]
    unmatched: tuple[UnmatchedPattern, ...]


@cache
def _haystacks() -> tuple[dict[str, str], str]:
    """Lowercased action keys joined by newlines: per service, and all together."""
    by_service: dict[str, list[str]] = {}
    for key in catalog_actions():
        by_service.setdefault(key.split(":", 1)[0], []).append(key)
    joined = {service: "\n".join(keys) for service, keys in by_service.items()}
    return joined, "\n".join(catalog_actions())


def _literal_service(pattern_key: str) -> str | None:
    """The service prefix of a pattern when it has no wildcard, else None."""
    service = pattern_key.split(":", 1)[0] if ":" in pattern_key else None
    if service is None or "*" in service or "?" in service:
        return None
    return service


@lru_cache(maxsize=65536)
def _matched_keys(pattern_key: str) -> frozenset[str]:
    """Catalog action keys matched by one lowercased pattern."""
    if "*" not in pattern_key and "?" not in pattern_key:
        return frozenset({pattern_key}) if pattern_key in catalog_actions() else frozenset()
    per_service, everything = _haystacks()
    service = _literal_service(pattern_key)
    haystack = per_service.get(service, "") if service is not None else everything
    regex = re.compile(f"^{action_pattern_regex(pattern_key)}$", re.MULTILINE)
    return frozenset(regex.findall(haystack))


def _unmatched_reason(pattern_key: str) -> str:
    service = _literal_service(pattern_key)
    if service is not None and service not in catalog_services():
        return "unknown_service"
    if ":" not in pattern_key and "*" not in pattern_key and "?" not in pattern_key:
        return "malformed"
    return "no_matching_action"


@lru_cache(maxsize=16384)
def _expanded_keys(pattern_keys: tuple[str, ...], is_not_action: bool) -> frozenset[str]:
    matched = frozenset().union(*(_matched_keys(p) for p in pattern_keys))
    return frozenset(catalog_actions()) - matched if is_not_action else matched


def expand_action_patterns(patterns: Any, *, is_not_action: bool = False) -> ExpandedActions:
    """The catalog actions named by ``Action`` patterns (a string or an iterable of them).

    With ``is_not_action`` the patterns are a ``NotAction`` list: the result is
    every catalog action none of them matches. Patterns that match nothing are
    reported either way (in a NotAction list they usually mean a typo that
    grants more than intended). Each distinct pattern is expanded once per process.
    """
    pattern_list = [patterns] if isinstance(patterns, str) else list(patterns)
    keys = tuple(sorted({p.lower() for p in pattern_list}))
    catalog = catalog_actions()
    actions = frozenset(catalog[k].action for k in _expanded_keys(keys, is_not_action))
    unmatched: dict[str, UnmatchedPattern] = {}
    for pattern in pattern_list:
        if pattern not in unmatched and not _matched_keys(pattern.lower()):
            unmatched[pattern] = UnmatchedPattern(pattern, _unmatched_reason(pattern.lower()))
    return ExpandedActions(actions=actions, unmatched=tuple(unmatched.values()))


# --- policies as tables ----------------------------------------------------

EXPANDED_SCHEMA = {
    "policy_id": pl.String,
    "statement_index": pl.Int32,
    "sid": pl.String,
    "effect": pl.String,
    "action": pl.String,
    "service": pl.String,
    "access_level": pl.String,
    "resource_pattern": pl.String,
    "is_not_resource": pl.Boolean,
    "is_conditional": pl.Boolean,
    "condition": pl.String,
}

UNKNOWN_ACTIONS_SCHEMA = {
    "policy_id": pl.String,
    "statement_index": pl.Int32,
    "pattern": pl.String,
    "is_not_action": pl.Boolean,
    "reason": pl.String,
}

INVALID_POLICIES_SCHEMA = {"policy_id": pl.String, "error": pl.String}

_STATEMENT_ROW_SCHEMA = {
    "policy_id": pl.String,
    "statement_index": pl.Int32,
    "sid": pl.String,
    "effect": pl.String,
    "action_set_id": pl.Int64,
    "resource_pattern": pl.String,
    "is_not_resource": pl.Boolean,
    "is_conditional": pl.Boolean,
    "condition": pl.String,
}


def _distinct_policies(policies: pl.DataFrame) -> list[tuple[str, str]]:
    distinct = policies.select("policy_id", "document").unique(maintain_order=True)
    duplicated = distinct.filter(pl.col("policy_id").is_duplicated())["policy_id"].unique().sort().to_list()
    if duplicated:
        raise ValueError(f"policy ids with more than one document: {duplicated[:5]}")
    return list(distinct.iter_rows())


def _permission_statements(document: str) -> tuple[Statement, ...]:
    statements = _parse_text(document)
    for statement in statements:
        if not statement.resources and not statement.is_not_resource:
            raise PolicyParseError(f"Statement[{statement.index}]: neither Resource nor NotResource")
    return statements


def _parsed_policies(policies: pl.DataFrame) -> tuple[list[tuple[str, tuple[Statement, ...]]], list[tuple[str, str]]]:
    """(policy_id, statements) of every valid distinct policy, and (policy_id, error) of the others."""
    parsed, invalid = [], []
    for policy_id, document in _distinct_policies(policies):
        try:
            parsed.append((policy_id, _permission_statements(document)))
        except PolicyParseError as error:
            invalid.append((policy_id, str(error)))
    return parsed, invalid


def _statement_rows(parsed: list[tuple[str, tuple[Statement, ...]]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per (policy, statement, resource pattern) with an action-set id, and the action sets."""
    set_ids: dict[tuple[tuple[str, ...], bool], int] = {}
    rows = []
    for policy_id, statements in parsed:
        for s in statements:
            # Statements often repeat the same action list: expand each list once.
            set_key = (tuple(sorted({a.lower() for a in s.actions})), s.is_not_action)
            set_id = set_ids.setdefault(set_key, len(set_ids))
            rows.extend(
                (policy_id, s.index, s.sid, s.effect, set_id, resource,
                 s.is_not_resource, s.is_conditional, s.condition)
                for resource in dict.fromkeys(s.resources)
            )
    statement_frame = pl.DataFrame(rows, schema=_STATEMENT_ROW_SCHEMA, orient="row")
    set_column, key_column = [], []
    for (keys, is_not_action), set_id in set_ids.items():
        members = _expanded_keys(keys, is_not_action)
        set_column.extend([set_id] * len(members))
        key_column.extend(members)
    action_sets = pl.DataFrame({"action_set_id": set_column, "action_key": key_column},
                               schema={"action_set_id": pl.Int64, "action_key": pl.String})
    return statement_frame, action_sets


def expand_policies(policies: pl.DataFrame) -> pl.DataFrame:
    """Every policy's statements expanded to catalog actions.

    Input: ``policy_id: str, document: str`` (JSON, possibly URL-encoded); a
    policy listed several times is expanded once; one id with two different
    documents is an error (``ValueError``). Invalid documents are skipped here
    and listed by ``invalid_policies``; patterns that match nothing are listed
    by ``unknown_actions``.

    Output (``EXPANDED_SCHEMA``), one row per (policy_id, statement_index,
    action, resource_pattern): ``policy_id, statement_index, sid, effect,
    action, service, access_level, resource_pattern, is_not_resource,
    is_conditional, condition``. For a ``NotResource`` statement the rows carry
    its excluded patterns (``is_not_resource``) and must be read together: the
    statement applies to resources matched by none of them.
    """
    parsed, _ = _parsed_policies(policies)
    statement_frame, action_sets = _statement_rows(parsed)
    catalog = catalog_frame().lazy().select("action_key", "action", "service", "access_level")
    # The rows come out in (policy, statement, action, resource) order by sorting the two small frames and
    # joining in order: sorting the expansion itself held three times its size (3M rows: 1.7 GiB at peak).
    statements = (
        statement_frame.lazy()
        .sort("policy_id", "statement_index", "resource_pattern")
        .group_by("policy_id", "statement_index", maintain_order=True)
        .agg(pl.col("sid", "effect", "action_set_id", "is_not_resource", "is_conditional", "condition").first(),
             pl.col("resource_pattern"))
    )
    actions = action_sets.lazy().join(catalog, on="action_key").sort("action_set_id", "action").drop("action_key")
    return (
        statements.join(actions, on="action_set_id", maintain_order="left_right")
        .explode("resource_pattern")
        .select(list(EXPANDED_SCHEMA))
        .collect()
    )


def unknown_actions(policies: pl.DataFrame) -> pl.DataFrame:
    """Action patterns that match no catalog action, per policy and statement.

    Columns (``UNKNOWN_ACTIONS_SCHEMA``): ``policy_id, statement_index,
    pattern, is_not_action, reason`` (see ``UnmatchedPattern``).
    """
    parsed, _ = _parsed_policies(policies)
    rows = [
        (policy_id, s.index, u.pattern, s.is_not_action, u.reason)
        for policy_id, statements in parsed
        for s in statements
        for u in expand_action_patterns(s.actions).unmatched
    ]
    return pl.DataFrame(rows, schema=UNKNOWN_ACTIONS_SCHEMA, orient="row")


def invalid_policies(policies: pl.DataFrame) -> pl.DataFrame:
    """Policies ``expand_policies`` skipped: ``policy_id, error`` (why IAM would reject the document)."""
    _, invalid = _parsed_policies(policies)
    return pl.DataFrame(invalid, schema=INVALID_POLICIES_SCHEMA, orient="row")
