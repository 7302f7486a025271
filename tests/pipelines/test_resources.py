"""The warehouse resource's connections: the run's DuckDB limit, lowered for one step when asked."""

from pipelines.resources import LIMIT_BESIDE_LARGE_PYTHON, Warehouse


def test_a_step_may_lower_duckdb_memory_limit_for_its_own_connection(tmp_path):
    warehouse = Warehouse(directory=str(tmp_path), memory_limit="1GB")
    warehouse.start_build()

    with warehouse.connect(memory_limit=LIMIT_BESIDE_LARGE_PYTHON) as con:
        lowered = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    with warehouse.connect() as con:
        default = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]

    assert (lowered, default) == ("366.2 MiB", "953.6 MiB")
