"""Build the permission graph from the warehouse's frames.

Inputs (polars frames with the warehouse's columns):

- ``identities``: ``identity_id, kind, account, name, is_ai, environment,
  trust_policy, instance_profile_arns`` (``is_ai``, ``environment``,
  ``instance_profile_arns`` may be absent).
- ``group_memberships``: ``user_arn, group_arn``.
- ``grants``: ``core.grants`` (``GRANTS_SCHEMA``, of which only ``GRANT_COLUMNS``
  are read), or its ``GrantSummary`` (``models.graph.grant_summary``): effective
  Allow rows and the Deny rows that qualify them. A user's rows already include its groups'
  policies (``via = 'group:<arn>'``), so a user's edges come from its own rows
  and ``MEMBER_OF`` adds the group's edges as a second way.
- ``resources`` (optional): ``resource_arn, service, sensitivity_tier``.
- ``used_edges`` (optional): ``source_id, target_id, edge_type`` moves seen in
  the window; ``edge_type`` null matches any type.
- ``workloads`` (optional): ``resource_arn, role_arn, kind``: Lambda functions,
  EC2 instances, CodeBuild projects and the role each runs as (the service is
  read from the ARN). Without it the workload rules are skipped (a finding says so).

Edges:

- ``MEMBER_OF``: user to group.
- ``CAN_ASSUME``: caller to role, when the trust policy lets the caller in
  (see ``models.graph.trust``) and, unless it names the caller in the role's
  own account, the caller's grants allow ``sts:AssumeRole`` on the role. Also
  ``admin:<A>`` to a role of another account that trusts account A or one of
  its principals (full control of A includes becoming them).
- ``CAN_ESCALATE``: the escalation rules (``models.graph.escalation``).
  Principals with full access get none: they already control their account.
  A rule a principal holds on every user (role, group) of its account alike
  is one edge to the set ``principals:<kind>:<account>``.
- ``CONTAINS``: a principal set to each of its members (no hop of its own).
- ``IS_ADMIN``: principal to ``admin:<account>`` when its grants allow every
  catalog action on every resource.
- ``CAN_ACCESS``: principal to each known resource its grants match (same
  account, or no account in the ARN), else to the service class
  ``service:<svc>:<account>``, one edge per target at the highest access level.
  A resource that is also an identity (a role ARN seen in events) is the
  identity's node, reached by delegation; IAM grants on it count towards the
  ``iam`` service class.

Not modelled: resource-based policies other than trust policies, SCPs,
session policies, federation (``Federated`` principals), and the targets of
identity policies in other accounts (a grant reaches its own account).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import cached_property, lru_cache
from heapq import heappop, heappush

import networkx as nx
import polars as pl

from models.collector import gc_paused
from models.graph.components import bits_at, condense
from models.graph.capabilities import Access, Capabilities, NO_CAPABILITIES, build_capabilities
from models.graph.escalation import (
    ESCALATION_RULES,
    EscalationInputs,
    Principal,
    PrincipalSet,
    Workload,
    available_rules,
    evaluate_rules,
    principal_sets,
    service_roles_index,
)
from models.graph.grant_summary import GrantSummary, graph_actions, summarize_grants
from models.graph.model import (
    ADMIN,
    CAN_ACCESS,
    CAN_ASSUME,
    CAN_ESCALATE,
    CONTAINS,
    DELEGATION_EDGE_TYPES,
    EDGES_SCHEMA,
    FINDINGS_SCHEMA,
    IDENTITY,
    IS_ADMIN,
    MEMBER_OF,
    METHOD_ACCESS,
    METHOD_ADMIN_ASSUME_ROLE,
    METHOD_ASSUME_ROLE,
    METHOD_FULL_ACCESS,
    METHOD_MEMBERSHIP,
    METHOD_SET_MEMBER,
    MOVE_EDGE_TYPES,
    NODES_SCHEMA,
    PRINCIPAL_SET,
    RESOURCE,
    RESOURCE_SET,
    SERVICE,
    AdminRoute,
    Edge,
    Finding,
    Node,
    PermissionGraph,
    admin_node_id,
    hop_count,
)
from models.graph.scoring import TIER_WEIGHTS, tier_of
from models.graph.trust import ASSUME_ROLE, EMPTY_TRUST, PolicyParseError, TrustPolicy, parse_trust_policy, role_name_key
from models.iam.catalog import ACCESS_LEVELS
from models.iam.effective import SCOPE_SEPARATOR
from models.iam.patterns import arns_starting_with, literal_prefix, resource_matches

_EDGE_TYPE_ORDER = {t: i for i, t in enumerate((MEMBER_OF, CAN_ASSUME, CAN_ESCALATE, IS_ADMIN, CONTAINS, CAN_ACCESS))}
_METHOD_ORDER = {r.code: i for i, r in enumerate(ESCALATION_RULES)}



# --- principals ----------------------------------------------------------------


def _account_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] or None if len(parts) > 5 and parts[0] == "arn" else None


@lru_cache(maxsize=65_536)
def _trust_of_text(document: str) -> TrustPolicy:
    # What-ifs build the graph again and again over the same roles: a trust policy's text is read once.
    return parse_trust_policy(json.loads(document))


def _trust(identity_id: str, document) -> tuple[TrustPolicy, Finding | None]:
    if document is None:
        return EMPTY_TRUST, None
    try:
        return (_trust_of_text(document) if isinstance(document, str) else parse_trust_policy(document)), None
    except (PolicyParseError, ValueError) as error:
        return EMPTY_TRUST, Finding("invalid_trust_policy", identity_id, f"trust policy not read: {error}")


def _principals(identities: pl.DataFrame) -> tuple[dict[str, Principal], list[Node], list[Finding]]:
    frame = identities
    for column, dtype in (("is_ai", pl.Boolean), ("environment", pl.String), ("trust_policy", pl.String),
                          ("instance_profile_arns", pl.List(pl.String))):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(column))
    principals, nodes, findings = {}, [], []
    columns = ["identity_id", "kind", "account", "name", "is_ai", "environment", "trust_policy", "instance_profile_arns"]
    for identity_id, kind, account, name, is_ai, environment, trust_doc, profiles in (
        frame.select(columns).unique(subset="identity_id", keep="first").sort("identity_id").iter_rows()
    ):
        account = account or _account_of_arn(identity_id)
        trust, finding = _trust(identity_id, trust_doc) if kind == "role" else (EMPTY_TRUST, None)
        findings += [finding] if finding else []
        principals[identity_id] = Principal(identity_id, kind or "other", account, name or identity_id, trust,
                                            bool(profiles))
        nodes.append(Node(identity_id, IDENTITY, name or identity_id, kind=kind or "other", account=account,
                          is_ai=is_ai, environment=environment))
    return principals, nodes, findings


def _members(principals: dict[str, Principal]) -> dict[tuple[str | None, str], tuple[str, ...]]:
    grouped: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for p in principals.values():
        grouped[(p.account, p.kind)].append(p.identity_id)
    return {k: tuple(sorted(v)) for k, v in grouped.items()}



# --- membership, admin and assume-role edges -------------------------------------


def _membership_edges(memberships: pl.DataFrame, principals: dict[str, Principal]) -> list[Edge]:
    edges = []
    for user_id, group_id in memberships.select("user_arn", "group_arn").unique().sort("user_arn", "group_arn").iter_rows():
        if user_id in principals and group_id in principals:
            reason = f"{principals[user_id].name} is a member of group {principals[group_id].name} and holds its policies"
            edges.append(Edge(user_id, group_id, MEMBER_OF, METHOD_MEMBERSHIP, reason))
    return edges


def _full_access_edges(full: dict[str, bool], principals: dict[str, Principal]) -> list[Edge]:
    return [
        Edge(i, admin_node_id(principals[i].account), IS_ADMIN, METHOD_FULL_ACCESS,
             f"{principals[i].name} may perform every action on every resource of account {principals[i].account}",
             is_conditional=is_conditional)
        for i, is_conditional in sorted(full.items())
        if i in principals and principals[i].account
    ]


class _AssumeRoleIndex:
    """Who may call ``sts:AssumeRole`` at all, by account; and how to name a trusted ARN's identity."""

    def __init__(self, principals: dict[str, Principal], capabilities: dict[str, Capabilities]):
        self.principals = principals
        self.capabilities = capabilities
        holders: dict[str | None, list[str]] = defaultdict(list)
        for identity_id, caps in capabilities.items():
            if identity_id in principals and caps.holds(ASSUME_ROLE):
                holders[principals[identity_id].account].append(identity_id)
        self.holders = {a: tuple(sorted(v)) for a, v in holders.items()}
        self.holder_classes = {a: _alike_holders(ids, capabilities) for a, ids in self.holders.items()}
        self.by_role_name = {
            role_name_key(p.account, p.name): p.identity_id for p in principals.values() if p.kind == "role" and p.account
        }
        self.accounts = frozenset(p.account for p in principals.values() if p.account)
        trusting: dict[str, list[str]] = defaultdict(list)
        for role in (p for p in principals.values() if p.kind == "role"):
            for account in {t.value for t in role.trust.of_kind("account")}:
                trusting[account].append(role.identity_id)
        self._roles_trusting = {account: sorted(ids) for account, ids in trusting.items()}
        self._classes_allowed: dict[str, dict[str, list[tuple[tuple[str, ...], Access]]]] = {}

    def classes_allowed(self, account: str, role_id: str) -> list[tuple[tuple[str, ...], Access]]:
        """The account's holder classes whose statements allow ``sts:AssumeRole`` on a role that trusts the
        account, with that access, in class order. Each class is asked about the roles trusting its account once,
        by the patterns it holds, rather than each role asking every class: most classes may assume a few roles."""
        if account not in self._classes_allowed:
            by_role: dict[str, list[tuple[tuple[str, ...], Access]]] = defaultdict(list)
            roles = self._roles_trusting.get(account, [])
            for alike in self.holder_classes.get(account, ()):
                for role, access in self.capabilities[alike[0]].allowed_among(ASSUME_ROLE, roles).items():
                    by_role[role].append((alike, access))
            self._classes_allowed[account] = by_role
        return self._classes_allowed[account].get(role_id, [])

    def resolve(self, value: str) -> str | None:
        if value in self.principals and self.principals[value].kind in ("user", "role"):
            return value
        return self.by_role_name.get(value)

    def caller_keys(self, caller: Principal) -> frozenset[str]:
        return frozenset({caller.identity_id, role_name_key(caller.account or "", caller.name)})

    def permission(self, caller_id: str, role: Principal) -> Access:
        return self.capabilities.get(caller_id, NO_CAPABILITIES).on(ASSUME_ROLE, role.identity_id)


