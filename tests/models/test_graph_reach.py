"""Blast radius: exact figures on small hand-built organisations, strongly connected roles, the score's table."""

from __future__ import annotations

import math

import polars as pl

from models.graph import blast_radius, scoring_weights_frame
from models.graph.model import admin_node_id
from models.graph.scoring import blast_radius_score, tier_of
from tests.models.test_graph_factories import (
    ACCOUNT,
    allow,
    arn,
    aws_trust,
    graph_of,
    group,
    policy,
    role,
    root,
    scenario,
    service_trust,
    user,
)

ORDERS = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
LEDGER = "arn:aws:s3:::crown/ledger.csv"
PUBLIC = "arn:aws:s3:::public/index.html"
RESOURCES = [(LEDGER, "s3", "critical"), (ORDERS, "dynamodb", None), (PUBLIC, "s3", "low")]


def chain(*, worker_policies=()) -> list:
    """u assumes a; a passes b to Lambda; b writes the crown ledger and reads orders."""
    return [
        user("u", inline=[policy(allow("sts:AssumeRole", arn("role", "a")))]),
        role("a", trust=aws_trust(root()), inline=[policy(allow("iam:PassRole", arn("role", "b")),
                                                         allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))]),
        role("b", trust=service_trust("lambda.amazonaws.com"),
             inline=[policy(allow("s3:PutObject", "arn:aws:s3:::crown/*"), allow("dynamodb:GetItem", ORDERS),
                            *worker_policies)]),
    ]


def rows(frame: pl.DataFrame, *columns: str) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in frame.select("identity_id", *columns).iter_rows()}


def test_exact_reach_counts_points_and_scores_on_a_chain():
    radius = blast_radius(graph_of(*chain(), resources=RESOURCES))
    # u: own sts:AssumeRole (sts class, Write x high = 4*4 = 16); a: iam:PassRole (iam class, PM x critical = 8*8 = 64),
    # lambda create/invoke (lambda class, Write x medium = 4*2 = 8); b: PutObject on the ledger (Write x critical = 32),
    # GetItem on orders (Read x dynamodb's default medium = 2*2 = 4). The public object is out of everyone's reach.
    assert rows(radius, "reachable_identities", "reachable_resources", "reachable_sensitive_resources",
                "reach_points", "blast_radius_score", "can_reach_admin", "hops_to_admin", "path_to_admin") == {
        arn("user", "u"): (2, 5, 3, 124.0, 46, False, None, None),
        arn("role", "a"): (1, 4, 2, 108.0, 42, False, None, None),
        arn("role", "b"): (0, 2, 1, 36.0, 16, False, None, None),
    }
    assert blast_radius_score(124.0, can_reach_admin=False) == round(100 * (1 - math.exp(-124 / 200)))


def test_admin_at_the_end_of_the_chain_gives_hops_and_the_shortest_path():
    radius = blast_radius(graph_of(*chain(worker_policies=[allow("iam:PutRolePolicy", arn("role", "b"))])))
    admin = admin_node_id(ACCOUNT)
    assert rows(radius, "can_reach_admin", "hops_to_admin", "path_to_admin", "reachable_admin_ids",
                "blast_radius_score") == {
        arn("user", "u"): (True, 3, [arn("user", "u"), arn("role", "a"), arn("role", "b"), admin], [admin], 100),
        arn("role", "a"): (True, 2, [arn("role", "a"), arn("role", "b"), admin], [admin], 100),
        arn("role", "b"): (True, 1, [arn("role", "b"), admin], [admin], 100),
    }


def test_roles_that_assume_each_other_share_their_reach():
    c = role("c", trust=aws_trust(root()), inline=[policy(allow("sts:AssumeRole", arn("role", "d")))])
    d = role("d", trust=aws_trust(root()), inline=[policy(allow("sts:AssumeRole", [arn("role", "c"), arn("role", "e")]))])
    e = role("e", trust=aws_trust(root()), inline=[policy(allow("iam:AttachRolePolicy", arn("role", "e")))])
    radius = blast_radius(graph_of(c, d, e))
    assert rows(radius, "reachable_identities", "hops_to_admin", "path_to_admin") == {
        c.arn: (2, 3, [c.arn, d.arn, e.arn, admin_node_id(ACCOUNT)]),
        d.arn: (2, 2, [d.arn, e.arn, admin_node_id(ACCOUNT)]),
        e.arn: (0, 1, [e.arn, admin_node_id(ACCOUNT)]),
    }


