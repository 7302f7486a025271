"""The graph as tables and as a file-ready networkx graph (the pipeline writes it)."""

from __future__ import annotations

import networkx as nx
import polars as pl

from models.graph.model import PermissionGraph


def edges_frame(permission_graph: PermissionGraph) -> pl.DataFrame:
    """Every edge, one row per (source, target, edge type, method): ``EDGES_SCHEMA``.

    ``is_used``: CAN_ASSUME / CAN_ESCALATE only (null otherwise): the window
    shows the move taken. ``is_unused_admin_edge``: such an edge from an
    identity, never taken, whose target is or reaches an admin node (no edge
    between the same two nodes was taken either).
    """
    return permission_graph.edges


def nodes_frame(permission_graph: PermissionGraph) -> pl.DataFrame:
    """Every node: ``NODES_SCHEMA``."""
    return permission_graph.nodes


def findings_frame(permission_graph: PermissionGraph) -> pl.DataFrame:
    """What the graph could not model, or modelled with a caveat: ``FINDINGS_SCHEMA``."""
    return permission_graph.findings


def _plain(attributes: dict) -> dict:
    # GraphML has no null: an absent attribute is how it says "unknown".
    return {k: v for k, v in attributes.items() if v is not None}


def export_graph(permission_graph: PermissionGraph) -> nx.DiGraph:
    """A copy of the graph whose attributes are strings, numbers and booleans only.

    ``nx.write_graphml`` and ``nx.node_link_data`` take it as it is. Edges
    between the same two nodes are one edge (``methods`` lists them all).
    """
    graph = permission_graph.graph
    exported = nx.DiGraph(name="overreach permission graph")
    exported.add_nodes_from((n, _plain(d)) for n, d in graph.nodes(data=True))
    exported.add_edges_from((u, v, _plain(d)) for u, v, d in graph.edges(data=True))
    return exported
