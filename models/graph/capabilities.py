"""What each identity may do with a few actions, asked once per (identity, action, target ARN).

``core.grants`` rows are narrowed in Polars to the actions the graph asks
about (trust, pass-role, escalation rules), then grouped once into per-identity
``Capabilities``. Access answers are three-valued (``Access``): not allowed,
allowed only under a ``Condition`` (whose values are not evaluated), allowed.

An Allow scope applies to an ARN its ``Resource`` patterns match (or, for a
``NotResource`` statement, that none of its patterns match). A Deny row of
the same action (``core.grants`` keeps those that qualify a surviving Allow:
partial or conditional denies) that covers the ARN removes the access when
unconditional and makes it conditional otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

import polars as pl

from models.iam.catalog import action_key, catalog_actions
from models.iam.patterns import arns_starting_with, literal_prefix, resource_matches, resource_pattern_covers


class Access(IntEnum):
    """How far a grant reaches: combine alternatives with ``max``, requirements with ``min``."""

    NONE = 0
    CONDITIONAL = 1
    ALLOWED = 2


def access_of(*, is_conditional: bool) -> Access:
    return Access.CONDITIONAL if is_conditional else Access.ALLOWED


@dataclass(frozen=True)
class Scope:
    """The resources of one grant statement for one action.

    patterns: resource patterns as written.
    is_not_resource: the patterns are a ``NotResource`` list.
    is_conditional: the statement (or its boundary) has a ``Condition``.
    """

    patterns: tuple[str, ...]
    is_not_resource: bool
    is_conditional: bool

    def matches(self, arn: str) -> bool:
        hit = any(resource_matches(p, arn) for p in self.patterns)
        return not hit if self.is_not_resource else hit

    def covers(self, pattern: str) -> bool:
        """Whether the scope applies to every ARN ``pattern`` matches."""
        return not self.is_not_resource and any(resource_pattern_covers(p, pattern) for p in self.patterns)

    @property
    def is_everything(self) -> bool:
        return not self.is_not_resource and any(resource_pattern_covers(p, "*") for p in self.patterns)


@dataclass(frozen=True)
class Capabilities:
    """One identity's scopes for the actions asked about, keyed by ``action_key``."""

    allows: dict[str, tuple[Scope, ...]] = field(default_factory=dict)
    denies: dict[str, tuple[Scope, ...]] = field(default_factory=dict)
    # action key -> whether an unconditional statement allows it everywhere and nothing denies it: then every
    # ARN's answer is known without matching (most graph questions, at scale, are asked of such grants)
    _everywhere: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    # action key -> {ARN: answer}. Identities with the same scopes for an action share one (``build_capabilities``):
    # at scale most questions were asked before, of another holder of the same policy.
    _answers: dict[str, dict[str, Access]] = field(default_factory=dict, compare=False, repr=False)

    def _allowed_everywhere(self, key: str) -> bool:
        if key not in self._everywhere:
            self._everywhere[key] = not self.denies.get(key) and any(
                s.is_everything and not s.is_conditional for s in self.allows.get(key, ()))
        return self._everywhere[key]

    def statements(self, action: str) -> tuple[tuple[Scope, ...], tuple[Scope, ...]]:
        """The action's Allow and Deny scopes: identities with the same ones get the same answer on every ARN."""
        key = action_key(action)
        return self.allows.get(key, ()), self.denies.get(key, ())

    def holds(self, action: str) -> Access:
        """Whether some statement allows the action on some resource."""
        scopes = self.allows.get(action_key(action), ())
        return max((access_of(is_conditional=s.is_conditional) for s in scopes), default=Access.NONE)

    def on(self, action: str, arn: str) -> Access:
        """Whether the action is allowed on the resource ``arn``."""
        key = action_key(action)
        if self._allowed_everywhere(key):
            return Access.ALLOWED
        if not self.allows.get(key):
            return Access.NONE
        answers = self._answers.get(key)
        if answers is None:
            answers = self._answers[key] = {}
        answer = answers.get(arn)
        if answer is None:
            answer = answers[arn] = self._matched(key, arn)
        return answer

    def _matched(self, key: str, arn: str) -> Access:
        best = max(
            (access_of(is_conditional=s.is_conditional) for s in self.allows[key] if s.matches(arn)),
            default=Access.NONE,
        )
        for deny in self.denies.get(key, ()) if best else ():
            if deny.matches(arn):
                if not deny.is_conditional:
                    return Access.NONE
                best = Access.CONDITIONAL
        return best

    def allowed_among(self, action: str, sorted_arns: list[str]) -> dict[str, Access]:
        """The ARNs of a sorted list the action is allowed on, to their access (``on``'s answer, never NONE), in
        the list's order. An ARN a ``Resource`` pattern matches starts with the pattern's literal text, so each
        pattern asks about one slice of the list, not all of it (a holder of a few roles' ``sts:AssumeRole``
        was asked about every role of its account)."""
        key = action_key(action)
        scopes = self.allows.get(key, ())
        if self._allowed_everywhere(key) or any(s.is_not_resource for s in scopes):
            candidates = sorted_arns
        else:
            candidates = sorted({arn for s in scopes for p in s.patterns
                                 for arn in arns_starting_with(sorted_arns, literal_prefix(p))})
        answers = ((arn, self.on(action, arn)) for arn in candidates)
        return {arn: access for arn, access in answers if access != Access.NONE}

    def on_all_alike(self, action: str, pattern: str) -> Access | None:
        """The action's access on every ARN ``pattern`` matches, when it is the same for all of them; None when
        it may differ from one to another (a narrower scope, a ``NotResource`` list, a Deny)."""
        key = action_key(action)
        if self.denies.get(key):
            return None
        scopes = self.allows.get(key, ())
        covering = max((access_of(is_conditional=s.is_conditional) for s in scopes if s.covers(pattern)),
                       default=Access.NONE)
        if covering == Access.ALLOWED or all(s.covers(pattern) for s in scopes):
            return covering
        return None

    def all_of(self, actions: Iterable[str], arn: str | None = None) -> Access:
        """Every action allowed (on ``arn``, or on some resource when None): the weakest answer."""
        answers = [self.holds(a) if arn is None else self.on(a, arn) for a in actions]
        return min(answers, default=Access.ALLOWED)

    def all_of_alike(self, actions: Iterable[str], pattern: str) -> Access | None:
        """Every action allowed on every ARN ``pattern`` matches, when the answer is the same for all of them
        (``on_all_alike`` of each): the weakest; None when it may differ from one ARN to another."""
        answers = [self.on_all_alike(a, pattern) for a in actions]
        return None if None in answers else min(answers, default=Access.ALLOWED)


