"""Blast radius of every identity at once, on the condensation of the delegation graph.

The delegation graph (principals and admin nodes; MEMBER_OF, CAN_ASSUME,
CAN_ESCALATE, IS_ADMIN edges) is condensed into its strongly connected
components, a DAG. Walking that DAG once from the sinks up, each component's
reach is its members plus the union of its successors' reach, held as Python
integers used as bitsets: reachable identities, admin nodes, resources, and
(service, damage) pairs for the score. Cost is linear in the DAG's edges times the bitset width; a
component's sets are dropped once every predecessor has read them, and pure
sources (nobody reaches them) are never stored. Shortest routes to admin come
from the graph's ``admin_routes`` (one multi-source search at build time).

Counted:
- ``reachable_identities``: users, roles and other principals reachable,
  the identity itself excluded; groups are not counted (a group is reached
  through membership and its grants count as resources).
- ``reachable_resources``: resource and service-class nodes any reachable
  principal (the identity included) has a CAN_ACCESS edge to, a resource set
  counting as its members;
  ``reachable_sensitive_resources``: those of a tier in ``SENSITIVE_TIERS``.
- ``reach_points`` and ``blast_radius_score``: see ``models.graph.scoring``;
  each service of each account counts once, at its worst reached resource.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import polars as pl

from models.collector import gc_paused
from models.graph.components import bits_at, condense
from models.graph.model import ADMIN, CAN_ACCESS, DELEGATION_EDGE_TYPES, IDENTITY, PermissionGraph
from models.graph.scoring import DAMAGE_VALUES, SENSITIVE_TIERS, blast_radius_score, damage

BLAST_RADIUS_SCHEMA = {
    "identity_id": pl.String,
    "kind": pl.String,
    "reachable_identities": pl.Int64,
    "reachable_resources": pl.Int64,
    "reachable_sensitive_resources": pl.Int64,
    "can_reach_admin": pl.Boolean,
    "hops_to_admin": pl.Int64,
    "path_to_admin": pl.List(pl.String),
    "reachable_admin_ids": pl.List(pl.String),
    "reach_points": pl.Float64,
    "blast_radius_score": pl.Int64,
}


class _Index:
    """Bit positions of what reach is made of.

    identity_bit: identities someone else can reach (only they can be counted
        in another's reach). admin_bit: admin nodes. resource_bit: every
        CAN_ACCESS target, or member of a resource set that is one, for the
        counts. Score bits: one bit per (damage value, service of an account)
        pair, in layers of all groups, the worst damage first, so each group
        counts once, at the first layer it appears in.
    """

    def __init__(self, graph: nx.DiGraph, delegation: "_Delegation"):
        nodes = self.graph_nodes = graph.nodes
        self.identity_bit = {
            n: i
            for i, n in enumerate(sorted(
                n for n in delegation.reached
                if nodes[n]["node_type"] == IDENTITY and nodes[n]["kind"] != "group"
            ))
        }
        self.admin_ids = sorted(n for n in delegation.successors if nodes[n]["node_type"] == ADMIN)
        self.admin_bit = {n: i for i, n in enumerate(self.admin_ids)}
        reached = delegation.access_targets
        self.sets = {k: members for k, members in graph.graph.get("resource_sets", {}).items() if k in reached}
        targets = sorted((reached - self.sets.keys()).union(*self.sets.values()))
        self.resource_bit = {n: i for i, n in enumerate(targets)}
        self.sensitive_mask = 0
        for n, i in self.resource_bit.items():
            if nodes[n]["sensitivity_tier"] in SENSITIVE_TIERS:
                self.sensitive_mask |= 1 << i
        self.damage_values = DAMAGE_VALUES
        self._damage_rank = {v: i for i, v in enumerate(self.damage_values)}
        groups = sorted({self._group(n) for n in targets})
        self._group_index = {g: i for i, g in enumerate(groups)}
        self._bits: dict[tuple[str, str], tuple[int, int]] = {}
        self._positions: dict[tuple[str, str], tuple[int, int]] = {}

    def _group(self, target: str) -> tuple[str, str]:
        node = self.graph_nodes[target]
        return node["service"] or "", node["account"] or ""

    def _score_bit(self, target: str, access_level: str) -> int:
        value = damage(access_level, self.graph_nodes[target]["sensitivity_tier"])
        return self._damage_rank[value] * len(self._group_index) + self._group_index[self._group(target)]

    def set_bits(self, target: str, access_level: str) -> tuple[int, int]:
        """The resource bits and score bits of one CAN_ACCESS edge to a resource set: those of each member."""
        key = (target, access_level)
        if key not in self._bits:
            members = self.sets[target]
            self._bits[key] = (bits_at([self.resource_bit[m] for m in members]),
                               bits_at([self._score_bit(m, access_level) for m in members]))
        return self._bits[key]

    def positions(self, target: str, access_level: str) -> tuple[int, int]:
        """The resource bit and score bit of one CAN_ACCESS edge to a single resource or service class."""
        key = (target, access_level)
        if key not in self._positions:
            self._positions[key] = (self.resource_bit[target], self._score_bit(target, access_level))
        return self._positions[key]

    def points(self, score_bits: int) -> float:
        """Sum over groups of the worst damage reached in each: layers of groups, worst damage first."""
        width = len(self._group_index)
        every_group, covered, points = (1 << width) - 1, 0, 0.0
        for rank, damage in enumerate(self.damage_values):
            layer = (score_bits >> (rank * width)) & every_group & ~covered
            if layer:
                points += damage * layer.bit_count()
                covered |= layer
        return points


class _Reach:
    """What one component reaches, as bitsets of the ``_Index`` positions."""

    __slots__ = ("identities", "admins", "resources", "scores")

    def __init__(self) -> None:
        self.identities = 0
        self.admins = 0
        self.resources = 0
        self.scores = 0

    def absorb(self, other: "_Reach") -> None:
        self.identities |= other.identities
        self.admins |= other.admins
        self.resources |= other.resources
        self.scores |= other.scores


@dataclass(frozen=True)
class _Delegation:
    """The delegation graph as adjacency lists (identity and admin nodes, and principal sets), the nodes some
    delegation edge reaches, and every CAN_ACCESS target: one pass over the graph's edges gives all three."""

    successors: dict[str, list[str]]
    reached: set[str]
    access_targets: set[str]


def _delegation_of(graph: nx.DiGraph) -> _Delegation:
    successors: dict[str, list[str]] = {n: [] for n, t in graph.nodes(data="node_type") if t in (IDENTITY, ADMIN)}
    reached, access_targets = set(), set()
    for u, targets in graph.succ.items():
        for v, data in targets.items():
            if data["edge_type"] == CAN_ACCESS:
                access_targets.add(v)
            elif data["edge_type"] in DELEGATION_EDGE_TYPES:
                successors.setdefault(u, []).append(v)
                reached.add(v)
    for v in reached:
        successors.setdefault(v, [])
    return _Delegation(successors, reached, access_targets)


def _own_reach(members, graph: nx.DiGraph, index: _Index) -> _Reach:
    reach = _Reach()
    identities, resources, scores = [], [], []
    for n in members:
        if n in index.identity_bit:
            identities.append(index.identity_bit[n])
        if n in index.admin_bit:
            reach.admins |= 1 << index.admin_bit[n]
        for target, data in graph.succ[n].items():
            if data["edge_type"] != CAN_ACCESS:
                continue
            if target in index.sets:
                set_resources, set_scores = index.set_bits(target, data["access_level"])
                reach.resources |= set_resources
                reach.scores |= set_scores
            else:
                resource, score = index.positions(target, data["access_level"])
                resources.append(resource)
                scores.append(score)
    reach.identities = bits_at(identities)
    reach.resources |= bits_at(resources)
    reach.scores |= bits_at(scores)
    return reach


def _component_reach(delegation: _Delegation, graph: nx.DiGraph, index: _Index):
    """Yield (members, reach) for every component, sinks first, keeping only sets still needed."""
    condensed = condense(delegation.successors)
    pending = condensed.predecessor_counts()
    stored: dict[int, _Reach] = {}
    for component, members in enumerate(condensed.components):
        reach = _own_reach(members, graph, index)
        for successor in condensed.successors[component]:
            reach.absorb(stored[successor])
            pending[successor] -= 1
            if pending[successor] == 0:
                del stored[successor]
        if pending[component] > 0:
            stored[component] = reach
        yield members, reach


def blast_radius(permission_graph: PermissionGraph) -> pl.DataFrame:
    """One row per identity (``BLAST_RADIUS_SCHEMA``), sorted by ``identity_id``; see the module docstring."""
    with gc_paused():  # a bitset and a row per component, none of them garbage before the end
        return _blast_radius(permission_graph)


def _blast_radius(permission_graph: PermissionGraph) -> pl.DataFrame:
    graph = permission_graph.graph
    delegation = _delegation_of(graph)
    index = _Index(graph, delegation)
    routes = permission_graph.admin_routes
    rows = []
    for members, reach in _component_reach(delegation, graph, index):
        resources, sensitive = reach.resources.bit_count(), (reach.resources & index.sensitive_mask).bit_count()
        points = index.points(reach.scores)
        admins = [a for a, bit in index.admin_bit.items() if reach.admins >> bit & 1]
        reached_identities = reach.identities.bit_count()
        for n in members:
            if graph.nodes[n]["node_type"] != IDENTITY:
                continue
            route = routes.get(n)
            rows.append((
                n, graph.nodes[n]["kind"], reached_identities - (1 if n in index.identity_bit else 0),
                resources, sensitive, bool(admins), route.hops if route else None,
                list(route.path) if route else None, admins, points,
                blast_radius_score(points, can_reach_admin=bool(admins)),
            ))
    return pl.DataFrame(rows, schema=BLAST_RADIUS_SCHEMA, orient="row").sort("identity_id")
