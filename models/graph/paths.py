"""Escalation paths: every way from an identity to full control of an account, step by step.

Paths run over the delegation edges (MEMBER_OF, CAN_ASSUME, CAN_ESCALATE,
IS_ADMIN, and CONTAINS out of a principal set) inside the part of the graph
that can reach an admin node at all (known from the graph's ``admin_routes``),
so no search starts where it cannot end. Bounds, both documented in the output's contract:

- ``max_hops`` (default 6): paths of at most that many edges, a principal
  set's CONTAINS steps not counted (see ``models.graph.model``). Real
  escalations are short; a longer chain is also a shorter one's detour.
- ``max_paths_per_identity`` (default 50): at most that many paths per
  identity, always including its shortest route; the rest are the first found
  by a depth-first walk (neighbours in id order), then sorted by length.

A path is a sequence of nodes, each step the preferred edge between two nodes
(unconditional, used, simplest; other methods between the same two nodes are
in the edges frame). Paths may pass through one account's admin node on the
way to another's (full control of a dev account that a prod role trusts).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import networkx as nx
import polars as pl

from models.graph.model import (
    ADMIN,
    CONTAINS,
    DELEGATION_EDGE_TYPES,
    IDENTITY,
    MEMBER_OF,
    MOVE_EDGE_TYPES,
    PermissionGraph,
    hop_count,
)

STEP_TYPE = pl.Struct(
    {
        "from": pl.String,
        "to": pl.String,
        "edge_type": pl.String,
        "method": pl.String,
        "reason": pl.String,
        "is_conditional": pl.Boolean,
        "is_used": pl.Boolean,
    }
)

ESCALATION_PATHS_SCHEMA = {
    "identity_id": pl.String,
    "target_id": pl.String,
    "method": pl.String,
    "hops": pl.Int64,
    "steps": pl.List(STEP_TYPE),
    "methods": pl.List(pl.String),
    "is_conditional": pl.Boolean,
    "has_unused_edge": pl.Boolean,
    "is_shortest": pl.Boolean,
}

DEFAULT_MAX_HOPS = 6
DEFAULT_MAX_PATHS_PER_IDENTITY = 50


def _simple_paths(steps: dict[str, list[tuple[str, int]]], source: str, hops_to_admin: dict[str, int], admins: frozenset[str],
                  max_hops: int) -> Iterator[list[str]]:
    """Simple paths from ``source`` ending at an admin node, at most ``max_hops`` hops, depth first.

    networkx's ``all_simple_paths`` cannot prune by distance to the targets;
    here a step is taken only to a node whose shortest route to an admin node
    fits in the hops left, so every branch walked ends in a path.
    """
    path, on_path, hops_at = [source], {source}, [0]
    stack = [iter(steps.get(source, ()))]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            on_path.discard(path.pop())
            hops_at.pop()
            continue
        child, hop = step
        hops = hops_at[-1] + hop
        if child in on_path or hops + hops_to_admin[child] > max_hops:
            continue
        path.append(child)
        on_path.add(child)
        hops_at.append(hops)
        if child in admins:
            yield list(path)
        stack.append(iter(steps.get(child, ())))


def _identity_paths(steps: dict[str, list[tuple[str, int]]], identity_id: str, shortest: tuple[str, ...], hops: dict[str, int],
                    admins: frozenset[str], max_hops: int, max_paths: int) -> list[list[str]]:
    found = [list(shortest)] if hops[identity_id] <= max_hops else []
    others = (p for p in _simple_paths(steps, identity_id, hops, admins, max_hops) if tuple(p) != shortest)
    found += islice(others, max(0, max_paths - len(found)))
    return sorted(found, key=lambda p: (p != list(shortest), len(p), p))


def _steps_frame(graph: nx.DiGraph, paths: list[list[str]]) -> pl.DataFrame:
    """One row per step of every path: ``path_index, step_index`` and the step's fields."""
    columns: dict[str, list] = {name: [] for name in ("path_index", "step_index", *STEP_TYPE.to_schema())}
    for path_index, path in enumerate(paths):
        for step_index, (u, v) in enumerate(zip(path, path[1:])):
            d = graph.edges[u, v]
            for name, value in (("path_index", path_index), ("step_index", step_index), ("from", u), ("to", v),
                                ("edge_type", d["edge_type"]), ("method", d["method"]), ("reason", d["reason"]),
                                ("is_conditional", d["is_conditional"]), ("is_used", d["is_used"])):
                columns[name].append(value)
    return pl.DataFrame(columns, schema={"path_index": pl.Int64, "step_index": pl.Int64, **STEP_TYPE.to_schema()})


def _paths_frame(graph: nx.DiGraph, paths: list[list[str]], shortest: list[bool]) -> pl.DataFrame:
    steps = _steps_frame(graph, paths)
    is_move = pl.col("edge_type").is_in(list(MOVE_EDGE_TYPES))
    per_path = (
        steps.sort("path_index", "step_index")
        .group_by("path_index", maintain_order=True)
        .agg(
            identity_id=pl.col("from").first(),
            target_id=pl.col("to").last(),
            # The method that names the path: its first step beyond group membership.
            method=pl.col("method").filter(pl.col("edge_type") != MEMBER_OF).first().fill_null(pl.col("method").first()),
            hops=(pl.col("edge_type") != CONTAINS).sum().cast(pl.Int64),
            steps=pl.struct(list(STEP_TYPE.to_schema())),
            methods=pl.col("method"),
            is_conditional=pl.col("is_conditional").any(),
            has_unused_edge=(is_move & ~pl.col("is_used").fill_null(True)).any(),
        )
        .with_columns(is_shortest=pl.Series(shortest, dtype=pl.Boolean))
    )
    return per_path.select([pl.col(name).cast(dtype) for name, dtype in ESCALATION_PATHS_SCHEMA.items()])


def escalation_paths(permission_graph: PermissionGraph, max_hops: int = DEFAULT_MAX_HOPS,
                     max_paths_per_identity: int = DEFAULT_MAX_PATHS_PER_IDENTITY) -> pl.DataFrame:
    """Paths from identities to admin nodes (``ESCALATION_PATHS_SCHEMA``), within the module's bounds.

    ``method`` names the path by its first step beyond group membership;
    ``methods`` lists every step's; ``has_unused_edge`` says some move on the
    path (assume or escalate) was never taken in the window.
    """
    graph = permission_graph.graph
    routes = permission_graph.admin_routes
    # each node's steps (successor, hops it adds) by id, sorted once: a principal set has every member of its
    # kind as a successor, and many searches pass through it
    steps: dict[str, list[tuple[str, int]]] = {}
    for u, v, t in graph.edges(data="edge_type"):
        if t in DELEGATION_EDGE_TYPES and u in routes and v in routes:
            steps.setdefault(u, []).append((v, hop_count(t)))
    for successors in steps.values():
        successors.sort()
    admins = frozenset(n for n in routes if graph.nodes[n]["node_type"] == ADMIN)
    hops = {n: route.hops for n, route in routes.items()}
    paths: list[list[str]] = []
    shortest: list[bool] = []
    for identity_id in sorted(n for n in routes if graph.nodes[n]["node_type"] == IDENTITY):
        best = routes[identity_id].path
        for path in _identity_paths(steps, identity_id, best, hops, admins, max_hops, max_paths_per_identity):
            paths.append(path)
            shortest.append(tuple(path) == best)
    if not paths:
        return pl.DataFrame(schema=ESCALATION_PATHS_SCHEMA)
    return _paths_frame(graph, paths, shortest)
