"""The permission graph's inputs, read once per use, and the built graph handed from the graph step to the
recommendations step of the same run (building it costs seconds to minutes; doing it twice buys nothing)."""

import pickle
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from models.graph import GRANT_COLUMNS, GrantSummary, PermissionGraph, build_graph, combine, summarize_grants
from pipelines.identity_runs import RUN_ROWS, identity_runs, read_runs
from pipelines.sql import query_frame


_GRANTS = f"SELECT {', '.join(GRANT_COLUMNS)} FROM core.grants"


def read_graph_inputs(con: duckdb.DuckDBPyConnection, params: dict, with_grants: bool = True) -> dict[str, pl.DataFrame]:
    """``build_graph``'s keyword arguments, from the warehouse; without ``grants`` unless ``with_grants`` (a
    what-if brings the grants of its one identity, ``identity_grants``)."""
    inputs = {
        "identities": query_frame(con, "queries/graph_identities"),
        "group_memberships": con.sql("SELECT user_arn, group_arn FROM core.group_memberships").pl(),
        "resources": con.sql("SELECT resource_arn, service, sensitivity_tier FROM core.resources").pl(),
        "used_edges": query_frame(con, "queries/used_edges", **params),
        "workloads": query_frame(con, "queries/workloads"),
    }
    return inputs | {"grants": read_grant_summary(con)} if with_grants else inputs


def read_grant_summary(con: duckdb.DuckDBPyConnection, run_rows: int = RUN_ROWS) -> GrantSummary:
    """The graph's summary of ``core.grants``, built a run of identities at a time (read whole, the grants of
    10k identities take 5 GiB)."""
    return combine(summarize_grants(frame) for frame in read_runs(con, _GRANTS, identity_runs(con, run_rows)))


def identity_grants(con: duckdb.DuckDBPyConnection, identity_id: str) -> pl.DataFrame:
    """One identity's grants, the columns the graph reads, in table order."""
    return con.sql(f"{_GRANTS} WHERE identity_id = $identity_id ORDER BY rowid", params={"identity_id": identity_id}).pl()


def save_graph(path: Path, graph: PermissionGraph, run_id: str) -> None:
    with path.open("wb") as handle:
        pickle.dump((run_id, graph), handle, protocol=pickle.HIGHEST_PROTOCOL)


def graph_of_run(path: Path, run_id: str, read_inputs: Callable[[], dict[str, pl.DataFrame]]) -> PermissionGraph:
    """The graph this run's graph step built, or a new one from ``read_inputs()`` (a run that skipped that step)."""
    if path.exists():
        with path.open("rb") as handle:
            saved_run, graph = pickle.load(handle)
        if saved_run == run_id:
            return graph
    return build_graph(**read_inputs())
