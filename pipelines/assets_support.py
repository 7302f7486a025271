"""What every asset does around its one piece of work: time it, count rows, say so in metadata."""


import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dagster as dg
import duckdb

from pipelines.resources import RunSettings, Warehouse
from pipelines.sql import run_sql, table_rows


@dataclass
class Stopwatch:
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self.started, 3)


@contextmanager
def timed() -> Iterator[Stopwatch]:
    yield Stopwatch()


def sql_params_for(settings: RunSettings, warehouse: Warehouse, context: dg.AssetExecutionContext | None = None) -> dict:
    """The values SQL files may bind: where landing is and the observation window."""
    return {
        "landing_dir": str(warehouse.landing_dir),
        "as_of": settings.as_of_date(context),
        "window_days": settings.window_days,
    }


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame) -> int:
    """Write a frame as a warehouse table (the table is whole or absent); return its rows."""
    return replace_table_in_batches(con, table, [frame])


def replace_table_in_batches(con: duckdb.DuckDBPyConnection, table: str, frames: Iterable) -> int:
    """Write frames, one after the other, as a warehouse table that appears whole in one transaction (or not at
    all); only one frame is held at a time. Return its rows."""
    schema, _, name = table.partition(".")
    staging = f"{schema}.{name}__building"
    con.execute(f"DROP TABLE IF EXISTS {staging}")
    for number, frame in enumerate(frames):
        con.register("frame_to_write", frame)
        if number == 0:
            con.execute(f"CREATE TABLE {staging} AS SELECT * FROM frame_to_write")
        else:
            con.execute(f"INSERT INTO {staging} SELECT * FROM frame_to_write")
        con.unregister("frame_to_write")
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(f"ALTER TABLE {staging} RENAME TO {name}")
    con.execute("COMMIT")
    return table_rows(con, table)


def table_result(
    con: duckdb.DuckDBPyConnection, table: str, watch: Stopwatch, **extra
) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"table": table, "rows": table_rows(con, table), "seconds": watch.seconds, **extra}
    )


def sql_table_asset(
    table: str,
    *,
    deps: list[str],
    description: str,
    group: str,
    extra_tables: dict | None = None,
    extra_params: dict | None = None,
) -> dg.AssetsDefinition:
    """An asset that builds one warehouse table by running ``sql/<layer>/<table>.sql``."""
    schema, name = table.split(".")

    @dg.asset(
        key=[schema, name],
        deps=[dg.AssetKey(d.split(".")) for d in deps],
        group_name=group,
        description=description,
        kinds={"duckdb", "sql"},
    )
    def _asset(context: dg.AssetExecutionContext, settings: RunSettings, warehouse: Warehouse) -> dg.MaterializeResult:
        with timed() as watch, warehouse.connect() as con:
            for frame_name, build in (extra_tables or {}).items():
                con.register(frame_name, build())
            run_sql(con, f"{schema}/{name}", **sql_params_for(settings, warehouse, context), **(extra_params or {}))
            return table_result(con, table, watch)

    return _asset
