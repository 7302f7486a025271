"""The warehouse resource: the run's DuckDB limit, lowered for one step when asked, and a run's fresh start."""

from pipelines.resources import LIMIT_BESIDE_LARGE_PYTHON, Warehouse


def test_a_step_may_lower_duckdb_memory_limit_for_its_own_connection(tmp_path):
    warehouse = Warehouse(directory=str(tmp_path), memory_limit="1GB")
    warehouse.start_build()

    with warehouse.connect(memory_limit=LIMIT_BESIDE_LARGE_PYTHON) as con:
        lowered = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    with warehouse.connect() as con:
        default = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]

    assert (lowered, default) == ("366.2 MiB", "953.6 MiB")


def test_a_run_starts_without_what_earlier_runs_handed_between_steps(tmp_path):
    warehouse = Warehouse(directory=str(tmp_path))
    warehouse.start_build()
    warehouse.reach_index_path.write_bytes(b"an earlier run's index")
    earlier_graph = warehouse.build_path.parent / "permission_graph.pickle"
    earlier_graph.write_bytes(b"a graph as earlier versions saved it")
    kept = warehouse.build_path.parent / "notes.txt"
    kept.write_text("not a handoff")

    warehouse.start_build()

    assert (warehouse.reach_index_path.exists(), earlier_graph.exists(), kept.exists()) == (False, False, True)
