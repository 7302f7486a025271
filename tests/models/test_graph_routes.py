"""Routes to admin: the same routes as networkx's multi-source Dijkstra on the reversed delegation graph."""

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from models.graph.build import admin_routes, edge_cost
from models.graph.model import CAN_ACCESS, CAN_ASSUME, CAN_ESCALATE, CONTAINS, MEMBER_OF, hop_count

EDGE_TYPES = [CAN_ASSUME, CAN_ESCALATE, MEMBER_OF, CONTAINS, CAN_ACCESS]  # CAN_ACCESS delegates nothing


def networkx_routes(graph: nx.DiGraph, admins: list[str]) -> dict[str, tuple[int, tuple[str, ...]]]:
    """What the routes were before they were ours: networkx's search, hops summed along its paths."""
    reversed_delegation = nx.DiGraph()
    reversed_delegation.add_nodes_from(admins)
    reversed_delegation.add_edges_from(
        (v, u, {"cost": edge_cost(d["edge_type"], d["is_conditional"]), "hops": hop_count(d["edge_type"])})
        for u, v, d in graph.edges(data=True) if d["edge_type"] != CAN_ACCESS
    )
    _, paths = nx.multi_source_dijkstra(reversed_delegation, admins, weight="cost")
    return {node: (sum(reversed_delegation.edges[u, v]["hops"] for u, v in zip(path, path[1:])),
                   tuple(reversed(path))) for node, path in paths.items()}


edges = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.sampled_from(EDGE_TYPES), st.booleans()),
                 max_size=40)


@settings(max_examples=300, deadline=None)
@given(edges, st.lists(st.integers(0, 9), min_size=1, max_size=3, unique=True))
def test_routes_are_networkxs_shortest_paths_ties_included(pairs, admin_numbers):
    graph = nx.DiGraph()
    graph.add_nodes_from(f"n{i}" for i in range(10))
    for u, v, edge_type, is_conditional in pairs:
        if u != v:
            graph.add_edge(f"n{u}", f"n{v}", edge_type=edge_type, is_conditional=is_conditional)
    admins = [f"n{i}" for i in admin_numbers]
    routes, expected = admin_routes(graph, admins), networkx_routes(graph, admins)
    assert {node: (r.hops, r.path) for node, r in routes.items()} == expected
    assert list(routes) == list(expected)


def test_a_contains_step_adds_no_hop_and_a_conditional_edge_loses_a_tie():
    graph = nx.DiGraph()
    graph.add_edge("a", "set", edge_type=CAN_ESCALATE, is_conditional=False)
    graph.add_edge("set", "b", edge_type=CONTAINS, is_conditional=False)
    graph.add_edge("b", "admin", edge_type=CAN_ESCALATE, is_conditional=False)
    graph.add_edge("a", "c", edge_type=CAN_ASSUME, is_conditional=True)
    graph.add_edge("c", "admin", edge_type=CAN_ESCALATE, is_conditional=False)
    routes = admin_routes(graph, ["admin"])
    assert (routes["a"].hops, routes["a"].path) == (2, ("a", "set", "b", "admin"))
    assert (routes["c"].hops, routes["c"].path) == (1, ("c", "admin"))
    assert admin_routes(graph, []) == {}
