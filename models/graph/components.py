"""Strongly connected components of a directed graph held as adjacency lists, sinks first.

networkx's ``condensation`` builds a second graph of every edge between components; at 50,000
principals that is a million edges made only to be walked once. Here Tarjan's algorithm (iterative: a
chain of delegations can be longer than Python's recursion allows) emits each component after every
component it reaches, which is the order reach is summed in. ``bits_at`` makes the bitsets reach is held in.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Condensation:
    """components: node lists, each after all it reaches (sinks first). component_of: node -> its index.
    successors: per component, the indices of the other components its edges lead to."""

    components: list[list[Hashable]]
    component_of: dict[Hashable, int]
    successors: list[set[int]]

    def predecessor_counts(self) -> list[int]:
        counts = [0] * len(self.components)
        for targets in self.successors:
            for target in targets:
                counts[target] += 1
        return counts


def condense(successors: dict[Hashable, list[Hashable]]) -> Condensation:
    """The condensation of the graph whose nodes are ``successors``' keys (every edge's end must be one)."""
    order: dict[Hashable, int] = {}
    low: dict[Hashable, int] = {}
    stack: list[Hashable] = []
    on_stack: set[Hashable] = set()
    components: list[list[Hashable]] = []
    component_of: dict[Hashable, int] = {}
    for root in successors:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(successors[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in order:
                    order[child] = low[child] = len(order)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                    break
                if child in on_stack and order[child] < low[node]:
                    low[node] = order[child]
            else:
                work.pop()
                if work and low[node] < low[work[-1][0]]:
                    low[work[-1][0]] = low[node]
                if low[node] == order[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component_of[member] = len(components)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    linked = [set() for _ in components]
    for node, targets in successors.items():
        source = component_of[node]
        for target in targets:
            if component_of[target] != source:
                linked[source].add(component_of[target])
    return Condensation(components, component_of, linked)


def bits_at(positions: list[int]) -> int:
    """An integer with the given bits set, made once: OR-ing one bit at a time into a wide integer copies it
    each time (tens of thousands of resources make every bitset kilobytes wide)."""
    if not positions:
        return 0
    buffer = bytearray(max(positions) // 8 + 1)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")
