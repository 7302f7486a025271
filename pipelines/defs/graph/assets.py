"""The permission graph: delegation and escalation edges, blast radius, every path to admin."""

import gc

import dagster as dg
import networkx as nx

from models.graph import blast_radius, build_graph, edges_frame, escalation_paths, export_graph, findings_frame
from models.graph.whatif import ReachIndex
from pipelines.graph_io import read_graph_inputs, save_reach_index
from pipelines.assets_support import replace_table, sql_params_for, timed
from pipelines.resources import LIMIT_BESIDE_LARGE_PYTHON, RunSettings, Warehouse
from pipelines.sql import run_sql, table_rows

GROUP = "graph"
TABLES = {
    "permission_edges": "Every edge of the graph with its code and human reason; is_used for delegation and "
    "escalation edges seen in the window, is_unused_admin_edge for never-used edges on a path to admin.",
    "identity_blast_radius": "Per identity: reachable identities and resources, sensitive reach, admin reach "
    "with hops and the shortest path, and a 0–100 blast-radius score.",
    "escalation_paths": "Every path from an identity to full control of an account, step by step (bounded length).",
    "graph_findings": "What the graph could not evaluate or found odd (e.g. a trust policy naming an unknown role).",
    "resource_set_members": "The members of each resource set (every known resource of a service an account's "
    "principals can name) a CAN_ACCESS edge reaches: one edge stands for access to them all.",
}


INPUTS = [["core", "identities"], ["core", "group_memberships"], ["core", "grants"], ["core", "resources"],
          ["core", "access_events"]]


DELEGATIONS = "Who can become whom, and why: group membership, assume role (both sides allow it), pass role to " \
    "a service that runs code, policy writes; with the method, the reason, and whether it was used in the window. " \
    "An edge to a principal set (every user of an account) is one row per member."


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["marts", name], description=text, deps=INPUTS, kinds={"duckdb", "networkx"})
        for name, text in TABLES.items()
    ] + [dg.AssetSpec(["core", "delegations"], description=DELEGATIONS, deps=INPUTS, kinds={"duckdb", "networkx"})],
    group_name=GROUP,
)
def permission_graph(context: dg.AssetExecutionContext, settings: RunSettings, warehouse: Warehouse):
    params = sql_params_for(settings, warehouse, context)
    with timed() as watch:
        with warehouse.connect() as con:
            inputs = read_graph_inputs(con, params)
        # built with the connection closed: DuckDB's cache of what it read (0.5 GiB at 10k identities) is let go
        graph = build_graph(**inputs)
        del inputs
        built = watch.seconds
        frames = {
            "permission_edges": edges_frame(graph),
            "identity_blast_radius": blast_radius(graph),
            "escalation_paths": escalation_paths(graph),
            "graph_findings": findings_frame(graph),
            "resource_set_members": graph.resource_set_members,
        }
        export = warehouse.reports_dir(settings.as_of_date(context)) / "permission_graph.graphml"
        export.parent.mkdir(parents=True, exist_ok=True)
        nx.write_graphml(export_graph(graph), export)
        size = {"nodes": graph.graph.number_of_nodes(), "edges": graph.graph.number_of_edges()}
        save_reach_index(warehouse.reach_index_path, ReachIndex(graph.graph), context.run.run_id)
        # the tables are written without the graph in memory (0.9 GiB at 10k identities); it refers to itself
        del graph
        gc.collect()
        with warehouse.connect(memory_limit=LIMIT_BESIDE_LARGE_PYTHON) as con:
            rows = {name: replace_table(con, f"marts.{name}", frame) for name, frame in frames.items()}
            run_sql(con, "core/delegations", **params)
            delegation_rows = table_rows(con, "core.delegations")
    for name in TABLES:
        metadata = {"rows": rows[name], "seconds": watch.seconds if name == "permission_edges" else 0.0}
        if name == "permission_edges":
            metadata |= {"graph_build_seconds": built, "graphml": str(export)} | size
        yield dg.MaterializeResult(asset_key=["marts", name], metadata=metadata)
    yield dg.MaterializeResult(asset_key=["core", "delegations"], metadata={"rows": delegation_rows})
