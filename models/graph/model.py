"""Node, edge and finding types of the permission graph, and the frames they become.

Node ids: an identity's ``identity_id`` (its ARN for AWS); ``admin:<account>``
for full control of an account; a resource's ARN; ``service:<service>:<account>``
for a class of resources (a service in an account) where no known resource
stands for what a grant reaches; ``every:<service>:<account>`` for the set of
every known resource of a service an account's principals can name (those of
the account, and those whose ARN has no account), reached by a grant that
matches them all: one edge instead of one per resource. The graph's
``graph.graph["resource_sets"]`` maps each set to its members' ARNs.
``principals:<kind>:<account>`` is the set of every principal of one kind
(user, role, group) of an account, reached by an escalation rule whose
actions a principal holds on all of them alike (``iam:UpdateAssumeRolePolicy``
on ``*``): one edge to the set, and a ``CONTAINS`` edge from the set to each
member, instead of one edge from every such principal to every member. A
``CONTAINS`` step costs no hop: a route through a set is as long as the
direct one it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import polars as pl

# Node types.
IDENTITY = "identity"
ADMIN = "admin"
RESOURCE = "resource"
SERVICE = "service"
RESOURCE_SET = "resource_set"
PRINCIPAL_SET = "principal_set"

# Edge types. MEMBER_OF, CAN_ASSUME, CAN_ESCALATE and IS_ADMIN link principals
# (and admin nodes), CONTAINS a principal set to its members: together they are
# the delegation graph reach is computed on. CAN_ACCESS links a principal to what
# its own grants reach.
MEMBER_OF = "MEMBER_OF"
CAN_ASSUME = "CAN_ASSUME"
CAN_ESCALATE = "CAN_ESCALATE"
IS_ADMIN = "IS_ADMIN"
CONTAINS = "CONTAINS"
CAN_ACCESS = "CAN_ACCESS"
DELEGATION_EDGE_TYPES = (MEMBER_OF, CAN_ASSUME, CAN_ESCALATE, IS_ADMIN, CONTAINS)
# Edges a person or agent chooses to take, so the window's events can show them taken.
MOVE_EDGE_TYPES = (CAN_ASSUME, CAN_ESCALATE)

# Edge methods that are not escalation-rule codes.
METHOD_MEMBERSHIP = "group_membership"
METHOD_ASSUME_ROLE = "assume_role"
METHOD_ADMIN_ASSUME_ROLE = "account_admin_assume_role"
METHOD_FULL_ACCESS = "full_access"
METHOD_ACCESS = "access"
METHOD_SET_MEMBER = "set_member"


def admin_node_id(account: str) -> str:
    return f"admin:{account}"


def resource_set_id(service: str, account: str | None) -> str:
    return f"every:{service}:{account}" if account else f"every:{service}"


def principal_set_id(kind: str, account: str) -> str:
    return f"principals:{kind}:{account}"


def hop_count(edge_type: str) -> int:
    """Hops an edge adds to a route: a set's CONTAINS step adds none (it stands for the direct edge's target)."""
    return 0 if edge_type == CONTAINS else 1


def service_node_id(service: str, account: str | None) -> str:
    return f"service:{service}:{account}" if account else f"service:{service}"


@dataclass(frozen=True)
class Node:
    """One node of the graph.

    node_id: see the module docstring.
    node_type: ``identity``, ``admin``, ``resource``, ``service``, ``resource_set``
        or ``principal_set``.
    label: a short human name (the identity's name, "full control of 1111...").
    kind: identities: ``user``, ``role``, ``group`` or ``other``; principal sets:
        their members' kind; else None.
    account: the AWS account the node belongs to, where known.
    service: resources and service classes: the IAM service prefix.
    sensitivity_tier: resources and service classes: ``critical``, ``high``,
        ``medium`` or ``low`` (the resource's own tier, else the service default);
        resource sets: their members' highest.
    is_ai: identities: the inventory's AI flag.
    environment: identities: ``prod``, ``dev``..., where known.
    member_count: resource and principal sets: how many members the set holds.
    """

    node_id: str
    node_type: str
    label: str
    kind: str | None = None
    account: str | None = None
    service: str | None = None
    sensitivity_tier: str | None = None
    is_ai: bool | None = None
    environment: str | None = None
    member_count: int | None = None


@dataclass(frozen=True, slots=True)
class Edge:
    """One edge: ``source_id`` can become, control or reach ``target_id``.

    edge_type: one of the edge type constants above.
    method: how: an escalation-rule code (``passrole_lambda``), or
        ``group_membership``, ``assume_role``, ``account_admin_assume_role``,
        ``full_access``, ``access``, ``set_member``.
    reason: one human sentence saying why the edge exists.
    is_conditional: some policy statement the edge depends on has a
        ``Condition``, whose values are not evaluated: the edge may not exist.
    subject_id: CAN_ESCALATE edges to an admin node: the principal whose
        permissions the source can rewrite (itself, or one it reaches).
    access_level: CAN_ACCESS edges: the highest access level granted.
    """

    source_id: str
    target_id: str
    edge_type: str
    method: str
    reason: str
    is_conditional: bool = False
    subject_id: str | None = None
    access_level: str | None = None


@dataclass(frozen=True)
class Finding:
    """Something the graph could not model, or modelled with a caveat.

    code: ``invalid_trust_policy``, ``external_trust`` (a trust policy lets in an
        account or principal that is not in the data), ``rule_skipped`` (an
        escalation rule needs an input that was not given).
    subject_id: the identity concerned, or the rule code for ``rule_skipped``.
    reason: one human sentence.
    """

    code: str
    subject_id: str
    reason: str


NODES_SCHEMA = {
    "node_id": pl.String,
    "node_type": pl.String,
    "label": pl.String,
    "kind": pl.String,
    "account": pl.String,
    "service": pl.String,
    "sensitivity_tier": pl.String,
    "is_ai": pl.Boolean,
    "environment": pl.String,
    "member_count": pl.Int64,
}

EDGES_SCHEMA = {
    "source_id": pl.String,
    "target_id": pl.String,
    "edge_type": pl.String,
    "method": pl.String,
    "reason": pl.String,
    "is_conditional": pl.Boolean,
    "is_used": pl.Boolean,
    "is_unused_admin_edge": pl.Boolean,
    "subject_id": pl.String,
    "access_level": pl.String,
}

FINDINGS_SCHEMA = {"code": pl.String, "subject_id": pl.String, "reason": pl.String}
RESOURCE_SET_MEMBERS_SCHEMA = {"set_id": pl.String, "resource_arn": pl.String}


@dataclass(frozen=True, slots=True)
class AdminRoute:
    """The shortest way from a node to full control of some account.

    hops: number of edges, a principal set's ``CONTAINS`` steps not counted.
    path: node ids, the node first, the admin node last (a principal set on the
        way included).
    """

    hops: int
    path: tuple[str, ...]


@dataclass(frozen=True)
class PermissionGraph:
    """The permission graph of one run.

    graph: a ``networkx.DiGraph``; nodes carry the ``Node`` fields, edges the
        fields of their preferred ``Edge`` (unconditional, used, then the rule
        table's order) plus ``methods`` (every method between the two nodes,
        comma-separated) and ``is_used`` / ``is_unused_admin_edge``.
    nodes: ``NODES_SCHEMA``, one row per node.
    edges: ``EDGES_SCHEMA``, one row per (source, target, edge type, method):
        parallel methods between two nodes are all kept here.
    findings: ``FINDINGS_SCHEMA``.
    admin_routes: node id -> its shortest ``AdminRoute``, for every node that
        can reach an admin node (admin nodes themselves: 0 hops).
    resource_set_members: ``RESOURCE_SET_MEMBERS_SCHEMA``, the members of each
        resource set an edge reaches.
    """

    graph: nx.DiGraph
    nodes: pl.DataFrame
    edges: pl.DataFrame
    findings: pl.DataFrame
    admin_routes: dict[str, AdminRoute] = field(default_factory=dict)
    resource_set_members: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=RESOURCE_SET_MEMBERS_SCHEMA))

    def delegation_graph(self) -> nx.DiGraph:
        """A read-only view of the principal-to-principal edges (no CAN_ACCESS)."""
        return nx.subgraph_view(
            self.graph, filter_edge=lambda u, v: self.graph.edges[u, v]["edge_type"] in DELEGATION_EDGE_TYPES
        )
