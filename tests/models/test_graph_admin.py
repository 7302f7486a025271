"""Admin: full access, or the IAM writes that can grant oneself anything, is an edge to ``admin:<account>``."""

from __future__ import annotations

import polars as pl

from models.graph.model import CAN_ESCALATE, IS_ADMIN, admin_node_id
from tests.models.test_graph_factories import (
    ACCOUNT,
    allow,
    arn,
    deny,
    edge_set,
    graph_of,
    group,
    managed_arn,
    policy,
    role,
    user,
)

ADMIN = admin_node_id(ACCOUNT)


def admin_edges(graph) -> list[tuple[str, str, str, bool, str | None]]:
    return (
        graph.edges.filter(pl.col("target_id") == ADMIN)
        .select("source_id", "edge_type", "method", "is_conditional", "subject_id")
        .rows()
    )


def test_star_on_star_is_full_access():
    g = graph_of(role("ops-admin", inline=[policy(allow("*"))]))
    assert admin_edges(g) == [(arn("role", "ops-admin"), IS_ADMIN, "full_access", False, None)]
    assert g.admin_routes[arn("role", "ops-admin")].path == (arn("role", "ops-admin"), ADMIN)


def test_every_service_wildcard_is_full_access_too():
    g = graph_of(role("ops-admin", inline=[policy(allow("*:*"))]))
    assert edge_set(g, IS_ADMIN) == {(arn("role", "ops-admin"), ADMIN, "full_access")}


def test_conditional_star_is_conditional_full_access_and_keeps_its_escalations():
    # Conditional full access may not apply, so the self-rewrites it also allows are kept beside it.
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    ops = role("ops-admin", inline=[policy(allow("*", condition=mfa))])
    assert admin_edges(graph_of(ops)) == [
        (ops.arn, CAN_ESCALATE, "attach_role_policy", True, ops.arn),
        (ops.arn, CAN_ESCALATE, "put_role_policy", True, ops.arn),
        (ops.arn, IS_ADMIN, "full_access", True, None),
    ]


def test_star_on_one_bucket_is_not_full_access():
    g = graph_of(role("bucket-owner", inline=[policy(allow("*", "arn:aws:s3:::reports/*"))]))
    assert admin_edges(g) == []


def test_star_minus_a_service_is_not_full_access_but_still_admin_by_self_attach():
    g = graph_of(role("almost-admin", inline=[policy(allow("*"), deny("s3:*"))]))
    assert admin_edges(g) == [
        (arn("role", "almost-admin"), CAN_ESCALATE, "attach_role_policy", False, arn("role", "almost-admin")),
        (arn("role", "almost-admin"), CAN_ESCALATE, "put_role_policy", False, arn("role", "almost-admin")),
    ]


def test_attaching_policies_to_itself_is_admin():
    tool = role("tool", inline=[policy(allow("iam:AttachRolePolicy", arn("role", "tool")))])
    g = graph_of(tool)
    assert admin_edges(g) == [(tool.arn, CAN_ESCALATE, "attach_role_policy", False, tool.arn)]
    assert g.edges.filter(pl.col("target_id") == ADMIN)["reason"].to_list() == [
        "tool can attach any managed policy to itself (iam:AttachRolePolicy): full control"]


def test_a_user_writing_its_own_inline_policy_is_admin():
    me = user("me", inline=[policy(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}"))])
    assert admin_edges(graph_of(me)) == [(me.arn, CAN_ESCALATE, "put_user_policy", False, me.arn)]


def test_attaching_policies_to_its_own_group_is_admin_for_the_member():
    g = graph_of(group("team"), user("dana", groups=["team"],
                                     inline=[policy(allow("iam:AttachGroupPolicy", arn("group", "team")))]))
    assert admin_edges(g) == [(arn("user", "dana"), CAN_ESCALATE, "attach_group_policy", False, arn("group", "team"))]


def test_new_version_of_its_own_managed_policy_is_admin():
    tools = managed_arn("ci-tools")
    ci = role("ci", managed=[(tools, policy(allow("iam:CreatePolicyVersion", tools)))])
    g = graph_of(ci)
    assert admin_edges(g) == [(ci.arn, CAN_ESCALATE, "create_policy_version", False, ci.arn)]
    assert g.edges.filter(pl.col("target_id") == ADMIN)["reason"].to_list() == [
        "ci can publish a new default version of policy ci-tools (iam:CreatePolicyVersion), "
        "which applies to itself: full control"]


def test_aws_managed_policies_are_not_rewritable():
    readonly = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    ci = role("ci", managed=[(readonly, policy(allow("iam:CreatePolicyVersion")))])
    assert admin_edges(graph_of(ci)) == []


def test_group_with_full_access_makes_its_members_admin_directly_and_through_membership():
    g = graph_of(group("admins", inline=[policy(allow("*"))]), user("alice", groups=["admins"]))
    assert edge_set(g, IS_ADMIN) == {(arn("group", "admins"), ADMIN, "full_access"),
                                     (arn("user", "alice"), ADMIN, "full_access")}
    assert g.admin_routes[arn("user", "alice")].hops == 1


def test_a_conditional_deny_beside_full_access_makes_it_conditional():
    outside_office = {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}
    ops = role("ops-admin", inline=[policy(allow("*"), deny("*", condition=outside_office))])
    edges = graph_of(ops).edges.filter(pl.col("edge_type") == IS_ADMIN)
    assert edges.select("source_id", "target_id", "method", "is_conditional").rows() == [
        (ops.arn, ADMIN, "full_access", True)]