def _alike_holders(holders: tuple[str, ...], capabilities: dict[str, Capabilities]) -> list[tuple[str, ...]]:
    """The holders grouped by their ``sts:AssumeRole`` statements: holders with the same statements get the
    same answer on every role, so a role trusting their account is asked of one of each group (at scale,
    thousands of holders share a few policies)."""
    classes: dict[tuple, list[str]] = defaultdict(list)
    for caller_id in holders:
        classes[capabilities[caller_id].statements(ASSUME_ROLE)].append(caller_id)
    return [tuple(ids) for ids in classes.values()]


def _trust_candidates(role: Principal, index: _AssumeRoleIndex, findings: list[Finding]) -> Iterable[tuple[str, Access, str]]:
    """(caller, access, reason) for each principal the role's trust policy lets in."""
    arn, name = role.identity_id, role.name
    for trusted in role.trust.trusted:
        statement = Access.CONDITIONAL if trusted.is_conditional else Access.ALLOWED
        if trusted.kind == "principal":
            caller_id = index.resolve(trusted.value)
            if caller_id is None:
                findings.append(Finding("external_trust", arn, f"trust policy of {name} names {trusted.value}, "
                                        "which is not in the data"))
                continue
            caller = index.principals[caller_id]
            if caller.account == role.account:
                yield caller_id, statement, (f"trust policy of {name} names {caller.name} "
                                             "(same account: no identity permission needed)")
            else:
                yield caller_id, min(statement, index.permission(caller_id, role)), (
                    f"trust policy of {name} names {caller.name}, whose policies allow sts:AssumeRole on it")
        elif trusted.kind == "account":
            if trusted.value not in index.accounts:
                findings.append(Finding("external_trust", arn, f"trust policy of {name} lets in account "
                                        f"{trusted.value}, which is not in the data"))
            for alike, permitted in index.classes_allowed(trusted.value, role.identity_id):
                if access := min(statement, permitted):
                    for caller_id in alike:
                        yield caller_id, access, (
                            f"trust policy of {name} delegates to account {trusted.value}, and "
                            f"{index.principals[caller_id].name}'s policies allow sts:AssumeRole on it")
        elif trusted.kind == "any":
            findings.append(Finding("external_trust", arn, f"trust policy of {name} lets in any AWS principal"))
            for caller_id in sorted({c for holders in index.holders.values() for c in holders}):
                yield caller_id, min(statement, index.permission(caller_id, role)), (
                    f"trust policy of {name} lets in any principal, and {index.principals[caller_id].name}'s "
                    "policies allow sts:AssumeRole on it")
            for kind in ("user", "role"):
                for caller in (p for p in index.principals.values() if p.account == role.account and p.kind == kind):
                    yield caller.identity_id, statement, (f"trust policy of {name} lets in any principal "
                                                          "(same account: no identity permission needed)")


