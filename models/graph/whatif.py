"""What-if on the permission graph: one identity's edges changed, and its blast radius re-run.

Only the changed identity's outgoing edges differ from the baseline, so nothing is rebuilt or copied:
``ReachIndex`` holds the graph's delegation edges and, per node, what its own access edges reach;
``ReachIndex.changed`` edits one identity's edges in place for the length of a ``with`` block and restores
them after. ``ReachIndex.figures`` searches from that one identity, so a what-if costs what the identity
reaches, not what the graph holds. Its figures are those ``blast_radius`` gives (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import networkx as nx

from models.graph.build import edge_cost
from models.graph.model import ADMIN, CAN_ACCESS, CONTAINS, DELEGATION_EDGE_TYPES, IDENTITY, RESOURCE_SET, PermissionGraph
from models.graph.scoring import SENSITIVE_TIERS, TIER_WEIGHTS, access_weight, blast_radius_score


@dataclass(frozen=True)
class Access:
    """What one node's own CAN_ACCESS edges reach: the targets (a resource set by its id, not its members: an
    organisation's principals would otherwise hold millions of member names), and the worst damage per
    (service, account)."""

    targets: frozenset[str]
    worst: tuple[tuple[tuple[str, str], float], ...]


NO_ACCESS = Access(frozenset(), ())


def _access_of(graph: nx.DiGraph, edges: Iterable[tuple[str, str, dict]]) -> Access:
    targets, worst = set(), {}
    sets = graph.graph.get("resource_sets", {})
    for _, target, data in edges:
        if data["edge_type"] != CAN_ACCESS:
            continue
        targets.add(target)
        for member in sets.get(target, (target,)):
            node = graph.nodes[member]
            damage = access_weight(data["access_level"]) * TIER_WEIGHTS.get(node["sensitivity_tier"], 1.0)
            group = (node["service"] or "", node["account"] or "")
            worst[group] = max(worst.get(group, 0.0), damage)
    return Access(frozenset(targets), tuple(sorted(worst.items()))) if targets else NO_ACCESS


def _cost(data: dict) -> dict:
    """The edge attributes a what-if reads: its length on a route, as at build time."""
    return {"cost": edge_cost(data["edge_type"], data["is_conditional"])}


def _slim(data: dict) -> dict:
    """The node attributes a what-if reads."""
    return {"node_type": data["node_type"], "kind": data.get("kind")}


class ReachIndex:
    """The graph's delegation edges and each node's own access, for fast single-identity what-ifs."""

    def __init__(self, graph: nx.DiGraph) -> None:
        # Nothing of ``graph`` is kept: the index outlives it (10k identities: the graph is 1 GiB, the index less).
        self.delegation = nx.DiGraph()
        self.delegation.add_nodes_from(n for n, t in graph.nodes(data="node_type") if t in (IDENTITY, ADMIN))
        self.delegation.add_edges_from(
            (u, v, _cost(d)) for u, v, d in graph.edges(data=True) if d["edge_type"] in DELEGATION_EDGE_TYPES
        )
        for n, data in self.delegation.nodes(data=True):
            data.update(_slim(graph.nodes[n]))
        self.access = {n: access for n in self.delegation
                       if (access := _access_of(graph, graph.out_edges(n, data=True))) is not NO_ACCESS}
        self.sets = dict(graph.graph.get("resource_sets", {}))
        self.sensitive = frozenset(n for n, d in graph.nodes(data=True)
                                   if d["sensitivity_tier"] in SENSITIVE_TIERS and d["node_type"] != RESOURCE_SET)
        self.retired: set[str] = set()

    @contextmanager
    def changed(
        self,
        identity_id: str,
        *,
        replacement: PermissionGraph | None = None,
        remove_edges: Iterable[tuple[str, str]] = (),
        retire: bool = False,
    ) -> Iterator[ReachIndex]:
        """The index with ``identity_id``'s outgoing edges taken from ``replacement`` (a graph built from its
        new grants), the listed edges removed, or the identity retired; restored when the block ends."""
        saved_edges = list(self.delegation.out_edges(identity_id, data=True)) if identity_id in self.delegation else []
        saved_access = self.access.get(identity_id, NO_ACCESS)
        removed = [(u, v, dict(self.delegation.edges[u, v])) for u, v in remove_edges if self.delegation.has_edge(u, v)]
        try:
            if retire:
                self.retired.add(identity_id)
            if replacement is not None and identity_id in self.delegation:
                self.delegation.remove_edges_from([(u, v) for u, v, _ in saved_edges])
                new_edges = list(replacement.graph.out_edges(identity_id, data=True))
                for _, target, data in new_edges:
                    if data["edge_type"] in DELEGATION_EDGE_TYPES:
                        if target not in self.delegation:
                            self._add_node_of(replacement.graph, target)
                        self.delegation.add_edge(identity_id, target, **_cost(data))
                self.access[identity_id] = _access_of(replacement.graph, new_edges)
                # a set's id names the same members in every graph of the same resources: adding is enough
                self.sets |= replacement.graph.graph.get("resource_sets", {})
            self.delegation.remove_edges_from([(u, v) for u, v, _ in removed])
            yield self
        finally:
            self.retired.discard(identity_id)
            if identity_id in self.delegation:
                self.delegation.remove_edges_from(list(self.delegation.out_edges(identity_id)))
                self.delegation.add_edges_from(saved_edges)
            self.delegation.add_edges_from(removed)
            self.access[identity_id] = saved_access

    def _add_node_of(self, graph: nx.DiGraph, node: str) -> None:
        """A node the base graph did not have; a principal set comes with its members, who are the same in every
        graph of the same identities (so the set stays once the what-if ends: no one else reaches it)."""
        self.delegation.add_node(node, **_slim(graph.nodes[node]))
        self.delegation.add_edges_from((node, member, _cost(d)) for _, member, d in graph.out_edges(node, data=True)
                                       if d["edge_type"] == CONTAINS)

    def _route_to_admin(self, identity_id: str) -> list[str] | None:
        """The cheapest path to an admin node (a conditional edge costs a little more, a set's CONTAINS nothing,
        as at build time)."""
        costs, paths = nx.single_source_dijkstra(self.delegation, identity_id, weight="cost")
        admins = [n for n in costs if self.delegation.nodes[n]["node_type"] == ADMIN]
        return paths[min(admins, key=lambda n: (costs[n], n))] if admins else None

    def figures(self, identity_id: str) -> dict | None:
        """``blast_radius``'s figures for one identity, searched from it alone; None when it is retired or absent."""
        if identity_id in self.retired or identity_id not in self.delegation:
            return None
        nodes = self.delegation.nodes
        reached = nx.descendants(self.delegation, identity_id) | {identity_id}
        identities = sum(
            1 for n in reached if n != identity_id and nodes[n]["node_type"] == IDENTITY and nodes[n].get("kind") != "group"
        )
        admins = sorted(n for n in reached if nodes[n]["node_type"] == ADMIN)
        targets: set[str] = set()
        worst: dict[tuple[str, str], float] = {}
        for n in reached:
            access = self.access.get(n, NO_ACCESS)
            targets |= access.targets
            for group, damage in access.worst:
                if damage > worst.get(group, 0.0):
                    worst[group] = damage
        resources = set().union(*(self.sets.get(t, (t,)) for t in targets))
        points = sum(worst.values())
        path = self._route_to_admin(identity_id) if admins else None
        return {
            "identity_id": identity_id,
            "reachable_identities": identities,
            "reachable_resources": len(resources),
            "reachable_sensitive_resources": len(resources & self.sensitive),
            "can_reach_admin": bool(admins),
            "hops_to_admin": sum(self.delegation.edges[u, v]["cost"] > 0 for u, v in zip(path, path[1:]))
            if path else None,
            "path_to_admin": path,
            "reachable_admin_ids": admins,
            "reach_points": points,
            "blast_radius_score": blast_radius_score(points, can_reach_admin=bool(admins)),
        }
