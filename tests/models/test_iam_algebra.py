"""Algebraic properties of effective grants, on random policies over a small universe (hypothesis)."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.iam.effective import GRANTS_SCHEMA, resolve_grants, resolve_grants_in_batches
from models.iam.policy import expand_policies
from tests.models.test_iam_effective import AGENT, OTHER, attachment, attachments_frame, grants_for
from tests.models.test_iam_policy import policies_frame, policy, statement

ACTION_PATTERNS = [
    "s3:GetObject", "s3:PutObject", "s3:Get*", "s3:*Tagging", "s3:List*", "iam:PassRole", "iam:Get*",
    "iam:?etRole", "ec2:RunInstances", "lambda:*", "sts:AssumeRole", "*:GetCallerIdentity",
]
NOT_ACTION_PATTERNS = ["s3:*", "iam:*", "lambda:*", "sts:*", "ec2:*"]
RESOURCES = [
    "*", "arn:aws:s3:::data/*", "arn:aws:s3:::data/secret/*", "arn:aws:s3:::logs/*", "arn:aws:s3:::*/reports/*",
    "arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/agent",
]
CONDITION = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def statements(draw, *, effect: str | None = None) -> dict:
    is_not_action = draw(st.integers(0, 14)) == 0  # NotAction spans the catalog: keep it rare to stay fast
    is_not_resource = draw(st.integers(0, 5)) == 0
    actions = draw(st.lists(st.sampled_from(NOT_ACTION_PATTERNS if is_not_action else ACTION_PATTERNS),
                            min_size=1, max_size=3, unique=True))
    resources = draw(st.lists(st.sampled_from(RESOURCES[1:] if is_not_resource else RESOURCES),
                              min_size=1, max_size=2, unique=True))
    return statement(
        effect=effect or draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        actions=None if is_not_action else actions,
        not_actions=actions if is_not_action else None,
        resources=None if is_not_resource else resources,
        not_resources=resources if is_not_resource else None,
        condition=CONDITION if draw(st.integers(0, 4)) == 0 else None,
    )


@st.composite
def policy_sets(draw) -> dict[str, list[dict]]:
    """Policy id -> statements; the agent is attached to all of them."""
    count = draw(st.integers(1, 3))
    return {f"p{i}": draw(st.lists(statements(), min_size=1, max_size=4)) for i in range(count)}


def documents_of(policy_set: dict[str, list[dict]]) -> dict[str, dict]:
    return {policy_id: policy(*statement_list) for policy_id, statement_list in policy_set.items()}


def agent_grants(policy_set: dict[str, list[dict]], *, boundary: list[dict] | None = None) -> pl.DataFrame:
    documents = documents_of(policy_set)
    attachments = [attachment(AGENT, policy_id) for policy_id in documents]
    if boundary is not None:
        documents["boundary"] = policy(*boundary)
        attachments.append(attachment(AGENT, "boundary", "boundary"))
    return grants_for(documents, attachments)


def allow_keys(grants: pl.DataFrame) -> set[tuple]:
    rows = grants.filter(pl.col("effect") == "Allow")
    return set(rows.select("identity_id", "action", "resource_pattern", "is_not_resource", "policy_id",
                           "statement_index").iter_rows())


@SETTINGS
@given(policy_set=policy_sets(), deny=statements(effect="Deny"), target=st.integers(0, 2))
def test_adding_a_deny_never_adds_a_grant(policy_set, deny, target):
    before = agent_grants(policy_set)
    policy_id = f"p{target % len(policy_set)}"
    after = agent_grants({**policy_set, policy_id: [*policy_set[policy_id], deny]})
    assert allow_keys(after) <= allow_keys(before)


@SETTINGS
@given(policy_set=policy_sets(), data=st.data())
def test_statement_and_policy_order_do_not_matter(policy_set, data):
    shuffled = {
        policy_id: data.draw(st.permutations(statement_list))
        for policy_id, statement_list in data.draw(st.permutations(list(policy_set.items())))
    }
    def comparable(grants: pl.DataFrame) -> pl.DataFrame:
        rest = grants.drop("statement_index")
        return rest.sort(rest.columns, nulls_last=True)

    assert comparable(agent_grants(shuffled)).equals(comparable(agent_grants(policy_set)))


@SETTINGS
@given(policy_set=policy_sets(), boundary=st.lists(statements(), min_size=1, max_size=3))
def test_a_boundary_never_adds(policy_set, boundary):
    unbounded = agent_grants(policy_set).filter(pl.col("effect") == "Allow")
    bounded = agent_grants(policy_set, boundary=boundary).filter(pl.col("effect") == "Allow")
    assert set(bounded["action"]) <= set(unbounded["action"])
    origin = ["identity_id", "action", "via", "policy_id", "statement_index"]
    assert set(bounded.select(origin).iter_rows()) <= set(unbounded.select(origin).iter_rows())


@SETTINGS
@given(policy_set=policy_sets())
def test_an_unconditional_deny_of_everything_leaves_nothing(policy_set):
    denied = agent_grants({**policy_set, "deny-all": [statement(effect="Deny", actions="*")]})
    assert denied.height == 0


@SETTINGS
@given(policy_set=policy_sets(), other=policy_sets())
def test_other_identities_do_not_change_an_identity_grants(policy_set, other):
    alone = agent_grants(policy_set)
    documents = documents_of(policy_set) | {f"other-{k}": v for k, v in documents_of(other).items()}
    attachments = [attachment(AGENT, p) for p in policy_set] + [attachment(OTHER, f"other-{p}") for p in other]
    together = grants_for(documents, attachments).filter(pl.col("identity_id") == AGENT)
    assert together.equals(alone)


@SETTINGS
@given(policy_set=policy_sets(), other=policy_sets(), shared=st.booleans(), max_rows=st.integers(1, 60))
def test_grants_resolved_in_batches_are_the_grants_resolved_at_once(policy_set, other, shared, max_rows):
    documents = documents_of(policy_set) | {f"other-{k}": v for k, v in documents_of(other).items()}
    attachments = attachments_frame(
        [attachment(AGENT, p) for p in policy_set]
        + [attachment(OTHER, f"other-{p}") for p in other]
        + ([attachment(OTHER, next(iter(policy_set)), "inline")] if shared else [])
        + [attachment(f"{OTHER}-{i}", f"other-{p}", "group:g") for i in range(3) for p in other]
    )
    expanded = expand_policies(policies_frame(documents))
    whole = resolve_grants(expanded, attachments)
    batches = list(resolve_grants_in_batches(expanded, attachments, max_rows))
    assert pl.concat(batches).equals(whole)


def test_each_batch_holds_identities_whose_policies_expand_to_about_the_bound():
    one_row = {f"p{i}": policy(statement(actions="s3:GetObject", resources=f"arn:aws:s3:::b{i}/*")) for i in range(3)}
    two_rows = {"wide": policy(statement(actions=["s3:GetObject", "s3:PutObject"], resources="*"))}
    expanded = expand_policies(policies_frame(one_row | two_rows))
    attachments = attachments_frame([attachment(f"id-{i}", f"p{i}") for i in range(3)] + [attachment("id-3", "wide")])
    batches = list(resolve_grants_in_batches(expanded, attachments, max_rows=2))
    assert [sorted(set(b["identity_id"])) for b in batches] == [["id-0", "id-1"], ["id-2", "id-3"]]
    assert [b.height for b in batches] == [2, 3]


def test_no_identity_gives_one_empty_batch_in_the_grants_schema():
    expanded = expand_policies(policies_frame({"p": policy(statement(actions="s3:GetObject", resources="*"))}))
    (batch,) = resolve_grants_in_batches(expanded, attachments_frame([]))
    assert batch.height == 0 and batch.schema == pl.Schema(GRANTS_SCHEMA)
