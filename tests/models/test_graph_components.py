"""The condensation reach is summed on: networkx's components, each listed after every component it reaches."""

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from models.graph.components import bits_at, condense


def successors_of(nodes: int, pairs: list[tuple[int, int]]) -> dict[int, list[int]]:
    successors = {n: [] for n in range(nodes)}
    for u, v in pairs:
        successors[u].append(v)
    return successors


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))))
def test_components_are_networkxs_and_each_comes_after_all_it_reaches(graph):
    nodes, pairs = graph
    condensed = condense(successors_of(nodes, pairs))
    expected = nx.DiGraph()
    expected.add_nodes_from(range(nodes))
    expected.add_edges_from(pairs)
    assert sorted(map(sorted, condensed.components)) == sorted(map(sorted, nx.strongly_connected_components(expected)))
    of = condensed.component_of
    assert all(of[u] >= of[v] for u, v in pairs)  # sinks first: what an edge leads to is listed no later
    assert [sorted(s) for s in condensed.successors] == [
        sorted({of[v] for u in members for v in expected.successors(u)} - {c})
        for c, members in enumerate(condensed.components)]
    counts = condensed.predecessor_counts()
    assert counts == [sum(c in s for s in condensed.successors) for c in range(len(condensed.components))]


def test_a_chain_longer_than_the_recursion_limit_condenses():
    chain = {n: [n + 1] for n in range(5_000)} | {5_000: []}
    condensed = condense(chain)
    assert condensed.components[0] == [5_000] and condensed.components[-1] == [0] and len(condensed.components) == 5_001


def test_bits_at_sets_exactly_the_given_positions():
    assert bits_at([]) == 0
    assert bits_at([0, 3, 3, 9]) == 0b1000001001
    assert bits_at([200]) == 1 << 200