def _assume_role_edges(principals: dict[str, Principal], capabilities: dict[str, Capabilities]) -> tuple[list[Edge], list[Finding]]:
    index = _AssumeRoleIndex(principals, capabilities)
    edges, findings = [], []
    for role in (p for p in principals.values() if p.kind == "role"):
        best: dict[str, tuple[Access, str]] = {}
        for caller_id, access, reason in _trust_candidates(role, index, findings):
            if role.trust.denied:
                caller = principals[caller_id]
                access = min(access, role.trust.deny_verdict(caller_keys=index.caller_keys(caller),
                                                             caller_account=caller.account))
            if caller_id != role.identity_id and access > best.get(caller_id, (Access.NONE, ""))[0]:
                best[caller_id] = (access, reason)
        edges += [
            Edge(caller_id, role.identity_id, CAN_ASSUME, METHOD_ASSUME_ROLE, reason,
                 is_conditional=access == Access.CONDITIONAL)
            for caller_id, (access, reason) in sorted(best.items())
        ]
    return edges, findings


def _trusted_principal_account(value: str, principals: dict[str, Principal]) -> str | None:
    """The account of a trusted principal ARN or ``role-name:<account>:<name>`` key."""
    if value in principals:
        return principals[value].account
    return _account_of_arn(value) or (value.split(":")[1] if value.startswith("role-name:") else None)


def _admin_assume_edges(principals: dict[str, Principal]) -> list[Edge]:
    """Full control of account A reaches roles elsewhere that trust A or one of A's principals."""
    accounts = sorted({p.account for p in principals.values() if p.account})
    edges = []
    for role in (p for p in principals.values() if p.kind == "role"):
        trusting: dict[str, bool] = {}
        for trusted in role.trust.trusted:
            if trusted.kind == "account":
                candidates = [trusted.value]
            elif trusted.kind == "principal":
                candidates = [_trusted_principal_account(trusted.value, principals)]
            elif trusted.kind == "any":
                candidates = accounts
            else:
                continue
            for account in candidates:
                if account in accounts and account != role.account:
                    trusting[account] = trusting.get(account, True) and trusted.is_conditional
        edges += [
            Edge(admin_node_id(account), role.identity_id, CAN_ASSUME, METHOD_ADMIN_ASSUME_ROLE,
                 f"full control of account {account} includes the principals the trust policy of {role.name} lets in",
                 is_conditional=is_conditional)
            for account, is_conditional in sorted(trusting.items())
        ]
    return edges


