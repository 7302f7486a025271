"""What-if on the permission graph: the same graph with one identity's edges changed, and that identity's
blast radius re-run on it.

Only the changed identity's outgoing edges differ from the baseline, so the graph is edited rather than
rebuilt: its outgoing edges are replaced by those of a graph built from its new grants alone, given edges
are removed, or the identity is retired. ``blast_radius_from`` then searches from that one identity, so a
what-if costs what the identity reaches, not what the whole graph holds; it gives the figures
``blast_radius`` gives for the same identity (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from models.graph.build import CONDITIONAL_EDGE_COST
from models.graph.model import ADMIN, CAN_ACCESS, DELEGATION_EDGE_TYPES, IDENTITY, PermissionGraph
from models.graph.scoring import SENSITIVE_TIERS, TIER_WEIGHTS, access_weight, blast_radius_score


def with_changes(
    base: PermissionGraph,
    identity_id: str,
    *,
    replacement: PermissionGraph | None = None,
    remove_edges: Iterable[tuple[str, str]] = (),
    retire: bool = False,
) -> nx.DiGraph:
    """A copy of ``base``'s graph with ``identity_id``'s outgoing edges taken from ``replacement`` (a graph
    built from its new grants), the listed edges removed, or the identity gone (``retire``)."""
    graph = base.graph.copy()
    if retire:
        graph.remove_node(identity_id)
    if replacement is not None and identity_id in graph:
        graph.remove_edges_from(list(graph.out_edges(identity_id)))
        for _, target, data in replacement.graph.out_edges(identity_id, data=True):
            if target not in graph:
                graph.add_node(target, **replacement.graph.nodes[target])
            graph.add_edge(identity_id, target, **data)
    graph.remove_edges_from([e for e in remove_edges if graph.has_edge(*e)])
    return graph


def _delegation_view(graph: nx.DiGraph) -> nx.DiGraph:
    return nx.subgraph_view(graph, filter_edge=lambda u, v: graph.edges[u, v]["edge_type"] in DELEGATION_EDGE_TYPES)


def _route_to_admin(delegation: nx.DiGraph, identity_id: str) -> list[str] | None:
    """The cheapest path to an admin node (a conditional edge costs a little more, as at build time)."""
    costs, paths = nx.single_source_dijkstra(
        delegation, identity_id,
        weight=lambda u, v, d: CONDITIONAL_EDGE_COST if d["is_conditional"] else 1.0,
    )
    admins = [n for n in costs if delegation.nodes[n]["node_type"] == ADMIN]
    if not admins:
        return None
    return paths[min(admins, key=lambda n: (costs[n], n))]


def blast_radius_from(graph: nx.DiGraph, identity_id: str) -> dict | None:
    """``blast_radius``'s figures for one identity, searched from it alone; None when it is not in the graph."""
    if identity_id not in graph:
        return None
    delegation = _delegation_view(graph)
    reached = nx.descendants(delegation, identity_id) | {identity_id}
    nodes = graph.nodes
    identities = sum(
        1 for n in reached
        if n != identity_id and nodes[n]["node_type"] == IDENTITY and nodes[n].get("kind") != "group"
    )
    admins = sorted(n for n in reached if nodes[n]["node_type"] == ADMIN)
    resources, worst = set(), {}
    for n in reached:
        for _, target, data in graph.out_edges(n, data=True):
            if data["edge_type"] != CAN_ACCESS:
                continue
            resources.add(target)
            node = nodes[target]
            damage = access_weight(data["access_level"]) * TIER_WEIGHTS.get(node["sensitivity_tier"], 1.0)
            group = (node["service"] or "", node["account"] or "")
            worst[group] = max(worst.get(group, 0.0), damage)
    points = sum(worst.values())
    path = _route_to_admin(delegation, identity_id) if admins else None
    return {
        "identity_id": identity_id,
        "reachable_identities": identities,
        "reachable_resources": len(resources),
        "reachable_sensitive_resources": sum(1 for r in resources if nodes[r]["sensitivity_tier"] in SENSITIVE_TIERS),
        "can_reach_admin": bool(admins),
        "hops_to_admin": len(path) - 1 if path else None,
        "path_to_admin": path,
        "reachable_admin_ids": admins,
        "reach_points": points,
        "blast_radius_score": blast_radius_score(points, can_reach_admin=bool(admins)),
    }
