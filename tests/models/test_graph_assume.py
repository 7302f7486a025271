"""CAN_ASSUME: both sides must allow it, the trust policy and (unless it names the caller at home) the caller."""

from __future__ import annotations

import polars as pl

from models.graph.model import CAN_ASSUME, MEMBER_OF, admin_node_id
from models.graph.trust import parse_trust_policy
from tests.models.test_graph_factories import (
    ACCOUNT,
    OTHER_ACCOUNT,
    allow,
    arn,
    aws_trust,
    deny,
    edge_set,
    graph_of,
    group,
    policy,
    role,
    root,
    service_trust,
    user,
)

ASSUME_ANY = policy(allow("sts:AssumeRole"))


def assume_edges(*identities, **options) -> set[tuple[str, str]]:
    """Caller-to-role edges (the admin nodes' edges to other accounts' roles left out)."""
    return {(u, v) for u, v, m in edge_set(graph_of(*identities, **options), CAN_ASSUME) if m == "assume_role"}


def trust_findings(graph) -> list[tuple[str, str]]:
    return graph.findings.filter(pl.col("code") != "rule_skipped").select("code", "subject_id").rows()


def test_account_root_trust_lets_in_principals_whose_policies_allow_assume_role():
    caller = user("ci", inline=[ASSUME_ANY])
    bystander = user("bystander", inline=[policy(allow("s3:ListAllMyBuckets"))])
    target = role("deployer", trust=aws_trust(root()))
    assert assume_edges(caller, bystander, target) == {(caller.arn, target.arn)}


def test_bare_account_id_is_the_account_root():
    caller = user("ci", inline=[ASSUME_ANY])
    assert assume_edges(caller, role("deployer", trust=aws_trust(ACCOUNT))) == {(caller.arn, arn("role", "deployer"))}


def test_assume_role_allowed_by_the_caller_but_not_by_the_trust_policy_is_no_edge():
    caller = user("ci", inline=[ASSUME_ANY])
    assert assume_edges(caller, role("fn-role", trust=service_trust("lambda.amazonaws.com"))) == set()
    assert assume_edges(caller, role("other-team", trust=aws_trust(arn("user", "someone-else")))) == set()


def test_trust_policy_allows_but_caller_lacks_assume_role_is_no_edge():
    caller = user("ci", inline=[policy(allow("s3:GetObject"))])
    assert assume_edges(caller, role("deployer", trust=aws_trust(root()))) == set()


def test_caller_permission_narrowed_to_another_role_is_no_edge():
    caller = user("ci", inline=[policy(allow("sts:AssumeRole", arn("role", "reader")))])
    edges = assume_edges(caller, role("deployer", trust=aws_trust(root())), role("reader", trust=aws_trust(root())))
    assert edges == {(caller.arn, arn("role", "reader"))}


def test_trust_naming_the_caller_in_the_same_account_needs_no_identity_permission():
    caller = user("ops", inline=[policy(allow("s3:GetObject"))])
    target = role("break-glass", trust=aws_trust(caller.arn))
    g = graph_of(caller, target)
    assert {(u, v) for u, v, _ in edge_set(g, CAN_ASSUME)} == {(caller.arn, target.arn)}
    assert g.edges.filter(pl.col("edge_type") == CAN_ASSUME)["reason"].to_list() == [
        "trust policy of break-glass names ops (same account: no identity permission needed)"]


def test_trust_naming_a_caller_of_another_account_also_needs_its_permission():
    outsider = user("partner", account=OTHER_ACCOUNT, inline=[policy(allow("s3:GetObject"))])
    target = role("shared", trust=aws_trust(outsider.arn))
    assert assume_edges(outsider, target) == set()
    allowed = user("partner", account=OTHER_ACCOUNT, inline=[ASSUME_ANY])
    assert assume_edges(allowed, target) == {(allowed.arn, target.arn)}


def test_holders_sharing_a_policy_are_answered_alike_and_the_others_on_their_own():
    # callers with the same sts:AssumeRole statements are asked once per role: those with other statements
    # (narrower, or denied one role) must still get their own answers
    shared = [user(f"ci-{i}", inline=[ASSUME_ANY]) for i in range(3)]
    narrow = user("narrow", inline=[policy(allow("sts:AssumeRole", arn("role", "reader")))])
    denied = user("denied", inline=[policy(allow("sts:AssumeRole"), deny("sts:AssumeRole", arn("role", "deployer")))])
    deployer = role("deployer", trust=aws_trust(root()))
    reader = role("reader", trust=aws_trust(root()))
    assert assume_edges(*shared, narrow, denied, deployer, reader) == {
        *((c.arn, deployer.arn) for c in shared),
        *((c.arn, reader.arn) for c in shared),
        (narrow.arn, reader.arn),
        (denied.arn, reader.arn),
    }


