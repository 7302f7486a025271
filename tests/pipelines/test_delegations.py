"""``core.delegations`` from the graph's marts: an edge to a principal set is one row per member but the source,
used and unused-admin per member."""

from datetime import date

import duckdb
import polars as pl

from models.graph import blast_radius, edges_frame
from models.graph.model import principal_set_id
from pipelines.sql import ensure_schemas, query_frame, run_sql
from tests.models.test_graph_factories import ACCOUNT, allow, arn, policy, role, scenario, user

AS_OF = date(2026, 11, 27)


def warehouse_of(graph, usage: list[tuple[str, str, date]], identities: pl.DataFrame | None = None):
    con = duckdb.connect()
    ensure_schemas(con)
    for table, frame in (("core.identities", identities if identities is not None else pl.DataFrame(
                             schema={"identity_id": pl.String, "name": pl.String, "environment": pl.String})),
                         ("marts.permission_edges", edges_frame(graph)),
                         ("marts.identity_blast_radius", blast_radius(graph)),
                         ("core.delegation_usage_daily", pl.DataFrame(
                             usage, schema={"identity_id": pl.String, "role_arn": pl.String, "day": pl.Date},
                             orient="row"))):
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
        con.unregister("frame")
    run_sql(con, "core/delegations", as_of=AS_OF, window_days=90)
    return con


def delegations_of(graph, usage: list[tuple[str, str, date]]) -> pl.DataFrame:
    return warehouse_of(graph, usage).sql("SELECT * FROM core.delegations").pl()


def test_an_edge_to_every_role_is_a_row_for_each_role_but_the_source():
    ops = role("ops", inline=[policy(allow("iam:UpdateAssumeRolePolicy"))])
    admin = role("admin", inline=[policy(allow("*"))])
    graph = scenario(ops, admin, role("plain")).graph()
    rows = delegations_of(graph, [(ops.arn, arn("role", "plain"), AS_OF)]).filter(pl.col("source_id") == ops.arn)
    roles = principal_set_id("role", ACCOUNT)
    assert rows.select("target_id", "kind", "method", "is_used", "is_unused_admin_edge", "via_set_id").rows() == [
        (admin.arn, "CAN_ESCALATE", "update_assume_role_policy", False, True, roles),
        (arn("role", "plain"), "CAN_ESCALATE", "update_assume_role_policy", True, False, roles),
    ]
    assert rows["reason"].to_list() == [
        "ops can rewrite the trust policy of any role of account 111122223333 (3 roles) "
        "(iam:UpdateAssumeRolePolicy) to let itself assume it"] * 2


def test_direct_edges_keep_their_own_flags_and_no_set():
    alice = user("alice", inline=[policy(allow("iam:CreateAccessKey", arn("user", "bob")))])
    graph = scenario(alice, user("bob"), user("carol")).graph()
    # a move seen in the window does not override the graph's own flag for a direct edge
    rows = delegations_of(graph, [(alice.arn, arn("user", "bob"), AS_OF)])
    assert rows.select("source_id", "target_id", "is_used", "is_unused_admin_edge", "via_set_id").rows() == [
        (alice.arn, arn("user", "bob"), False, False, None)]
    assert not any(t.startswith("principals:") for t in rows["target_id"])


def test_a_move_to_a_principal_set_is_named_in_words_and_crosses_into_its_members_environments():
    ops = role("ops", inline=[policy(allow("iam:UpdateAssumeRolePolicy"))])
    s = scenario(ops, role("prod-a"), role("dev-b"))
    environments = {ops.arn: "dev", arn("role", "prod-a"): "prod", arn("role", "dev-b"): "dev"}
    identities = s.identities.select("identity_id", "name").with_columns(
        environment=pl.col("identity_id").replace_strict(environments))
    con = warehouse_of(s.graph(), [], identities)
    moves = query_frame(con, "queries/move_edges").filter(pl.col("source_id") == ops.arn)
    assert moves.select("target_id", "target_name", "target_environment").rows() == [
        (principal_set_id("role", ACCOUNT), f"any role of {ACCOUNT}", "dev, prod")]
    crossing = con.sql("SELECT target_id FROM core.delegations WHERE source_id = $s", params={"s": ops.arn}).pl()
    assert crossing["target_id"].to_list() == [arn("role", "dev-b"), arn("role", "prod-a")]
