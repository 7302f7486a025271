"""Which resources a proposed policy names for one action.

Three questions, each answered by one function:

- ``arn_applies_to_action``: is an observed ARN one the action is authorized
  on? A CloudTrail record lists the bucket beside the object, and request
  parameters name other resources (the role passed to
  ``lambda:CreateFunction``); only ARNs of one of the action's catalog
  resource types say anything about where the action was used.
- ``generalise_arns``: observed ARNs as a few patterns, by the rule table
  ``ARN_GENERALISATIONS`` (many objects of a bucket -> ``bucket/*``).
- ``scoped_resources``: the ``Resource`` of one action: the generalised
  observed ARNs where the action supports resource-level scoping and ARNs of
  its types were seen, otherwise the grant's own resource patterns, ``*``
  when there is none. The result is never wider than today's grant.

ARN formats come from policy_sentry's resource-type table (the same IAM
definition as ``models.iam.catalog``), read lazily. An ARN's type is decided
by matching the formats of the action's service: a ``${Variable}`` stands for
any text within its ARN segment (any text at all in the resource part), and
where several formats match, the one with the most literal characters wins
(``bucket/key`` is an object, not a bucket whose name has a slash).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from models.iam.catalog import CatalogAction, lookup
from models.iam.patterns import resource_matches, resource_pattern_covers

MATCH_ALL = "*"

# arn:partition:service:region:account:resource
_ARN_SHAPE = re.compile(r"arn:[^:]+:[^:]+:[^:]*:[^:]*:.+", re.DOTALL)
_FORMAT_VARIABLE = re.compile(r"\$\{[^}]+\}")
_RESOURCE_SEGMENT_INDEX = 5
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


# --- ARN types ---------------------------------------------------------------


@dataclass(frozen=True)
class _ArnFormat:
    """One resource type's ARN format as a regex, with its specificity (literal characters)."""

    resource_type: str
    regex: re.Pattern[str]
    literal_chars: int


def _format_regex(arn_format: str) -> re.Pattern[str]:
    parts, segment, position = [], 0, 0
    for variable in _FORMAT_VARIABLE.finditer(arn_format):
        literal = arn_format[position:variable.start()]
        parts.append(re.escape(literal))
        segment += literal.count(":")
        parts.append("[^:]*" if segment < _RESOURCE_SEGMENT_INDEX else ".+")
        position = variable.end()
    parts.append(re.escape(arn_format[position:]))
    return re.compile("".join(parts), re.DOTALL)


@cache
def _service_formats(service: str) -> tuple[_ArnFormat, ...]:
    """Every resource type of an IAM service prefix with its ARN format (empty for unknown services)."""
    from policy_sentry.querying.arns import get_arn_types_for_service

    try:
        formats = get_arn_types_for_service(service)
    except Exception:  # policy_sentry raises a bare Exception for an unknown prefix
        return ()
    return tuple(
        _ArnFormat(name.lower(), _format_regex(arn), len(_FORMAT_VARIABLE.sub("", arn)))
        for name, arn in sorted(formats.items())
    )


@lru_cache(maxsize=65536)
def arn_resource_types(service: str, arn: str) -> frozenset[str]:
    """The resource types (lowercase) of ``service`` whose ARN format ``arn`` fits best; empty if none."""
    if not _ARN_SHAPE.fullmatch(arn):
        return frozenset()
    matching = [f for f in _service_formats(service) if f.regex.fullmatch(arn)]
    if not matching:
        return frozenset()
    best = max(f.literal_chars for f in matching)
    return frozenset(f.resource_type for f in matching if f.literal_chars == best)


def arn_applies_to_action(arn: str, action: str | CatalogAction) -> bool:
    """Whether ``arn`` is of one of the resource types the action can be scoped to."""
    entry = lookup(action) if isinstance(action, str) else action
    if entry is None or not entry.supports_resource_scoping:
        return False
    types = arn_resource_types(entry.service, arn)
    return any(t.lower() in types for t in entry.resource_types)


# --- generalisation ------------------------------------------------------------


@dataclass(frozen=True)
class ArnGeneralisation:
    """A rule that replaces observed ARNs by one pattern.

    code: short name.
    arn_regex: full-match regex over an ARN with a group ``keep``: the pattern
        is ``keep`` followed by ``*``.
    min_distinct_arns: the rule applies where at least this many distinct
        observed ARNs give the same pattern (1: always).
    reason: why the pattern is a fair reading of the observations.
    """

    code: str
    arn_regex: str
    min_distinct_arns: int
    reason: str