NO_CAPABILITIES = Capabilities()

_SCOPE_KEYS = ["identity_id", "action_key", "effect", "policy_id", "statement_index", "via", "is_not_resource",
               "is_conditional"]


def build_capabilities(grants: pl.DataFrame, actions: Iterable[str]) -> dict[str, Capabilities]:
    """Per identity, the scopes of ``actions`` in its ``core.grants`` rows (identities without any are absent)."""
    keys = sorted({action_key(a) for a in actions})
    rows = (
        grants.lazy()
        .with_columns(action_key=pl.col("action").str.to_lowercase())
        .filter(pl.col("action_key").is_in(keys))
        .with_columns(pl.col("is_not_resource", "is_conditional").fill_null(False),
                      pl.col("via", "policy_id").fill_null(""), pl.col("statement_index").fill_null(-1))
        .group_by(_SCOPE_KEYS)
        .agg(patterns=pl.col("resource_pattern").drop_nulls().unique().sort())
        .sort(_SCOPE_KEYS)
        .collect()
    )
    allows: dict[str, dict[str, list[Scope]]] = defaultdict(lambda: defaultdict(list))
    denies: dict[str, dict[str, list[Scope]]] = defaultdict(lambda: defaultdict(list))
    for identity_id, key, effect, _, _, _, is_not_resource, is_conditional, patterns in rows.iter_rows():
        scope = Scope(tuple(patterns), is_not_resource, is_conditional)
        (allows if effect == "Allow" else denies)[identity_id][key].append(scope)
    answers: dict[tuple[tuple[Scope, ...], tuple[Scope, ...]], dict[str, Access]] = {}

    def capabilities_of(identity_id: str) -> Capabilities:
        allowed = {k: tuple(v) for k, v in allows.get(identity_id, {}).items()}
        denied = {k: tuple(v) for k, v in denies.get(identity_id, {}).items()}
        capabilities = Capabilities(allows=allowed, denies=denied)
        capabilities._answers.update({k: answers.setdefault(capabilities.statements(k), {}) for k in allowed})
        return capabilities

    return {identity_id: capabilities_of(identity_id) for identity_id in sorted(set(allows) | set(denies))}


def full_access_identities(grants: pl.DataFrame) -> dict[str, bool]:
    """Identities allowed every catalog action on every resource: identity -> whether only conditionally.

    "Every resource" means a ``Resource`` pattern that covers ``*``; a
    ``NotResource`` statement never counts (it always excludes something). A
    Deny that removes part of an action's resources leaves it counted (the
    principal can rewrite its own policies anyway); a conditional Deny makes
    the answer conditional.
    """
    catalog_size = len(catalog_actions())
    allows = grants.lazy().filter((pl.col("effect") == "Allow") & ~pl.col("is_not_resource").fill_null(False))
    patterns = allows.select("resource_pattern").unique().collect()["resource_pattern"].drop_nulls().to_list()
    everything = [p for p in patterns if resource_pattern_covers(p, "*")]
    # A conditional Deny beside the grant may apply, so the grant is no surer than a conditional one.
    has_conditional_deny = (pl.col("has_conditional_deny") if "has_conditional_deny" in grants.columns
                            else pl.lit(False))
    counts = (
        allows.filter(pl.col("resource_pattern").is_in(everything))
        .group_by("identity_id", "action")
        .agg(is_unconditional=(~pl.col("is_conditional").fill_null(False) & ~has_conditional_deny.fill_null(False))
             .any())
        .group_by("identity_id")
        .agg(actions=pl.len(), unconditional_actions=pl.col("is_unconditional").sum())
        .filter(pl.col("actions") >= catalog_size)
        .sort("identity_id")
        .collect()
    )
    return {i: bool(u < catalog_size) for i, _, u in counts.iter_rows()}
