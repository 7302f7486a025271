"""Escalation rules: every row detected from a policy made of its own actions, and the near misses that are not."""

from __future__ import annotations

import polars as pl
import pytest

from models.graph import ESCALATION_RULES, EscalationRule, available_rules
from models.graph.model import CAN_ESCALATE, admin_node_id
from tests.models.test_graph_factories import (
    ACCOUNT,
    Identity,
    Scenario,
    allow,
    arn,
    aws_trust,
    edge_set,
    graph_of,
    group,
    managed_arn,
    policy,
    role,
    scenario,
    service_trust,
    user,
)

WORKLOAD_ARNS = {
    "lambda": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nightly-report",
    "ec2": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0123456789abcdef0",
    "codebuild": f"arn:aws:codebuild:us-east-1:{ACCOUNT}:project/release-build",
}


def rule_actions_needed(rule: EscalationRule) -> list[str]:
    """The smallest action list that satisfies the rule: its target actions and its first service set."""
    return list(rule.actions_on_target) + list(rule.service_action_sets[0] if rule.service_action_sets else ())


def attacker_for(rule: EscalationRule, actions: list[str]) -> Identity:
    """The source principal: a role where the rule allows one, else a user; its policy is ``actions`` on ``*``."""
    statement = policy(allow(actions))
    if rule.target_kind == "attached_policy":
        return role("attacker", managed=[(managed_arn("attacker-tools"), statement)])
    if rule.target_kind == "principal_policies" and rule.target_principal_kind == "group":
        return user("attacker", inline=[statement], groups=["team"])
    if rule.target_kind == "principal_policies" and rule.target_principal_kind == "user":
        return user("attacker", inline=[statement])
    if "role" not in rule.source_kinds:
        return user("attacker", inline=[statement])
    return role("attacker", inline=[statement])


def rule_scenario(rule: EscalationRule, actions: list[str] | None = None) -> tuple[Scenario, str, str]:
    """A scenario in which ``rule`` holds, with the attacker's actions; returns it, the source and the target."""
    attacker = attacker_for(rule, rule_actions_needed(rule) if actions is None else actions)
    others: list[Identity] = []
    workloads = None
    target = None
    if rule.target_kind == "other_user":
        others, target = [user("victim")], arn("user", "victim")
    elif rule.target_kind == "role_trust":
        others, target = [role("victim", trust=service_trust("ec2.amazonaws.com"))], arn("role", "victim")
    elif rule.target_kind == "group":
        others, target = [group("victim")], arn("group", "victim")
    elif rule.target_kind in ("principal_policies", "attached_policy"):
        others = [group("team")] if attacker.groups else []
        target = admin_node_id(ACCOUNT)
    elif rule.target_kind == "passable_role":
        victim = role("victim", trust=service_trust(rule.service_principal), has_instance_profile=True)
        others, target = [victim], victim.arn
    elif rule.target_kind == "workload":
        others, target = [role("victim")], arn("role", "victim")
        workloads = [(WORKLOAD_ARNS[rule.workload_service], target, rule.workload_service)]
    assert target is not None, rule.target_kind
    return scenario(attacker, *others, workloads=workloads), attacker.arn, target


def rule_edges(s: Scenario, code: str) -> set[tuple[str, str]]:
    return {(u, v) for u, v, m in edge_set(s.graph(), CAN_ESCALATE) if m == code}


@pytest.mark.parametrize("rule", ESCALATION_RULES, ids=lambda r: r.code)
def test_every_rule_is_detected_from_a_policy_of_its_own_actions(rule: EscalationRule):
    if rule not in available_rules():
        pytest.skip(f"{rule.code}: an action is missing from this catalog release")
    s, source, target = rule_scenario(rule)
    assert rule_edges(s, rule.code) == {(source, target)}