def test_cross_account_root_trust_reaches_the_other_accounts_permitted_principals():
    dev_agent = role("dev-agent", account=OTHER_ACCOUNT, trust=service_trust("bedrock.amazonaws.com"),
                     inline=[policy(allow("sts:AssumeRole", arn("role", "prod-deployer")))])
    prod_deployer = role("prod-deployer", trust=aws_trust(root(OTHER_ACCOUNT)))
    g = graph_of(dev_agent, prod_deployer)
    assert edge_set(g, CAN_ASSUME) == {
        (dev_agent.arn, prod_deployer.arn, "assume_role"),
        (admin_node_id(OTHER_ACCOUNT), prod_deployer.arn, "account_admin_assume_role"),
    }


def test_assumed_role_session_principal_is_read_as_its_role():
    caller = role("scheduler", inline=[ASSUME_ANY])
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/scheduler/nightly"
    assert assume_edges(caller, role("worker", trust=aws_trust(session))) == {(caller.arn, arn("role", "worker"))}


def test_conditional_trust_gives_a_conditional_edge():
    caller = user("ci", inline=[ASSUME_ANY])
    target = role("deployer", trust=aws_trust(root(), condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    edges = graph_of(caller, target).edges.filter(pl.col("edge_type") == CAN_ASSUME)
    assert edges.select("source_id", "is_conditional").rows() == [(caller.arn, True)]


def test_an_unconditional_deny_in_the_trust_policy_shuts_the_principal_out():
    caller, other = user("ci", inline=[ASSUME_ANY]), user("ops", inline=[ASSUME_ANY])
    trust = policy({"Effect": "Allow", "Principal": {"AWS": root()}, "Action": "sts:AssumeRole"},
                   {"Effect": "Deny", "Principal": {"AWS": caller.arn}, "Action": "sts:AssumeRole"})
    assert assume_edges(caller, other, role("deployer", trust=trust)) == {(other.arn, arn("role", "deployer"))}


def test_any_principal_trust_lets_in_the_whole_account_and_permitted_outsiders():
    insider = user("insider", inline=[policy(allow("s3:GetObject"))])
    outsider = user("outsider", account=OTHER_ACCOUNT, inline=[ASSUME_ANY])
    stranger = user("stranger", account=OTHER_ACCOUNT, inline=[policy(allow("s3:GetObject"))])
    target = role("open", trust=aws_trust("*"))
    g = graph_of(insider, outsider, stranger, target)
    assert edge_set(g, CAN_ASSUME) == {
        (insider.arn, target.arn, "assume_role"), (outsider.arn, target.arn, "assume_role"),
        (admin_node_id(OTHER_ACCOUNT), target.arn, "account_admin_assume_role")}
    assert g.findings.filter(pl.col("code") == "external_trust")["subject_id"].to_list() == [target.arn]


def test_trust_of_an_unknown_account_is_a_finding_not_an_edge():
    g = graph_of(role("vendor-access", trust=aws_trust(root("999988887777"))))
    assert edge_set(g, CAN_ASSUME) == set()
    assert trust_findings(g) == [("external_trust", arn("role", "vendor-access"))]


def test_invalid_trust_policy_is_a_finding():
    g = graph_of(role("broken", trust={"Statement": [{"Effect": "Allow", "Principal": "*"}]}))
    assert trust_findings(g) == [("invalid_trust_policy", arn("role", "broken"))]


def test_groups_hold_assume_role_for_their_members_and_membership_is_an_edge():
    g = graph_of(group("ci", inline=[ASSUME_ANY]), user("dana", groups=["ci"]),
                 role("deployer", trust=aws_trust(root())))
    assert edge_set(g, CAN_ASSUME, MEMBER_OF) == {
        (arn("user", "dana"), arn("group", "ci"), "group_membership"),
        (arn("group", "ci"), arn("role", "deployer"), "assume_role"),
        (arn("user", "dana"), arn("role", "deployer"), "assume_role"),
    }


def test_trust_parsing_keeps_services_accounts_and_principals_apart():
    trust = parse_trust_policy(policy(
        {"Effect": "Allow", "Principal": {"Service": "Lambda.amazonaws.com", "AWS": [ACCOUNT, arn("user", "u")]},
         "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
         "Action": "sts:AssumeRoleWithWebIdentity"},
    ))
    assert [(t.kind, t.value) for t in trust.trusted] == [
        ("account", ACCOUNT), ("principal", arn("user", "u")), ("service", "lambda.amazonaws.com")]