# --- escalation edges ------------------------------------------------------------


def _workloads(workloads: pl.DataFrame | None) -> tuple[Workload, ...] | None:
    if workloads is None:
        return None
    kind = workloads["kind"] if "kind" in workloads.columns else pl.Series([None] * workloads.height, dtype=pl.String)
    rows = zip(workloads["resource_arn"].to_list(), workloads["role_arn"].to_list(), kind.to_list())
    return tuple(
        Workload(arn, role, arn.split(":")[2] if arn.count(":") >= 5 else "", _account_of_arn(arn), kind)
        for arn, role, kind in sorted(rows, key=lambda r: (r[0], r[1]))
        if arn and role
    )


def _reached_in_account(pairs: Iterable[tuple[str, str]], account_of: dict[str, str | None],
                        kind_of: dict[str, str] | None = None) -> Callable[..., Iterator[str]]:
    """The nodes of one account (and of one kind, when asked) that a node reaches (never the node itself), in
    id order; only nodes named in ``account_of`` count. One walk of the graph's condensation (sinks first)
    gives each component's reach as a bitset of its members' and its successors': a search per node costs
    the whole graph each time once escalation edges make it dense. Bits run by account, then id, so one account's nodes are one slice of the
    bitset, and a rule that stops at its first target never decodes the rest."""
    successors: dict[str, list[str]] = {}
    for u, v in pairs:
        successors.setdefault(u, []).append(v)
        successors.setdefault(v, [])
    condensed = condense(successors)
    component_of = condensed.component_of
    counted = sorted((account_of[n] or "", n) for n in successors if n in account_of)
    nodes = [n for _, n in counted]
    bit = {n: i for i, n in enumerate(nodes)}
    spans: dict[str, tuple[int, int]] = {}
    for i, (account, _) in enumerate(counted):
        spans[account] = (spans.get(account, (i, i))[0], i + 1)
    # a kind's nodes within its account's slice: a principal set leads to every member of its kind and
    # account, which a rule asking for one kind should not walk through one by one
    positions: dict[tuple[str, str], list[int]] = {}
    for i, (account, n) in enumerate(counted):
        positions.setdefault((account, (kind_of or {}).get(n, "")), []).append(i - spans[account][0])
    kind_masks = {key: bits_at(found) for key, found in positions.items()}
    reach: list[int] = []
    for component, members in enumerate(condensed.components):
        bits = bits_at([bit[m] for m in members if m in bit])
        for successor in condensed.successors[component]:
            bits |= reach[successor]
        reach.append(bits)

    def reached(node: str, account: str | None, kind: str | None = None) -> Iterator[str]:
        if node not in component_of or (account or "") not in spans:
            return
        start, end = spans[account or ""]
        bits = reach[component_of[node]] & ~(1 << bit[node] if node in bit else 0)
        bits = (bits >> start) & ((1 << (end - start)) - 1)
        if kind is not None:
            bits &= kind_masks.get((account or "", kind), 0)
        while bits:
            lowest = bits & -bits
            yield nodes[start + lowest.bit_length() - 1]
            bits ^= lowest

    return reached


def _escalation_edges(inputs: EscalationInputs, earlier: list[Edge]) -> tuple[list[Edge], list[Node]]:
    """Rule edges and the principal sets they reach: the reach-independent rules first, then the others
    against what those edges reach, through the sets' members (reach-dependent edges go to admin nodes, never
    to a set)."""
    rules = available_rules()
    first = evaluate_rules(tuple(r for r in rules if not r.is_reach_dependent), inputs)
    set_nodes, contains = _principal_set_parts(first, inputs.principal_sets, inputs.principals)
    reachable = _reached_in_account(((e.source_id, e.target_id) for e in earlier + first + contains
                                     if e.edge_type in DELEGATION_EDGE_TYPES),
                                    {i: p.account for i, p in inputs.principals.items()},
                                    {i: p.kind for i, p in inputs.principals.items()})
    second = evaluate_rules(tuple(r for r in rules if r.is_reach_dependent), replace(inputs, reachable=reachable))
    return first + second + contains, set_nodes


def _principal_set_parts(edges: list[Edge], sets: dict[tuple[str, str], PrincipalSet],
                         principals: dict[str, Principal]) -> tuple[list[Node], list[Edge]]:
    """The node of each principal set an edge reaches, and its CONTAINS edges to its members."""
    reached = {e.target_id for e in edges if e.target_id.startswith("principals:")}
    nodes, contains = [], []
    for group in sorted((g for g in sets.values() if g.set_id in reached), key=lambda g: g.set_id):
        nodes.append(Node(group.set_id, PRINCIPAL_SET, f"every {group.kind} of account {group.account} "
                          f"({len(group.members):,})", kind=group.kind, account=group.account,
                          member_count=len(group.members)))
        contains += [Edge(group.set_id, member, CONTAINS, METHOD_SET_MEMBER,
                          f"{principals[member].name} is one of the {group.kind}s of account {group.account}")
                     for member in group.members]
    return nodes, contains


def _skipped_rule_findings(workloads: tuple[Workload, ...] | None) -> list[Finding]:
    if workloads is not None:
        return []
    return [
        Finding("rule_skipped", r.code, f"{r.code} needs the workloads input (which function, instance or project "
                "runs as which role), which was not given")
        for r in available_rules()
        if r.target_kind == "workload"
    ]


# --- access edges ----------------------------------------------------------------

