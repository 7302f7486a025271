"""Escalation paths (every one, within bounds), unused edges to admin, and the exported graph."""

from __future__ import annotations

import networkx as nx
import polars as pl

from models.graph import edges_frame, escalation_paths, export_graph
from models.graph.model import admin_node_id
from tests.models.test_graph_factories import (
    ACCOUNT,
    OTHER_ACCOUNT,
    allow,
    arn,
    aws_trust,
    graph_of,
    policy,
    role,
    root,
    scenario,
    service_trust,
)

ADMIN = admin_node_id(ACCOUNT)
LAMBDA_RUNNER = ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]


def sample_like(*, used=None):
    """The sample organisation's shape: a dev agent assumes a prod deployer that can pass the admin role to Lambda."""
    return scenario(
        role("deploy-agent", inline=[policy(allow(LAMBDA_RUNNER))]),
        role("ops-admin", inline=[policy(allow("*"))]),
        role("support-agent", inline=[policy(allow("s3:GetObject", "arn:aws:s3:::tickets/*"))]),
        role("prod-deployer", trust=aws_trust(root(OTHER_ACCOUNT)), inline=[policy(allow(LAMBDA_RUNNER))]),
        role("dev-agent", account=OTHER_ACCOUNT, trust=service_trust("bedrock.amazonaws.com"),
             inline=[policy(allow("sts:AssumeRole", arn("role", "prod-deployer")))]),
        used=used,
    )


def test_every_path_to_admin_is_listed_shortest_first():
    paths = escalation_paths(sample_like().graph())
    dev_agent, deployer = arn("role", "dev-agent", OTHER_ACCOUNT), arn("role", "prod-deployer")
    mine = paths.filter(pl.col("identity_id") == dev_agent)
    assert mine.select("target_id", "method", "hops", "methods", "is_shortest").rows() == [
        (ADMIN, "assume_role", 3, ["assume_role", "passrole_lambda", "full_access"], True),
        (ADMIN, "assume_role", 4, ["assume_role", "passrole_lambda", "passrole_lambda", "full_access"], False),
    ]
    assert [s["to"] for s in mine["steps"][0]] == [deployer, arn("role", "ops-admin"), ADMIN]
    # the support agent reaches nothing; ops-admin is admin itself
    assert set(paths["identity_id"]) == {dev_agent, deployer, arn("role", "deploy-agent"), arn("role", "ops-admin")}


def test_steps_carry_type_method_reason_and_usage():
    paths = escalation_paths(sample_like().graph())
    (steps,) = paths.filter(pl.col("identity_id") == arn("role", "deploy-agent"))["steps"].to_list()
    assert steps == [
        {"from": arn("role", "deploy-agent"), "to": arn("role", "ops-admin"), "edge_type": "CAN_ESCALATE",
         "method": "passrole_lambda",
         "reason": "deploy-agent can pass role ops-admin to a new Lambda function "
                   "(iam:PassRole, lambda:CreateFunction, lambda:InvokeFunction) and run code as it",
         "is_conditional": False, "is_used": False},
        {"from": arn("role", "ops-admin"), "to": ADMIN, "edge_type": "IS_ADMIN", "method": "full_access",
         "reason": f"ops-admin may perform every action on every resource of account {ACCOUNT}",
         "is_conditional": False, "is_used": None},
    ]


def test_max_hops_bounds_the_paths():
    graph = sample_like().graph()
    assert escalation_paths(graph, max_hops=3).filter(
        pl.col("identity_id") == arn("role", "dev-agent", OTHER_ACCOUNT))["hops"].to_list() == [3]
    assert escalation_paths(graph, max_hops=2).filter(
        pl.col("identity_id") == arn("role", "dev-agent", OTHER_ACCOUNT)).height == 0


def test_max_paths_per_identity_keeps_the_shortest():
    paths = escalation_paths(sample_like().graph(), max_paths_per_identity=1)
    assert paths.group_by("identity_id").len()["len"].max() == 1
    assert paths["is_shortest"].all()


def test_unused_edges_that_lead_to_admin_are_flagged_and_used_ones_are_not():
    dev_agent, deployer = arn("role", "dev-agent", OTHER_ACCOUNT), arn("role", "prod-deployer")
    graph = sample_like(used=[(dev_agent, deployer, "CAN_ASSUME")]).graph()
    moves = edges_frame(graph).filter(pl.col("edge_type").is_in(["CAN_ASSUME", "CAN_ESCALATE"])
                                      & pl.col("source_id").str.starts_with("arn:"))
    assert moves.select("source_id", "target_id", "is_used", "is_unused_admin_edge").rows() == [
        (arn("role", "deploy-agent"), arn("role", "ops-admin"), False, True),
        (arn("role", "deploy-agent"), arn("role", "support-agent"), False, False),
        (deployer, arn("role", "deploy-agent"), False, True),
        (deployer, arn("role", "ops-admin"), False, True),
        (deployer, arn("role", "support-agent"), False, False),
        (dev_agent, deployer, True, False),
    ]
    # prod-deployer trusts the dev account, not Lambda: nobody can pass it


def test_a_used_passrole_is_matched_whatever_the_used_edge_type_says_when_it_is_null():
    deploy, ops = arn("role", "deploy-agent"), arn("role", "ops-admin")
    graph = sample_like(used=[(deploy, ops, None)]).graph()
    edge = edges_frame(graph).filter((pl.col("source_id") == deploy) & (pl.col("target_id") == ops))
    assert edge.select("is_used", "is_unused_admin_edge").rows() == [(True, False)]


def test_membership_and_access_edges_have_no_usage():
    graph = graph_of(role("reader", inline=[policy(allow("s3:GetObject"))]))
    assert edges_frame(graph).select("edge_type", "is_used", "is_unused_admin_edge").rows() == [
        ("CAN_ACCESS", None, None)]


def test_exported_graph_writes_and_reads_back_as_graphml(tmp_path):
    graph = sample_like().graph()
    exported = export_graph(graph)
    target = tmp_path / "graph.graphml"
    nx.write_graphml(exported, target)
    read = nx.read_graphml(target)
    assert read.number_of_nodes() == graph.graph.number_of_nodes()
    assert read.number_of_edges() == graph.graph.number_of_edges()
    edge = read.edges[arn("role", "deploy-agent"), arn("role", "ops-admin")]
    assert (edge["edge_type"], edge["method"], edge["is_unused_admin_edge"]) == ("CAN_ESCALATE", "passrole_lambda", True)
    assert nx.node_link_data(exported, edges="links")["nodes"]
