"""Per-identity tables read a run of identities at a time: what the graph, the proposals and the
recommendations hold in memory follows a run, not the organisation (at 10k identities ``core.grants`` holds
15M rows and ``marts.identity_action_usage`` 14M)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.sql import query_frame

# Rows of core.grants a run holds, about: a run's frames take a few hundred MB at most.
RUN_ROWS = 1_000_000
# The same for the decision steps, whose work on a run (the proposals' diffs joined against a run's usage, the
# recommendations' frame per identity) holds several times the run's frame at its peak. At 10k identities, runs
# of this many took the proposals' peak from 1.62 to 1.26 GiB and the recommendations' from 1.61-1.66 to
# 1.53 GiB, in the same time.
DECISION_RUN_ROWS = 500_000


@dataclass(frozen=True)
class IdentityRun:
    """The identity ids ``first <= id < next_first``; None for no bound. Runs cover every id, so a table with
    identities that have no grants is still read whole."""

    first: str | None
    next_first: str | None

    def where(self) -> tuple[str, dict]:
        """The SQL condition on ``identity_id`` and its parameters."""
        terms, params = ["true"], {}
        if self.first is not None:
            terms.append("identity_id >= $first")
            params["first"] = self.first
        if self.next_first is not None:
            terms.append("identity_id < $next_first")
            params["next_first"] = self.next_first
        return " AND ".join(terms), params


def identity_runs(con: duckdb.DuckDBPyConnection, run_rows: int = RUN_ROWS) -> list[IdentityRun]:
    """Runs of identities of about ``run_rows`` grant rows each, covering every identity id."""
    starts = query_frame(con, "queries/identity_runs", batch_rows=run_rows)["first_id"].to_list()
    bounds = [None] + starts[1:] + [None]
    return [IdentityRun(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def read_runs(con: duckdb.DuckDBPyConnection, select: str, runs: list[IdentityRun]) -> Iterator[pl.DataFrame]:
    """``select`` (a query of one table, without WHERE) for each run, in run order."""
    for run in runs:
        condition, params = run.where()
        yield con.sql(f"{select} WHERE {condition}", params=params).pl()


class RunReader:
    """One identity's rows of a query, read with the rest of its run: callers asking in identity order read
    each run once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, select: str, runs: list[IdentityRun]) -> None:
        self.con, self.select, self.runs = con, select, runs
        self._starts = [run.first for run in runs[1:]]
        self._loaded: tuple[int, dict[str, pl.DataFrame], pl.DataFrame] | None = None

    def __call__(self, identity_id: str) -> pl.DataFrame:
        index = bisect_right(self._starts, identity_id)
        if self._loaded is None or self._loaded[0] != index:
            frame = next(read_runs(self.con, self.select, [self.runs[index]]))
            by_identity = {key[0]: part for key, part in frame.partition_by("identity_id", as_dict=True).items()}
            self._loaded = (index, by_identity, frame.clear())
        _, by_identity, empty = self._loaded
        return by_identity.get(identity_id, empty)
