"""The permission graph's inputs, read once per use, and the graph's what-if index handed from the graph step to
the recommendations step of the same run (building the graph costs seconds to minutes; doing it twice buys
nothing)."""

import pickle
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from models.graph import GRANT_COLUMNS, GrantSummary, build_graph, combine, summarize_grants
from models.graph.whatif import ReachIndex
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


def save_reach_index(path: Path, index: ReachIndex, run_id: str) -> None:
    """The graph step's index of its graph, for the run's recommendations. The index, not the graph: at 10k
    identities the graph pickled was 260 MB and 0.45 GiB loaded, beside everything else the recommendations hold
    (the run's peak), the index 23 MB and 0.05 GiB."""
    with path.open("wb") as handle:
        pickle.dump((run_id, index), handle, protocol=pickle.HIGHEST_PROTOCOL)


def reach_index_of_run(path: Path, run_id: str, read_inputs: Callable[[], dict[str, pl.DataFrame]]) -> ReachIndex:
    """The index this run's graph step saved, or one of a graph built now from ``read_inputs()`` (a run that
    skipped that step)."""
    if path.exists():
        with path.open("rb") as handle:
            saved_run, index = pickle.load(handle)
        if saved_run == run_id:
            return index
    return ReachIndex(build_graph(**read_inputs()).graph)