@pytest.mark.parametrize("rule", ESCALATION_RULES, ids=lambda r: r.code)
def test_every_rule_needs_each_of_its_actions(rule: EscalationRule):
    if rule not in available_rules():
        pytest.skip(f"{rule.code}: an action is missing from this catalog release")
    needed = rule_actions_needed(rule)
    for missing in needed:
        s, _, _ = rule_scenario(rule, [a for a in needed if a != missing] or ["s3:ListAllMyBuckets"])
        assert rule_edges(s, rule.code) == set(), f"{rule.code} without {missing}"


def test_rule_codes_are_unique_and_the_core_iam_methods_are_in_the_catalog():
    codes = [r.code for r in ESCALATION_RULES]
    assert len(codes) == len(set(codes))
    core = {"create_access_key", "create_login_profile", "update_login_profile", "update_assume_role_policy",
            "add_user_to_group", "attach_user_policy", "attach_role_policy", "attach_group_policy",
            "put_user_policy", "put_role_policy", "put_group_policy", "create_policy_version",
            "set_default_policy_version", "passrole_lambda", "passrole_ec2", "passrole_ecs",
            "passrole_cloudformation_create_stack", "passrole_glue_job", "passrole_sagemaker_notebook",
            "passrole_codebuild", "passrole_autoscaling", "lambda_update_function_code", "ssm_send_command",
            "codebuild_start_build"}
    assert core <= {r.code for r in available_rules()}


# --- PassRole near misses --------------------------------------------------------------------

LAMBDA_RUNNER = ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]


def test_passrole_without_a_service_that_can_use_the_role_is_no_edge():
    s = scenario(role("deployer", inline=[policy(allow(LAMBDA_RUNNER))]),
                 role("ec2-only", trust=service_trust("ec2.amazonaws.com"), has_instance_profile=True))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_passrole_alone_is_no_edge():
    s = scenario(role("deployer", inline=[policy(allow("iam:PassRole"))]), role("fn-role"))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_passrole_narrowed_to_a_harmless_role_reaches_only_that_role():
    deployer = role("deployer", inline=[policy(allow("iam:PassRole", arn("role", "harmless")),
                                               allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))])
    s = scenario(deployer, role("harmless", inline=[policy(allow("logs:PutLogEvents"))]),
                 role("ops-admin", inline=[policy(allow("*"))]))
    assert edge_set(s.graph(), CAN_ESCALATE) == {(deployer.arn, arn("role", "harmless"), "passrole_lambda")}


def test_passrole_to_a_role_of_another_account_is_no_edge():
    s = scenario(role("deployer", inline=[policy(allow(LAMBDA_RUNNER))]), role("elsewhere", account="444455556666"))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_passrole_reason_names_the_role_the_service_and_the_actions():
    s = scenario(role("deployer", inline=[policy(allow(LAMBDA_RUNNER))]), role("fn-role"))
    (reason,) = s.graph().edges.filter(pl.col("method") == "passrole_lambda")["reason"].to_list()
    assert reason == ("deployer can pass role fn-role to a new Lambda function "
                      "(iam:PassRole, lambda:CreateFunction, lambda:InvokeFunction) and run code as it")


def test_lambda_event_source_mapping_is_the_other_way_to_run_the_function():
    actions = ["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"]
    s = scenario(role("deployer", inline=[policy(allow(actions))]), role("fn-role"))
    assert rule_edges(s, "passrole_lambda") == {(arn("role", "deployer"), arn("role", "fn-role"))}


