"""Resource sets and the grant summary: one edge for a grant that reaches every resource of a service, the same
blast radius as one edge per resource, and a summary built in batches equal to the summary of all grants."""

from __future__ import annotations

import networkx as nx
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from models.graph import blast_radius, build_graph, combine, summarize_grants
from models.graph.build import _KnownArns, _reached_in_account
from models.graph.model import CAN_ACCESS, RESOURCE_SET
from tests.models.test_graph_factories import ACCOUNT, OTHER_ACCOUNT, allow, arn, graph_of, policy, role, scenario, user

BUCKETS = ["arn:aws:s3:::alpha", "arn:aws:s3:::beta", "arn:aws:s3:::gamma"]
ORDERS = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
LEDGER = f"arn:aws:dynamodb:us-east-1:{OTHER_ACCOUNT}:table/ledger"
RESOURCES = [(BUCKETS[0], "s3", "critical"), (BUCKETS[1], "s3", None), (BUCKETS[2], "s3", "low"),
             (ORDERS, "dynamodb", None), (LEDGER, "dynamodb", "high")]


def access_edges(graph) -> dict[tuple[str, str], str]:
    edges = graph.edges.filter(pl.col("edge_type") == CAN_ACCESS)
    return {(s, t): level for s, t, level in edges.select("source_id", "target_id", "access_level").iter_rows()}


def organisation():
    return [
        # every bucket (no account in an S3 ARN: each account's set holds them all), and its account's one table
        user("wide", inline=[policy(allow("s3:GetObject"), allow("dynamodb:GetItem"))]),
        # one bucket at a higher level than the rest
        user("mixed", inline=[policy(allow("s3:GetObject"), allow("s3:PutObject", BUCKETS[0]))]),
        # two of three buckets: no set
        user("two", inline=[policy(allow("s3:GetObject", ["arn:aws:s3:::alpha", "arn:aws:s3:::beta"]))]),
        role("elsewhere", account=OTHER_ACCOUNT, inline=[policy(allow("s3:ListBucket"), allow("dynamodb:GetItem"))]),
    ]


def test_a_grant_matching_every_resource_of_a_service_is_one_edge_to_the_accounts_set():
    graph = graph_of(*organisation(), resources=RESOURCES)
    every_s3, every_s3_other = f"every:s3:{ACCOUNT}", f"every:s3:{OTHER_ACCOUNT}"
    assert access_edges(graph) == {
        (arn("user", "wide"), every_s3): "Read",
        # a set of one resource is that resource
        (arn("user", "wide"), ORDERS): "Read",
        (arn("user", "mixed"), every_s3): "Read",
        (arn("user", "mixed"), BUCKETS[0]): "Write",
        (arn("user", "two"), BUCKETS[0]): "Read",
        (arn("user", "two"), BUCKETS[1]): "Read",
        (arn("role", "elsewhere", OTHER_ACCOUNT), every_s3_other): "List",
        (arn("role", "elsewhere", OTHER_ACCOUNT), LEDGER): "Read",
    }
    sets = graph.nodes.filter(pl.col("node_type") == RESOURCE_SET).sort("node_id")
    assert sets.select("node_id", "member_count", "sensitivity_tier", "account").rows() == [
        (every_s3, 3, "critical", ACCOUNT), (every_s3_other, 3, "critical", OTHER_ACCOUNT)]
    assert graph.resource_set_members.filter(pl.col("set_id") == every_s3)["resource_arn"].to_list() == BUCKETS
    assert graph.graph.graph["resource_sets"][every_s3_other] == tuple(BUCKETS)


def test_a_set_counts_as_its_members_in_the_blast_radius():
    radius = {r["identity_id"]: r for r in blast_radius(graph_of(*organisation(), resources=RESOURCES)).iter_rows(
        named=True)}
    # wide: 3 buckets + orders; s3 counts once at its worst member (Read x critical = 2*8), orders Read x medium 2*2
    assert (radius[arn("user", "wide")]["reachable_resources"], radius[arn("user", "wide")]["reach_points"]) == (4, 20.0)
    # mixed: the ledger-bucket edge at Write outranks the set's Read: 4*8
    assert (radius[arn("user", "mixed")]["reachable_resources"], radius[arn("user", "mixed")]["reach_points"]) == (3, 32.0)
    assert radius[arn("user", "mixed")]["reachable_sensitive_resources"] == 1
    assert (radius[arn("user", "two")]["reachable_resources"], radius[arn("user", "two")]["reach_points"]) == (2, 16.0)