ARN_GENERALISATIONS: tuple[ArnGeneralisation, ...] = (
    ArnGeneralisation(
        code="s3_objects_of_bucket",
        arn_regex=r"(?P<keep>arn:[^:]+:s3:::[^/]+/).+",
        min_distinct_arns=2,
        reason="objects come and go: an identity that touched several objects of a bucket gets the bucket's objects",
    ),
    ArnGeneralisation(
        code="log_streams_of_group",
        arn_regex=r"(?P<keep>arn:[^:]+:logs:[^:]*:[^:]*:log-group:.+:log-stream:).+",
        min_distinct_arns=2,
        reason="log streams are created per run: several streams of a group become the group's streams",
    ),
    ArnGeneralisation(
        code="generated_id",
        arn_regex=rf"(?P<keep>arn:[^:]+:[^:]+:[^:]*:[^:]*:(?:.*[/:])?){_UUID}",
        min_distinct_arns=1,
        reason="a resource named by a generated id (UUID) is replaced by a new id: any id in the same place",
    ),
)


@cache
def _compiled_rules() -> tuple[tuple[ArnGeneralisation, re.Pattern[str]], ...]:
    return tuple((rule, re.compile(rule.arn_regex, re.DOTALL)) for rule in ARN_GENERALISATIONS)


def _candidate(arn: str) -> tuple[ArnGeneralisation, str] | None:
    """The first rule that matches an ARN and the pattern it proposes."""
    for rule, regex in _compiled_rules():
        match = regex.fullmatch(arn)
        if match:
            return rule, match.group("keep") + "*"
    return None


def generalise_arns(arns: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Patterns for observed ARNs, each with the ARNs it stands for (both sorted).

    Each ARN goes to the first rule of ``ARN_GENERALISATIONS`` that matches it;
    the rule's pattern is used where enough distinct ARNs share it, the ARNs
    themselves otherwise.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    exact: list[str] = []
    for arn in sorted(set(arns)):
        candidate = _candidate(arn)
        if candidate is None:
            exact.append(arn)
        else:
            groups.setdefault((candidate[0].code, candidate[1]), []).append(arn)
    minimum = {rule.code: rule.min_distinct_arns for rule in ARN_GENERALISATIONS}
    patterns: dict[str, set[str]] = {arn: {arn} for arn in exact}
    for (code, pattern), members in groups.items():
        if len(members) >= minimum[code]:
            patterns.setdefault(pattern, set()).update(members)
        else:
            for arn in members:
                patterns.setdefault(arn, set()).add(arn)
    return {p: tuple(sorted(patterns[p])) for p in sorted(patterns)}


def _without_covered(patterns: set[str]) -> tuple[str, ...]:
    """The patterns minus those another one of them already covers."""
    return tuple(
        sorted(p for p in patterns if not any(q != p and resource_pattern_covers(q, p) for q in patterns))
    )


# --- the Resource of one action ----------------------------------------------------

SCOPING_BASES = ("observed", "granted", "unscoped", "not_scopable")


@dataclass(frozen=True)
class ResourceScoping:
    """The ``Resource`` a proposed statement gives one action, and why.

    resources: sorted patterns (``("*",)`` for every resource).
    basis: ``observed`` (from observed ARNs), ``granted`` (no usable ARN seen:
        today's grant patterns kept), ``unscoped`` (no ARN seen and the grant
        names none: ``*``) or ``not_scopable`` (the action has no resource
        types: IAM needs ``*``).
    outside_grant: observed ARNs of the action's types that no granted pattern
        matches (their calls were allowed by something else); left out.
    """

    resources: tuple[str, ...]
    basis: str
    outside_grant: tuple[str, ...] = ()


def _within_grant(pattern: str, sources: Sequence[str], granted: Sequence[str]) -> set[str]:
    """``pattern`` where today's grant covers it, else the granted patterns that hold its ARNs."""
    if not granted or any(resource_pattern_covers(g, pattern) for g in granted):
        return {pattern}
    return {g for g in granted if any(resource_matches(g, arn) for arn in sources)}


def scoped_resources(
    action: str, observed_arns: Iterable[str], granted_patterns: Sequence[str] | None
) -> ResourceScoping:
    """The ``Resource`` for ``action`` in a proposed policy.

    observed_arns: every ARN seen with the action's calls (other types are
        ignored here; see ``arn_applies_to_action``).
    granted_patterns: today's ``Resource`` patterns for the action (empty or
        None when unknown, e.g. granted only through ``NotResource``, or not
        granted at all): the proposal never names a resource outside them.
    """
    entry = lookup(action)
    if entry is None or not entry.supports_resource_scoping:
        return ResourceScoping((MATCH_ALL,), "not_scopable")
    granted = tuple(sorted(set(granted_patterns or ())))
    applicable = sorted({arn for arn in observed_arns if arn_applies_to_action(arn, entry)})
    inside = [a for a in applicable if not granted or any(resource_matches(g, a) for g in granted)]
    outside = tuple(a for a in applicable if a not in set(inside))
    if not inside:
        if granted:
            return ResourceScoping(granted, "granted", outside)
        return ResourceScoping((MATCH_ALL,), "unscoped", outside)
    patterns: set[str] = set()
    for pattern, sources in generalise_arns(inside).items():
        patterns |= _within_grant(pattern, sources, granted)
    return ResourceScoping(_without_covered(patterns), "observed", outside)