_NO_MEMBERS = pl.DataFrame(schema={"set_id": pl.String, "service": pl.String, "account": pl.String,
                                   "resource_arn": pl.String, "resource_account": pl.String})


def _scoped_allows(scopes: pl.DataFrame, principals: dict[str, Principal]) -> pl.LazyFrame:
    """The summary's Allow scopes of known principals, with the principal's account."""
    accounts = pl.DataFrame(
        {"identity_id": list(principals), "account": [p.account for p in principals.values()]},
        schema={"identity_id": pl.String, "account": pl.String},
    ).lazy()
    return scopes.lazy().join(accounts, on="identity_id")


def _scope_matches(scope_key: str, arn: str) -> bool:
    patterns = scope_key[1:].split(SCOPE_SEPARATOR)
    hit = any(resource_matches(p, arn) for p in patterns)
    return not hit if scope_key.startswith("!") else hit


class _KnownArns:
    """One service's known ARNs (to their account, in the resources' order), also sorted: every ARN a pattern
    matches starts with the pattern's text before its first wildcard, so the candidates are one slice."""

    def __init__(self) -> None:
        self.account: dict[str, str | None] = {}

    @cached_property
    def _sorted(self) -> list[str]:
        return sorted(self.account)

    @cached_property
    def _position(self) -> dict[str, int]:
        return {arn: i for i, arn in enumerate(self.account)}

    def matched_by(self, scope_key: str) -> list[str]:
        """The ARNs a scope key matches, in the resources' order."""
        if scope_key.startswith("!"):
            return [arn for arn in self.account if _scope_matches(scope_key, arn)]
        found: set[str] = set()
        for pattern in scope_key[1:].split(SCOPE_SEPARATOR):
            prefix = literal_prefix(pattern)
            if prefix == pattern:
                # an exact ARN (the common case for scoped grants) is a look-up
                found.update([pattern] if pattern in self.account else [])
            else:
                found.update(a for a in arns_starting_with(self._sorted, prefix) if resource_matches(pattern, a))
        return sorted(found, key=self._position.__getitem__) if len(found) > 1 else list(found)


def _resource_targets(scopes: pl.DataFrame, resources: pl.DataFrame) -> pl.DataFrame:
    """``service, scope_key, target_id, target_account`` for each known resource a scope matches."""
    by_service: dict[str, _KnownArns] = defaultdict(_KnownArns)
    for arn, service in resources.select("resource_arn", "service").iter_rows():
        by_service[service].account[arn] = _account_of_arn(arn)
    rows = []
    for service, scope_key in scopes.iter_rows():
        known = by_service.get(service) or _KnownArns()
        rows += [(service, scope_key, arn, known.account[arn]) for arn in known.matched_by(scope_key)]
    return pl.DataFrame(rows, schema={"service": pl.String, "scope_key": pl.String, "target_id": pl.String,
                                      "target_account": pl.String}, orient="row")


def _set_members(resources: pl.DataFrame, accounts: list[str]) -> pl.DataFrame:
    """``set_id, service, account, resource_arn, resource_account``: every resource of a service that an
    account's principals can name (the account's own, and those with no account in the ARN)."""
    parts = pl.col("resource_arn").str.split(":")
    known = resources.select("resource_arn", "service").with_columns(
        resource_account=pl.when(pl.col("resource_arn").str.starts_with("arn:") & (parts.list.len() > 5))
        .then(parts.list.get(4, null_on_oob=True)).otherwise(None).replace("", None))
    by_account = pl.DataFrame({"account": accounts}, schema={"account": pl.String})
    return (
        known.join(by_account, how="cross")
        .filter(pl.col("resource_account").is_null() | (pl.col("resource_account") == pl.col("account")))
        .with_columns(set_id=pl.lit("every:") + pl.col("service") + pl.lit(":") + pl.col("account"))
        .select("set_id", "service", "account", "resource_arn", "resource_account")
        .sort("set_id", "resource_arn")
    )