def test_an_identity_that_can_become_two_accounts_principals_counts_each_bucket_once():
    people = organisation() + [user("hopper", inline=[policy(allow("sts:AssumeRole"))])]
    trusting = role("elsewhere", account=OTHER_ACCOUNT, trust={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": arn("user", "hopper")}, "Action": "sts:AssumeRole"}]},
        inline=[policy(allow("s3:ListBucket"), allow("dynamodb:GetItem"))])
    people = [p for p in people if p.name != "elsewhere"] + [trusting]
    radius = {r["identity_id"]: r for r in blast_radius(graph_of(*people, resources=RESOURCES)).iter_rows(named=True)}
    hopper = radius[arn("user", "hopper")]
    # its own sts class, the other account's set (the same three buckets) and the ledger
    assert (hopper["reachable_identities"], hopper["reachable_resources"]) == (1, 5)


_STATEMENTS = st.sampled_from([
    allow("s3:GetObject"), allow("s3:*", BUCKETS[:2]), allow("dynamodb:*"), allow("iam:PassRole"),
    allow("sts:AssumeRole", condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": [BUCKETS[2]]},
    {"Effect": "Deny", "Action": "s3:GetObject", "Resource": BUCKETS[0]},
])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(_STATEMENTS, min_size=1, max_size=4), min_size=1, max_size=6), st.integers(1, 4))
def test_summaries_of_identity_batches_put_together_equal_the_summary_of_all_grants(statements, batch):
    people = [user(f"u{i}", inline=[policy(*s)]) for i, s in enumerate(statements)]
    grants = scenario(*people).grants
    ids = sorted(grants["identity_id"].unique())
    parts = [summarize_grants(grants.filter(pl.col("identity_id").is_in(ids[i:i + batch])))
             for i in range(0, len(ids), batch)]
    whole = summarize_grants(grants)
    for part, expected in zip(combine(parts)._frames(), whole._frames()):
        assert part.sort(part.columns).equals(expected.sort(expected.columns))


def test_a_not_resource_statement_is_one_scope_and_full_access_is_summarised_per_identity():
    people = [user("admin", inline=[policy(allow("*"))]),
              user("most", inline=[policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": BUCKETS[1:]})])]
    summary = summarize_grants(scenario(*people).grants)
    assert summary.full_access.rows() == [(arn("user", "admin"), False)]
    most = summary.scopes.filter(pl.col("identity_id") == arn("user", "most"))
    assert most.select("service", "scope_key", "is_conditional").rows() == [
        ("s3", "!" + "\x1f".join(BUCKETS[1:]), False)]


def test_the_graph_of_a_summary_is_the_graph_of_its_grants():
    s = scenario(*organisation(), resources=RESOURCES)
    inputs = dict(identities=s.identities, group_memberships=s.group_memberships, resources=s.resources)
    assert build_graph(**inputs, grants=summarize_grants(s.grants)).edges.equals(
        build_graph(**inputs, grants=s.grants).edges)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=25))
def test_what_a_node_reaches_in_an_account_and_of_a_kind_from_one_walk_equals_a_networkx_search(pairs):
    # n0..n5 are principals of accounts "0", "1" and "2" (by number mod 3), users and roles by turns; n6 and n7
    # are not counted
    named = [(f"n{a}", f"n{b}") for a, b in pairs]
    account_of = {f"n{i}": str(i % 3) for i in range(6)}
    kind_of = {f"n{i}": ("user", "role")[i % 2] for i in range(6)}
    reached = _reached_in_account(named, account_of, kind_of)
    graph = nx.DiGraph(named)
    for node in [f"n{i}" for i in range(9)]:
        descendants = nx.descendants(graph, node) if node in graph else set()
        for account in ("0", "1", "2", "3"):
            expected = sorted(n for n in descendants if account_of.get(n) == account)
            assert list(reached(node, account)) == expected
            for kind in ("user", "role", "group"):
                assert list(reached(node, account, kind)) == [n for n in expected if kind_of[n] == kind]


def test_no_summaries_combine_into_an_empty_summary_that_builds_a_graph_without_access():
    s = scenario(*organisation(), resources=RESOURCES)
    empty = combine([])
    assert [f.height for f in empty._frames()] == [0, 0, 0, 0]
    graph = build_graph(s.identities, s.group_memberships, empty, resources=s.resources)
    assert access_edges(graph) == {} and graph.resource_set_members.height == 0


def test_a_scope_of_several_exact_arns_matches_them_in_the_resources_order():
    known = _KnownArns()
    known.account.update({"arn:aws:s3:::b/y": None, "arn:aws:s3:::b/x": None, "arn:aws:s3:::c": None})
    assert known.matched_by("=arn:aws:s3:::b/x\x1farn:aws:s3:::b/y") == ["arn:aws:s3:::b/y", "arn:aws:s3:::b/x"]
    assert known.matched_by("=arn:aws:s3:::b/*") == ["arn:aws:s3:::b/y", "arn:aws:s3:::b/x"]
    assert known.matched_by("!arn:aws:s3:::b/*") == ["arn:aws:s3:::c"]