def test_ec2_role_without_an_instance_profile_needs_the_rights_to_make_one():
    runner = ["iam:PassRole", "ec2:RunInstances"]
    bare = role("bare", trust=service_trust("ec2.amazonaws.com"))
    assert rule_edges(scenario(role("ops", inline=[policy(allow(runner))]), bare), "passrole_ec2") == set()
    maker = role("ops", inline=[policy(allow(runner + ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"]))])
    s = scenario(maker, bare)
    assert rule_edges(s, "passrole_ec2") == {(maker.arn, bare.arn)}
    assert s.graph().edges.filter(pl.col("method") == "passrole_ec2")["reason"][0].endswith(
        "through a new instance profile")


def test_conditional_passrole_gives_a_conditional_edge():
    condition = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    deployer = role("deployer", inline=[policy(allow("iam:PassRole", condition=condition),
                                               allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))])
    edges = scenario(deployer, role("fn-role")).graph().edges.filter(pl.col("edge_type") == CAN_ESCALATE)
    assert edges.select("method", "is_conditional").rows() == [("passrole_lambda", True)]


def test_an_explicit_deny_on_the_role_removes_the_passrole_edge():
    deployer = role("deployer", inline=[policy(allow(LAMBDA_RUNNER), {"Effect": "Deny", "Action": "iam:PassRole",
                                                                      "Resource": arn("role", "ops-admin")})])
    s = scenario(deployer, role("ops-admin", inline=[policy(allow("*"))]), role("fn-role"))
    assert rule_edges(s, "passrole_lambda") == {(deployer.arn, arn("role", "fn-role"))}


def test_the_source_does_not_escalate_to_itself():
    s = scenario(role("deployer", inline=[policy(allow(LAMBDA_RUNNER))]))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


# --- other near misses ---------------------------------------------------------------------


def test_create_access_key_on_its_own_user_only_is_no_edge():
    s = scenario(user("alice", inline=[policy(allow("iam:CreateAccessKey", arn("user", "alice")))]), user("bob"))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_create_access_key_scoped_to_one_user_reaches_that_user_only():
    s = scenario(user("alice", inline=[policy(allow("iam:CreateAccessKey", arn("user", "bob")))]),
                 user("bob"), user("carol"))
    assert edge_set(s.graph(), CAN_ESCALATE) == {(arn("user", "alice"), arn("user", "bob"), "create_access_key")}


def test_attach_role_policy_on_a_role_it_cannot_become_is_no_admin_edge():
    s = scenario(role("tool", inline=[policy(allow("iam:AttachRolePolicy", arn("role", "other")))]), role("other"))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_attach_role_policy_on_a_role_it_can_assume_is_admin_through_that_role():
    tool = role("tool", inline=[policy(allow("iam:AttachRolePolicy", arn("role", "other")),
                                       allow("sts:AssumeRole", arn("role", "other")))])
    g = scenario(tool, role("other", trust=aws_trust(f"arn:aws:iam::{ACCOUNT}:root"))).graph()
    admin_edges = g.edges.filter(pl.col("target_id") == admin_node_id(ACCOUNT))
    assert admin_edges.select("source_id", "method", "subject_id").rows() == [
        (tool.arn, "attach_role_policy", arn("role", "other"))]
    assert "role other, which it can reach" in admin_edges["reason"][0]


def test_create_policy_version_on_a_policy_not_attached_to_it_is_no_edge():
    s = scenario(role("tool", inline=[policy(allow("iam:CreatePolicyVersion", managed_arn("someone-elses")))]))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_a_policy_attached_to_several_principals_it_reaches_is_one_edge_through_the_first():
    shared = (managed_arn("shared"), policy(allow("s3:GetObject")))
    tool = role("tool", inline=[policy(allow("iam:CreatePolicyVersion", managed_arn("shared")),
                                       allow("sts:AssumeRole"))])
    trust = aws_trust(f"arn:aws:iam::{ACCOUNT}:root")
    g = scenario(tool, role("beta", managed=[shared], trust=trust), role("alpha", managed=[shared], trust=trust),
                 role("gamma", managed=[shared], trust=trust)).graph()
    admin_edges = g.edges.filter((pl.col("target_id") == admin_node_id(ACCOUNT))
                                 & (pl.col("method") == "create_policy_version"))
    assert admin_edges.select("source_id", "subject_id").rows() == [(tool.arn, arn("role", "alpha"))]
    # held by the source itself too: the source's own way comes first
    g = scenario(role("tool", inline=tool.inline, managed=[shared]), role("alpha", managed=[shared], trust=trust)).graph()
    admin_edges = g.edges.filter((pl.col("target_id") == admin_node_id(ACCOUNT))
                                 & (pl.col("method") == "create_policy_version"))
    assert admin_edges.select("source_id", "subject_id").rows() == [(tool.arn, tool.arn)]


def test_create_policy_version_on_an_inline_policy_is_not_a_thing():
    # Inline policies have no versions; only customer-managed ARNs are targets.
    s = scenario(role("tool", inline=[policy(allow("iam:CreatePolicyVersion"))]))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_update_assume_role_policy_reaches_other_roles_of_the_account():
    s = scenario(user("ops", inline=[policy(allow("iam:UpdateAssumeRolePolicy", arn("role", "target")))]),
                 role("target"), role("other"))
    assert edge_set(s.graph(), CAN_ESCALATE) == {
        (arn("user", "ops"), arn("role", "target"), "update_assume_role_policy")}


def test_workload_rules_are_skipped_with_a_finding_when_workloads_are_not_given():
    s = scenario(role("ops", inline=[policy(allow("lambda:UpdateFunctionCode"))]), role("fn-role"))
    g = s.graph()
    assert edge_set(g, CAN_ESCALATE) == set()
    skipped = g.findings.filter(pl.col("code") == "rule_skipped")["subject_id"].to_list()
    assert set(skipped) == {r.code for r in available_rules() if r.target_kind == "workload"}


def test_workload_of_another_account_is_no_edge():
    other = "444455556666"
    s = scenario(role("ops", inline=[policy(allow("lambda:UpdateFunctionCode"))]), role("fn-role"),
                 workloads=[(f"arn:aws:lambda:us-east-1:{other}:function:f", arn("role", "fn-role"), "lambda")])
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_full_access_principals_get_no_escalation_edges():
    s = scenario(role("ops-admin", inline=[policy(allow("*"))]), user("victim"), role("fn-role"))
    assert edge_set(s.graph(), CAN_ESCALATE) == set()


def test_group_policies_escalate_for_the_group_and_for_each_member():
    g = graph_of(group("deployers", inline=[policy(allow(LAMBDA_RUNNER))]), user("dana", groups=["deployers"]),
                 role("fn-role"))
    assert edge_set(g, CAN_ESCALATE) == {
        (arn("group", "deployers"), arn("role", "fn-role"), "passrole_lambda"),
        (arn("user", "dana"), arn("role", "fn-role"), "passrole_lambda"),
    }


def test_a_conditional_grant_on_every_resource_is_one_conditional_admin_edge_through_the_first_reached():
    # the same conditional answer on every ARN: the first role reached by id speaks for all of them
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    trust = aws_trust(f"arn:aws:iam::{ACCOUNT}:root")
    operator = user("operator", inline=[policy(allow(["iam:AttachRolePolicy", "iam:PutRolePolicy"], condition=mfa),
                                               allow("sts:AssumeRole"))])
    g = scenario(operator, role("gamma", trust=trust), role("alpha", trust=trust), role("beta", trust=trust)).graph()
    admin_edges = g.edges.filter(pl.col("target_id") == admin_node_id(ACCOUNT)).sort("method")
    assert admin_edges.select("source_id", "method", "subject_id", "is_conditional").rows() == [
        (operator.arn, "attach_role_policy", arn("role", "alpha"), True),
        (operator.arn, "put_role_policy", arn("role", "alpha"), True),
    ]


def test_an_unconditional_grant_on_one_role_beats_a_conditional_one_on_every_role():
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    trust = aws_trust(f"arn:aws:iam::{ACCOUNT}:root")
    operator = user("operator", inline=[policy(allow("iam:AttachRolePolicy", condition=mfa),
                                               allow("iam:AttachRolePolicy", arn("role", "beta")),
                                               allow("sts:AssumeRole"))])
    g = scenario(operator, role("alpha", trust=trust), role("beta", trust=trust)).graph()
    admin_edges = g.edges.filter(pl.col("target_id") == admin_node_id(ACCOUNT))
    assert admin_edges.select("method", "subject_id", "is_conditional").rows() == [
        ("attach_role_policy", arn("role", "beta"), False)]
