"""Run the SQL files under ``sql/``: one file a transform, values bound, never formatted in."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

SQL_ROOT = Path(__file__).resolve().parents[1] / "sql"
SCHEMAS = ("landing", "core", "marts", "ops")
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_TABLE_NAME = re.compile(r"^(landing|core|marts|ops|reports|queries)/[a-z_][a-z0-9_]*$")


def path_literal(path: Path) -> str:
    """``path`` as a quoted SQL string, for the statements that cannot take it bound (COPY's target, a view's
    files)."""
    return "'" + str(path).replace("'", "''") + "'"


@cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql``; ``name`` is ``layer/table`` and checked against the layout."""
    if not _TABLE_NAME.match(name):
        raise ValueError(f"not a SQL transform name: {name!r}")
    return (SQL_ROOT / f"{name}.sql").read_text()


def _bound(name: str, text: str, params: dict) -> dict:
    wanted = set(_PARAMETER.findall(text))
    missing = wanted - params.keys()
    if missing:
        raise ValueError(f"sql/{name}.sql needs parameters {sorted(missing)}")
    return {k: v for k, v in params.items() if k in wanted}


def run_sql(con: duckdb.DuckDBPyConnection, name: str, **params) -> None:
    """Execute one SQL statement file with the named parameters it uses (``$as_of`` etc.)."""
    text = sql_text(name)
    con.execute(text, _bound(name, text, params)).fetchall()


def query_frame(con: duckdb.DuckDBPyConnection, name: str, **params) -> pl.DataFrame:
    """The rows of one SELECT file as a Polars frame."""
    text = sql_text(name)
    return con.sql(text, params=_bound(name, text, params)).pl()


def fetch_row(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> tuple:
    """The single row of a query; the result is read to its end, as DuckDB 2 requires before other work."""
    rows = con.execute(query, params or {}).fetchall()
    if len(rows) != 1:
        raise ValueError(f"expected one row, got {len(rows)}")
    return rows[0]


def scalar(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None):
    return fetch_row(con, query, params)[0]


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def table_rows(con: duckdb.DuckDBPyConnection, qualified_table: str) -> int:
    schema, _, table = qualified_table.partition(".")
    if schema not in SCHEMAS or not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"not a warehouse table: {qualified_table!r}")
    return scalar(con, f"SELECT count(*) FROM {schema}.{table}")
