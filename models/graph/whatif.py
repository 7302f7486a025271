"""What-if on the permission graph: the same graph with one identity's edges changed, for re-running reach.

Only the changed identity's outgoing edges differ from the baseline, so the graph is edited rather than
rebuilt: its outgoing edges are replaced by those of a graph built from its new grants alone, given edges
are removed, or the identity is retired. Admin routes are recomputed on the edited graph.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.graph.build import admin_routes
from models.graph.model import ADMIN, PermissionGraph
from models.graph.reach import blast_radius


def with_changes(
    base: PermissionGraph,
    identity_id: str,
    *,
    replacement: PermissionGraph | None = None,
    remove_edges: Iterable[tuple[str, str]] = (),
    retire: bool = False,
) -> PermissionGraph:
    """A copy of ``base`` with ``identity_id``'s outgoing edges taken from ``replacement`` (a graph built
    from its new grants), the listed edges removed, or the identity gone (``retire``)."""
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
    admins = [n for n, d in graph.nodes(data=True) if d.get("node_type") == ADMIN]
    return PermissionGraph(
        graph=graph, nodes=base.nodes, edges=base.edges, findings=base.findings, admin_routes=admin_routes(graph, admins)
    )


def blast_radius_of(permission_graph: PermissionGraph, identity_id: str) -> dict | None:
    """The identity's ``blast_radius`` row in this graph, or None when it is not in it (retired)."""
    if identity_id not in permission_graph.graph:
        return None
    frame = blast_radius(permission_graph)
    rows = frame.filter(frame["identity_id"] == identity_id)
    return rows.row(0, named=True) if rows.height else None