def _covering_scopes(targets: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """``service, scope_key, account, set_id``: scopes that match every member of an account's set of a service
    (of two members or more: a set of one is its resource)."""
    sizes = members.group_by("set_id", "service", "account").agg(size=pl.len()).filter(pl.col("size") > 1)
    matched = (
        targets.join(members.select("service", "account", target_id="resource_arn"), on=["service", "target_id"])
        .group_by("service", "scope_key", "account")
        .agg(matched=pl.len())
    )
    return matched.join(sizes, on=["service", "account"]).filter(pl.col("matched") == pl.col("size")).select(
        "service", "scope_key", "account", "set_id")


def _access_targets(allows: pl.LazyFrame, resources: pl.DataFrame | None,
                    members: pl.DataFrame) -> pl.LazyFrame:
    """Allow scopes with ``target_id``: the account's resource set where the scope matches all of it, else
    each matching known resource, else the service class."""
    service_class = pl.lit("service:") + pl.col("service") + pl.when(pl.col("account").is_not_null()).then(
        pl.lit(":") + pl.col("account")).otherwise(pl.lit(""))
    if resources is None or resources.is_empty():
        return allows.with_columns(target_id=service_class)
    scopes = allows.select("service", "scope_key").unique().sort("service", "scope_key").collect()
    targets = _resource_targets(scopes, resources)
    covering = _covering_scopes(targets, members).lazy()
    whole_sets = allows.join(covering, on=["service", "scope_key", "account"]).rename({"set_id": "target_id"})
    partial = allows.join(covering, on=["service", "scope_key", "account"], how="anti")
    matched = partial.join(targets.lazy(), on=["service", "scope_key"]).filter(
        pl.col("target_account").is_null() | (pl.col("target_account") == pl.col("account"))
    ).drop("target_account")
    keys = ["identity_id", "service", "scope_key"]
    unmatched = partial.join(matched.select(keys).unique(), on=keys, how="anti")
    return pl.concat([whole_sets, matched, unmatched.with_columns(target_id=service_class)], how="diagonal")


def _access_edges(scopes: pl.DataFrame, principals: dict[str, Principal], resources: pl.DataFrame | None,
                  members: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One CAN_ACCESS edge per (principal, target) at the highest access level, as ``EDGES_SCHEMA`` rows (most
    of the graph's edges: made in Polars, never one Python object each), and the service-class and
    resource-set targets."""
    aggregated = (
        _access_targets(_scoped_allows(scopes, principals), resources, members)
        .group_by("identity_id", "target_id")
        .agg(
            level_rank=pl.col("level_rank").max(),
            service=pl.col("service").first(),
            account=pl.col("account").first(),
            is_conditional=pl.col("is_conditional").all(),
        )
        .sort("identity_id", "target_id")
        .collect()
    )
    names = pl.DataFrame({"identity_id": list(principals), "name": [p.name for p in principals.values()]},
                         schema={"identity_id": pl.String, "name": pl.String})
    level = pl.col("level_rank").replace_strict(dict(enumerate(ACCESS_LEVELS)), return_dtype=pl.String)
    edges = aggregated.join(names, on="identity_id", how="left", maintain_order="left").select(
        source_id="identity_id", target_id="target_id", edge_type=pl.lit(CAN_ACCESS), method=pl.lit(METHOD_ACCESS),
        reason=pl.concat_str(pl.col("name"), pl.lit(" holds "), level, pl.lit(" access to "), pl.col("target_id")),
        is_conditional="is_conditional", is_used=pl.lit(None, pl.Boolean), is_unused_admin_edge=pl.lit(None, pl.Boolean),
        subject_id=pl.lit(None, pl.String), access_level=level,
    ).cast(EDGES_SCHEMA)
    classes = aggregated.filter(pl.col("target_id").str.starts_with("service:") | pl.col("target_id").str.starts_with(
        "every:")).select("target_id", "service", "account").unique().sort("target_id")
    return edges, classes


def _non_identity_resources(resources: pl.DataFrame | None, principals: dict[str, Principal]) -> pl.DataFrame | None:
    """Resources minus the identities among them (a role ARN seen in events): those are reached by delegation,
    and IAM actions on them count towards the ``iam`` service class."""
    if resources is None:
        return None
    return resources.filter(~pl.col("resource_arn").is_in(list(principals))).unique(subset="resource_arn",
                                                                                    keep="first", maintain_order=True)


def _resource_nodes(resources: pl.DataFrame | None, classes: pl.DataFrame,
                    held: dict[str, tuple[str, ...]]) -> list[Node]:
    nodes, tiers = [], {}
    if resources is not None:
        tier = resources["sensitivity_tier"] if "sensitivity_tier" in resources.columns else [None] * resources.height
        for arn, service, own_tier in zip(resources["resource_arn"], resources["service"], tier):
            tiers[arn] = tier_of(own_tier, service)
            nodes.append(Node(arn, RESOURCE, arn.rsplit(":", 1)[-1] or arn, account=_account_of_arn(arn),
                              service=service, sensitivity_tier=tiers[arn]))
    for target_id, service, account in classes.iter_rows():
        if target_id in held:
            worst = max((tiers[arn] for arn in held[target_id]), key=lambda t: TIER_WEIGHTS[t])
            count = len(held[target_id])
            nodes.append(Node(target_id, RESOURCE_SET, f"every {service} resource of {account} ({count})",
                              account=account, service=service, sensitivity_tier=worst, member_count=count))
        else:
            nodes.append(Node(target_id, SERVICE, f"{service} in {account}" if account else service, account=account,
                              service=service, sensitivity_tier=tier_of(None, service)))
    return nodes


# --- usage, assembly ---------------------------------------------------------------


def _used_pairs(used_edges: pl.DataFrame | None, set_of: dict[str, str]) -> set[tuple[str, str, str | None]]:
    """Moves seen, and for a move to a member of a principal set, the same move to the set: an edge to the set
    was taken when the source became any of its members."""
    if used_edges is None:
        return set()
    edge_type = used_edges["edge_type"] if "edge_type" in used_edges.columns else [None] * used_edges.height
    used = set(zip(used_edges["source_id"], used_edges["target_id"], edge_type))
    return used | {(source, set_of[target], kind) for source, target, kind in used if target in set_of}


def _is_used(edge: Edge, used: set[tuple[str, str, str | None]], sources: set[str]) -> bool | None:
    if edge.edge_type not in MOVE_EDGE_TYPES:
        return None
    if edge.source_id not in sources:  # most edges start where no move was seen: one look-up, not four
        return False
    targets = [edge.target_id] + ([edge.subject_id] if edge.subject_id else [])
    return any((edge.source_id, t, kind) in used for t in targets for kind in (edge.edge_type, None))


def _preference(edge: Edge, is_used: bool | None) -> tuple:
    """Which of several edges between two nodes speaks for the pair: the surest, used, simplest first."""
    return (edge.is_conditional, not is_used, _EDGE_TYPE_ORDER.get(edge.edge_type, 9),
            _METHOD_ORDER.get(edge.method, -1), edge.method)


# A conditional edge costs a little more, so an unconditional route wins a tie (and never loses a hop).
CONDITIONAL_EDGE_COST = 1.001


def edge_cost(edge_type: str, is_conditional: bool) -> float:
    """An edge's length on a route to admin: a hop, a little more when conditional, nothing for CONTAINS."""
    return hop_count(edge_type) * (CONDITIONAL_EDGE_COST if is_conditional else 1.0)


def admin_routes(graph: nx.DiGraph, admin_nodes: list[str]) -> dict[str, AdminRoute]:
    """Shortest route of every node to an admin node: one multi-source Dijkstra from the admin nodes, walking
    delegation edges backwards.

    Ties are broken as networkx's ``multi_source_dijkstra`` on the reversed graph breaks them, so routes do not
    depend on which of the two searched: nodes are settled in order of (distance, order pushed), an edge is
    followed in the graph's edge order, and only a strictly shorter way replaces a node's route. It is ours
    because that search copied a whole path for every node it reached and needed a reversed copy of the graph.
    """
    if not admin_nodes:
        return {}
    into: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for u, v, d in graph.edges(data=True):
        if d["edge_type"] in DELEGATION_EDGE_TYPES:
            into[v].append((u, edge_cost(d["edge_type"], d["is_conditional"]), hop_count(d["edge_type"])))
    settled: dict[str, float] = {}
    best = dict.fromkeys(admin_nodes, 0.0)
    toward: dict[str, tuple[str, int]] = {}  # node -> (next node on its route, hops of that step)
    pushed = itertools.count()
    fringe = [(0.0, next(pushed), node) for node in best]
    while fringe:
        distance, _, v = heappop(fringe)
        if v in settled:
            continue
        settled[v] = distance
        for u, cost, hops in into.get(v, ()):
            if u in settled:
                continue
            if u not in best or distance + cost < best[u]:
                best[u] = distance + cost
                heappush(fringe, (distance + cost, next(pushed), u))
                toward[u] = (v, hops)
    routes: dict[str, AdminRoute] = {}
    for node in settled:  # settled in order of distance: a node's next step has its route already
        if node in toward:
            step, hops = toward[node]
            onward = routes[step]
            routes[node] = AdminRoute(onward.hops + hops, (node, *onward.path))
        else:
            routes[node] = AdminRoute(0, (node,))
    return routes


def _edge_rows(edges: list[Edge], used: list[bool | None], flagged: set[tuple[str, str]],
               access: pl.DataFrame) -> pl.DataFrame:
    """``EDGES_SCHEMA`` rows, the access edges' with the others', by source, target, type and method (unique per
    edge), built a column at a time and sorted by Polars (a Python sort of 3M tuple keys took 8 s)."""
    columns = {name: [getattr(e, name) for e in edges] for name in EDGES_SCHEMA if hasattr(Edge, name)}
    columns["is_used"] = used
    columns["is_unused_admin_edge"] = [(e.source_id, e.target_id) in flagged if e.edge_type in MOVE_EDGE_TYPES
                                       else None for e in edges]
    frame = pl.DataFrame({name: columns.pop(name) for name in EDGES_SCHEMA}, schema=EDGES_SCHEMA)
    return pl.concat([frame, access]).sort("source_id", "target_id", "edge_type", "method")


def _unused_admin_pairs(graph: nx.DiGraph, routes: dict[str, AdminRoute]) -> set[tuple[str, str]]:
    """Move edges from an identity, never used in the window, whose target leads to full control."""
    return {
        (u, v)
        for u, v, d in graph.edges(data=True)
        if d["edge_type"] in MOVE_EDGE_TYPES and not d["is_used"] and v in routes
        and graph.nodes[u]["node_type"] == IDENTITY
    }


def _pair_attributes(edges: list[Edge], used: list[bool | None], indices: list[int]) -> dict:
    """The graph's attributes of the edge between two nodes: those of its preferred edge, every method, and
    whether any was used."""
    if len(indices) == 1:
        # most pairs have one edge: nothing to choose between
        best, methods, is_used = edges[indices[0]], edges[indices[0]].method, used[indices[0]]
    else:
        ordered = sorted(indices, key=lambda i: _preference(edges[i], used[i]))
        best = edges[ordered[0]]
        methods = ",".join(dict.fromkeys(edges[i].method for i in ordered))
        is_used = any(used[i] for i in indices) if used[ordered[0]] is not None else None
    return {"edge_type": best.edge_type, "method": best.method, "reason": best.reason,
            "is_conditional": best.is_conditional, "subject_id": best.subject_id, "access_level": best.access_level,
            "methods": methods, "is_used": is_used, "is_unused_admin_edge": False}


# What every access edge's graph attributes share: its own are its reason, condition and level.
_ACCESS_EDGE_ATTRIBUTES = {"edge_type": CAN_ACCESS, "method": METHOD_ACCESS, "subject_id": None,
                           "methods": METHOD_ACCESS, "is_used": None, "is_unused_admin_edge": False}


def _access_edge_attributes(access: pl.DataFrame) -> Iterator[tuple[str, str, dict]]:
    # a column at a time: Polars' iter_rows took longer than the graph's insertion of the same 1.7M edges
    columns = [access[c].to_list() for c in ("source_id", "target_id", "reason", "is_conditional", "access_level")]
    for u, v, reason, is_conditional, level in zip(*columns):
        yield u, v, {**_ACCESS_EDGE_ATTRIBUTES, "reason": reason, "is_conditional": is_conditional,
                     "access_level": level}


def _add_new_edges(graph: nx.DiGraph, edges: Iterable[tuple[str, str, dict]]) -> None:
    """Add edges whose attribute dicts are fresh and whose node pairs are not in the graph yet.

    They go straight into DiGraph's successor and predecessor dicts, as ``add_edges_from`` puts them:
    that method copies every attribute dict into a new one and checks both ends of every edge, which at
    millions of edges cost more than making them.
    """
    succ, pred = graph._succ, graph._pred
    for u, v, attributes in edges:
        if u not in succ:
            graph.add_node(u)
        if v not in succ:
            graph.add_node(v)
        succ[u][v] = attributes
        pred[v][u] = attributes
    nx._clear_cache(graph)


def _assemble(nodes: list[Node], edges: list[Edge], used: list[bool | None], access: pl.DataFrame) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from((node.node_id, {k: v for k, v in vars(node).items() if k != "node_id"}) for node in nodes)
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, edge in enumerate(edges):
        pairs[(edge.source_id, edge.target_id)].append(i)
    _add_new_edges(graph, ((u, v, _pair_attributes(edges, used, indices)) for (u, v), indices in pairs.items()))
    # an access edge is the only edge between its two nodes: its target is never a principal
    _add_new_edges(graph, _access_edge_attributes(access))
    return graph


def build_graph(
    identities: pl.DataFrame,
    group_memberships: pl.DataFrame,
    grants: pl.DataFrame | GrantSummary,
    resources: pl.DataFrame | None = None,
    used_edges: pl.DataFrame | None = None,
    workloads: pl.DataFrame | None = None,
) -> PermissionGraph:
    """The permission graph of the inputs (see the module docstring for inputs, edges and limits)."""
    with gc_paused():  # millions of small objects, all alive until the graph goes
        return _build_graph(identities, group_memberships, grants, resources, used_edges, workloads)


def _build_graph(identities, group_memberships, grants, resources, used_edges, workloads) -> PermissionGraph:
    summary = grants if isinstance(grants, GrantSummary) else summarize_grants(grants)
    principals, nodes, findings = _principals(identities)
    capabilities = build_capabilities(summary.rule_rows, graph_actions())
    full = summary.full_access_by_identity()
    accounts = sorted({p.account for p in principals.values() if p.account})
    nodes += [Node(admin_node_id(a), ADMIN, f"full control of account {a}", account=a) for a in accounts]

    edges = _membership_edges(group_memberships, principals) + _full_access_edges(full, principals)
    assume_edges, trust_findings = _assume_role_edges(principals, capabilities)
    edges += assume_edges + _admin_assume_edges(principals)
    workload_list = _workloads(workloads)
    members_of = _members(principals)
    grouped = principal_sets(principals, members_of)
    inputs = EscalationInputs(
        principals=principals,
        capabilities=capabilities,
        members=members_of,
        service_roles=service_roles_index(principals),
        attached_policies=summary.attached_by_identity(),
        workloads=workload_list,
        skipped_sources=frozenset(i for i, is_conditional in full.items() if not is_conditional),
        principal_sets=grouped,
    )
    escalation_edges, set_nodes = _escalation_edges(inputs, edges)
    edges += escalation_edges
    nodes += set_nodes
    resources = _non_identity_resources(resources, principals)
    members = _set_members(resources, accounts) if resources is not None else _NO_MEMBERS
    access_edges, classes = _access_edges(summary.scopes, principals, resources, members)
    reached_sets = members.join(classes.select(set_id="target_id"), on="set_id", how="semi").select(
        "set_id", "resource_arn")
    sets = {k: tuple(v) for k, v in reached_sets.group_by("set_id", maintain_order=True).agg("resource_arn").iter_rows()}
    nodes += _resource_nodes(resources, classes, sets)

    used_set = _used_pairs(used_edges, {m: g.set_id for g in grouped.values() for m in g.members})
    used_sources = {source for source, _, _ in used_set}
    used = [_is_used(e, used_set, used_sources) for e in edges]
    graph = _assemble(nodes, edges, used, access_edges)
    graph.graph["resource_sets"] = sets
    routes = admin_routes(graph, [admin_node_id(a) for a in accounts])
    flagged = _unused_admin_pairs(graph, routes)
    for u, v in flagged:
        graph.edges[u, v]["is_unused_admin_edge"] = True
    findings += trust_findings + _skipped_rule_findings(workload_list)
    return PermissionGraph(
        graph=graph,
        nodes=pl.DataFrame([vars(n) for n in nodes], schema=NODES_SCHEMA, orient="row") if nodes
        else pl.DataFrame(schema=NODES_SCHEMA),
        edges=_edge_rows(edges, used, flagged, access_edges),
        findings=pl.DataFrame([(f.code, f.subject_id, f.reason) for f in dict.fromkeys(findings)],
                              schema=FINDINGS_SCHEMA, orient="row"),
        admin_routes=routes,
        resource_set_members=reached_sets,
    )
