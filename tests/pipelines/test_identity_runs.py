"""Runs of identities: every id read exactly once, in order, whether or not it has grants."""

import duckdb
import pytest

from pipelines.identity_runs import IdentityRun, RunReader, identity_runs, read_runs


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core")
    con.execute("CREATE TABLE core.grants AS SELECT * FROM (VALUES ('a'), ('a'), ('a'), ('b'), ('b'), ('d'), ('d'), "
                "('d'), ('d')) AS t(identity_id)")
    con.execute("CREATE TABLE usage AS SELECT * FROM (VALUES ('a', 1), ('b', 2), ('b', 3), ('c', 4), ('d', 5), "
                "('e', 6)) AS t(identity_id, n)")
    return con


def test_runs_cut_by_grant_rows_cover_ids_without_grants(con):
    # a and b start within the first 4 grant rows, d at row 5: two runs, unbounded at both ends
    runs = identity_runs(con, run_rows=4)
    assert runs == [IdentityRun(None, "d"), IdentityRun("d", None)]
    frames = list(read_runs(con, "SELECT identity_id, n FROM usage", runs))
    assert [f.rows() for f in frames] == [[("a", 1), ("b", 2), ("b", 3), ("c", 4)], [("d", 5), ("e", 6)]]


def test_one_run_when_nothing_is_granted(con):
    con.execute("DELETE FROM core.grants")
    assert identity_runs(con) == [IdentityRun(None, None)]
    assert next(read_runs(con, "SELECT n FROM usage", identity_runs(con))).height == 6


def test_a_reader_gives_one_identitys_rows_and_reads_each_run_once(con):
    reader = RunReader(con, "SELECT identity_id, n FROM usage", identity_runs(con, run_rows=4))
    reads = []
    original = reader.con

    class Counting:
        def sql(self, query, params=None):
            reads.append(params)
            return original.sql(query, params=params)

    reader.con = Counting()
    assert reader("b")["n"].to_list() == [2, 3]
    assert reader("c")["n"].to_list() == [4]
    assert reader("zz").height == 0 and reader("zz").columns == ["identity_id", "n"]
    assert reader("e")["n"].to_list() == [6]
    assert reads == [{"next_first": "d"}, {"first": "d"}]
