"""Principal sets: a rule held on every user (role, group) of an account alike is one edge to the account's set,
and reach, routes, paths and what-ifs through the set are those of the edges it stands for."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from models.graph import blast_radius, escalation_paths
from models.graph.capabilities import Access, Capabilities, Scope
from models.graph.model import CAN_ESCALATE, CONTAINS, PRINCIPAL_SET, admin_node_id, principal_set_id
from models.graph.whatif import ReachIndex
from tests.models.test_graph_factories import (
    ACCOUNT, Identity, allow, arn, deny, edge_set, graph_of, policy, role, scenario, user,
)

USERS = principal_set_id("user", ACCOUNT)
ADMIN = admin_node_id(ACCOUNT)


def key_maker(resources="*", **statement) -> Identity:
    return user("alice", inline=[policy(allow("iam:CreateAccessKey", resources, **statement))])


def people(*names: str) -> list:
    return [user(n) for n in names]


def test_a_rule_held_on_every_user_alike_is_one_edge_to_the_accounts_users():
    g = graph_of(key_maker(), *people("bob", "carol"))
    assert edge_set(g, CAN_ESCALATE) == {(arn("user", "alice"), USERS, "create_access_key")}
    assert edge_set(g, CONTAINS) == {(USERS, arn("user", n), "set_member") for n in ("alice", "bob", "carol")}
    (reason,) = g.edges.filter(pl.col("edge_type") == CAN_ESCALATE)["reason"]
    assert reason == ("alice can create an access key for any user of account 111122223333 (3 users) "
                      "(iam:CreateAccessKey) and act as it")
    (node,) = g.nodes.filter(pl.col("node_type") == PRINCIPAL_SET).select("node_id", "kind", "member_count").rows()
    assert node == (USERS, "user", 3)


def test_a_pattern_naming_every_user_of_the_account_is_the_set_too():
    g = graph_of(key_maker(f"arn:aws:iam::{ACCOUNT}:user/*"), *people("bob", "carol"))
    assert edge_set(g, CAN_ESCALATE) == {(arn("user", "alice"), USERS, "create_access_key")}


def test_one_other_user_is_a_direct_edge_not_a_set():
    g = graph_of(key_maker(), *people("bob"))
    assert edge_set(g, CAN_ESCALATE) == {(arn("user", "alice"), arn("user", "bob"), "create_access_key")}
    assert edge_set(g, CONTAINS) == set()


def test_a_deny_on_one_user_gives_an_edge_to_each_of_the_others():
    alice = user("alice", inline=[policy(allow("iam:CreateAccessKey"), deny("iam:CreateAccessKey", arn("user", "bob")))])
    g = graph_of(alice, *people("bob", "carol", "dave"))
    assert edge_set(g, CAN_ESCALATE) == {
        (arn("user", "alice"), arn("user", n), "create_access_key") for n in ("carol", "dave")}


def test_a_conditional_grant_on_every_user_is_a_conditional_edge_to_the_set():
    g = graph_of(key_maker(condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}), *people("bob", "carol"))
    edges = g.edges.filter(pl.col("edge_type") == CAN_ESCALATE)
    assert edges.select("target_id", "is_conditional").rows() == [(USERS, True)]


def test_trust_policy_rewrites_on_every_role_reach_the_accounts_roles():
    ops = user("ops", inline=[policy(allow("iam:UpdateAssumeRolePolicy"))])
    g = graph_of(ops, role("a"), role("b"))
    assert edge_set(g, CAN_ESCALATE) == {(ops.arn, principal_set_id("role", ACCOUNT), "update_assume_role_policy")}
    assert "can rewrite the trust policy of any role of account 111122223333 (2 roles)" in g.edges.filter(
        pl.col("edge_type") == CAN_ESCALATE)["reason"][0]


def _org(resources: str | list[str]):
    """alice can take over any user; bob holds full access; carol holds nothing."""
    return (key_maker(resources), user("bob", inline=[policy(allow("*"))]), user("carol"))


def test_reach_and_routes_through_the_set_equal_those_of_an_edge_to_each_user():
    through_set = graph_of(*_org("*"))
    direct = graph_of(*_org([arn("user", "bob"), arn("user", "carol")]))
    assert edge_set(direct, CONTAINS) == set()
    figures = [c for c in blast_radius(direct).columns if c != "path_to_admin"]
    assert blast_radius(through_set).select(figures).equals(blast_radius(direct).select(figures))
    row = blast_radius(through_set).filter(pl.col("identity_id") == arn("user", "alice")).row(0, named=True)
    assert (row["reachable_identities"], row["hops_to_admin"]) == (2, 2)
    assert row["path_to_admin"] == [arn("user", "alice"), USERS, arn("user", "bob"), ADMIN]


def test_an_escalation_path_through_the_set_counts_no_hop_for_the_set():
    paths = escalation_paths(graph_of(*_org("*")), max_hops=2).filter(pl.col("identity_id") == arn("user", "alice"))
    assert paths.select("hops", "method", "methods").rows() == [
        (2, "create_access_key", ["create_access_key", "set_member", "full_access"])]
    assert paths["steps"][0].struct.field("edge_type").to_list() == [CAN_ESCALATE, CONTAINS, "IS_ADMIN"]


def test_the_edge_to_the_set_was_used_when_its_source_became_one_of_the_members():
    s = scenario(*_org("*"), used=[(arn("user", "alice"), arn("user", "carol"), None)])
    edge = s.graph().edges.filter(pl.col("target_id") == USERS)
    assert edge.select("is_used", "is_unused_admin_edge").rows() == [(True, False)]
    unused = scenario(*_org("*")).graph().edges.filter(pl.col("target_id") == USERS)
    assert unused.select("is_used", "is_unused_admin_edge").rows() == [(False, True)]


def test_a_what_if_through_the_set_gives_the_all_at_once_figures():
    graph = graph_of(*_org("*"))
    index = ReachIndex(graph.graph)
    for row in blast_radius(graph).iter_rows(named=True):
        alone = index.figures(row["identity_id"])
        assert alone == {k: v for k, v in row.items() if k != "kind"}
    with index.changed(arn("user", "alice"), remove_edges=[(arn("user", "alice"), USERS)]):
        assert index.figures(arn("user", "alice"))["reachable_identities"] == 0


def test_a_what_if_that_widens_grants_to_every_user_brings_the_set_and_its_members():
    # the base graph has no set (nobody holds the rule on every user); alice's replacement brings it
    base = graph_of(key_maker(arn("user", "carol")), user("bob", inline=[policy(allow("*"))]), user("carol"))
    index = ReachIndex(base.graph)
    assert index.figures(arn("user", "alice"))["can_reach_admin"] is False
    with index.changed(arn("user", "alice"), replacement=graph_of(*_org("*"))):
        widened = index.figures(arn("user", "alice"))
    assert (widened["can_reach_admin"], widened["hops_to_admin"], widened["reachable_identities"]) == (True, 2, 2)


# --- the capability the grouping rests on --------------------------------------------------------

PATTERN = f"arn:aws:iam::{ACCOUNT}:user/*"
PATTERNS = ("*", PATTERN, arn("user", "a"), arn("user", "b"), f"arn:aws:iam::{ACCOUNT}:role/*", "arn:aws:iam::*:user/a*")
MEMBERS = [arn("user", n) for n in ("a", "b", "ab", "c")]
scopes = st.builds(Scope, st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2, unique=True).map(tuple),
                   st.booleans(), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(scopes, max_size=3), st.lists(scopes, max_size=2))
def test_access_said_to_be_alike_on_every_member_is_each_members_access(allows, denies):
    caps = Capabilities(allows={"iam:createaccesskey": tuple(allows)}, denies={"iam:createaccesskey": tuple(denies)})
    alike = caps.on_all_alike("iam:CreateAccessKey", PATTERN)
    if alike is not None:
        assert [caps.on("iam:CreateAccessKey", m) for m in MEMBERS] == [alike] * len(MEMBERS)


def test_an_unconditional_grant_on_every_user_is_alike_and_a_narrower_one_beside_a_conditional_is_not():
    everything = Scope(("*",), False, False)
    narrow = Scope((arn("user", "a"),), False, False)
    conditional = Scope(("*",), False, True)
    assert Capabilities(allows={"iam:createaccesskey": (everything, narrow)}).on_all_alike(
        "iam:CreateAccessKey", PATTERN) == Access.ALLOWED
    assert Capabilities(allows={"iam:createaccesskey": (conditional,)}).on_all_alike(
        "iam:CreateAccessKey", PATTERN) == Access.CONDITIONAL
    assert Capabilities(allows={"iam:createaccesskey": (conditional, narrow)}).on_all_alike(
        "iam:CreateAccessKey", PATTERN) is None


def test_several_actions_alike_are_the_weakest_and_one_that_differs_makes_them_differ():
    everything = Scope(("*",), False, False)
    conditional = Scope(("*",), False, True)
    narrow = Scope((arn("user", "a"),), False, False)
    caps = Capabilities(allows={"iam:createaccesskey": (everything,), "iam:createloginprofile": (conditional,),
                                "iam:updateloginprofile": (narrow,)})
    assert caps.all_of_alike(["iam:CreateAccessKey", "iam:CreateLoginProfile"], PATTERN) == Access.CONDITIONAL
    assert caps.all_of_alike(["iam:CreateAccessKey", "iam:UpdateLoginProfile"], PATTERN) is None
    assert caps.all_of_alike(["iam:CreateAccessKey"], "*") == Access.ALLOWED


def test_a_reach_dependent_rule_reaches_principals_through_the_set():
    # alice can become any role (trust rewrites on all of them), and can attach policies to role x only
    alice = user("alice", inline=[policy(allow("iam:UpdateAssumeRolePolicy"), allow("iam:AttachRolePolicy", arn("role", "x")))])
    g = graph_of(alice, role("x"), role("y"))
    assert edge_set(g, CAN_ESCALATE) == {(alice.arn, principal_set_id("role", ACCOUNT), "update_assume_role_policy"),
                                        (alice.arn, ADMIN, "attach_role_policy")}
    (subject,) = g.edges.filter(pl.col("method") == "attach_role_policy")["subject_id"]
    assert subject == arn("role", "x")