def test_a_cycle_without_an_exit_reaches_only_its_members():
    c = role("c", trust=aws_trust(root()), inline=[policy(allow("sts:AssumeRole", arn("role", "d")))])
    d = role("d", trust=aws_trust(root()), inline=[policy(allow("sts:AssumeRole", arn("role", "c")))])
    radius = blast_radius(graph_of(c, d, user("loner")))
    assert rows(radius, "reachable_identities", "can_reach_admin") == {
        c.arn: (1, False), d.arn: (1, False), arn("user", "loner"): (0, False)}


def test_groups_are_not_counted_as_reachable_identities():
    radius = blast_radius(graph_of(group("readers", inline=[policy(allow("s3:GetObject"))]),
                                   user("dana", groups=["readers"])))
    # dana reaches the group (membership) but counts no identity; both reach the s3 class once.
    assert rows(radius, "reachable_identities", "reachable_resources") == {
        arn("group", "readers"): (0, 1), arn("user", "dana"): (0, 1)}


def test_service_classes_stand_in_for_resources_when_none_are_given():
    g = graph_of(role("reader", inline=[policy(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::x/*"),
                                               allow("kms:Decrypt"))]))
    access = g.edges.filter(pl.col("edge_type") == "CAN_ACCESS").select("target_id", "access_level").rows()
    assert access == [(f"service:kms:{ACCOUNT}", "Write"), (f"service:s3:{ACCOUNT}", "Write")]
    (row,) = blast_radius(g).select("reachable_resources", "reachable_sensitive_resources", "reach_points").rows()
    assert row == (2, 1, 4 * 4 + 4 * 2)  # kms: Write x high; s3: Write x medium


def test_a_grant_that_matches_no_known_resource_reaches_the_service_class():
    g = graph_of(role("reader", inline=[policy(allow("s3:GetObject", "arn:aws:s3:::elsewhere/*"))]),
                 resources=RESOURCES)
    assert g.edges.filter(pl.col("edge_type") == "CAN_ACCESS")["target_id"].to_list() == [f"service:s3:{ACCOUNT}"]


def test_not_resource_grants_reach_every_known_resource_they_do_not_exclude():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::crown/*"}
    g = graph_of(role("reader", inline=[policy(statement)]), resources=RESOURCES)
    assert g.edges.filter(pl.col("edge_type") == "CAN_ACCESS")["target_id"].to_list() == [PUBLIC]


def test_tiers_default_by_service_and_the_weights_table_lists_every_factor():
    assert (tier_of("low", "iam"), tier_of(None, "iam"), tier_of(None, "s3"), tier_of(None, "unheard-of")) == (
        "low", "critical", "medium", "low")
    weights = scoring_weights_frame()
    assert weights.filter(pl.col("factor") == "sensitivity_tier").rows() == [
        ("sensitivity_tier", "critical", 8.0), ("sensitivity_tier", "high", 4.0),
        ("sensitivity_tier", "medium", 2.0), ("sensitivity_tier", "low", 1.0)]
    assert blast_radius_score(10_000.0, can_reach_admin=False) == 99
    assert blast_radius_score(0.0, can_reach_admin=True) == 100


def test_one_row_per_identity_even_without_edges():
    s = scenario(user("idle"), role("unused"))
    assert blast_radius(s.graph()).select("identity_id", "reachable_resources", "blast_radius_score").rows() == [
        (arn("role", "unused"), 0, 0), (arn("user", "idle"), 0, 0)]


def test_each_service_counts_once_at_its_most_damaging_reached_resource():
    objects = [(f"arn:aws:s3:::crown/part-{i}.csv", "s3", "low") for i in range(5)] + [(LEDGER, "s3", "critical")]
    reader = role("reader", inline=[policy(allow("s3:GetObject", "arn:aws:s3:::crown/*"))])
    (row,) = blast_radius(graph_of(reader, resources=objects)).select(
        "reachable_resources", "reachable_sensitive_resources", "reach_points").rows()
    assert row == (6, 1, 2 * 8)  # six objects reached, one critical; s3 counts once: Read x critical


def test_a_resource_that_is_an_identity_stays_the_identity():
    # Events name roles as resources (AssumeRole): the role keeps its identity node and its delegation edges.
    caller = user("ci", inline=[policy(allow("sts:AssumeRole", arn("role", "deployer")))])
    deployer = role("deployer", trust=aws_trust(root()))
    g = graph_of(caller, deployer, resources=[(deployer.arn, "iam", None)])
    assert g.graph.nodes[deployer.arn]["node_type"] == "identity"
    assert g.edges.select("source_id", "target_id", "edge_type").rows() == [
        (caller.arn, deployer.arn, "CAN_ASSUME"), (caller.arn, f"service:sts:{ACCOUNT}", "CAN_ACCESS")]
    assert blast_radius(g)["identity_id"].to_list() == [deployer.arn, caller.arn]
