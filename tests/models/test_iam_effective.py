"""Effective grants per identity: Deny, conditions, boundaries, groups, NotAction / NotResource."""

from __future__ import annotations

import json

import polars as pl

from models.iam.catalog import catalog_frame
from models.iam.effective import ATTACHMENTS_SCHEMA, GRANTS_SCHEMA, resolve_grants, with_group_policies
from models.iam.policy import expand_action_patterns, expand_policies
from tests.models.test_iam_policy import policies_frame, policy, statement

AGENT = "arn:aws:iam::111122223333:role/triage-bot"
OTHER = "arn:aws:iam::111122223333:role/report-bot"
DATA = "arn:aws:s3:::data/*"
SECRETS = "arn:aws:s3:::data/secret/*"
LOGS = "arn:aws:s3:::logs/*"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "false"}}

# --- factories -------------------------------------------------------------


def attachment(identity: str, policy_id: str, via: str = "managed") -> tuple[str, str, str]:
    return (identity, policy_id, via)


def attachments_frame(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ATTACHMENTS_SCHEMA, orient="row")


def grants_for(documents: dict[str, dict], attachments: list[tuple[str, str, str]]) -> pl.DataFrame:
    """``resolve_grants`` over hand-built policies and attachments."""
    return resolve_grants(expand_policies(policies_frame(documents)), attachments_frame(attachments))


def allowed(grants: pl.DataFrame, identity: str = AGENT) -> set[str]:
    return set(grants.filter((pl.col("identity_id") == identity) & (pl.col("effect") == "Allow"))["action"])


def allowed_on(grants: pl.DataFrame, identity: str = AGENT) -> set[tuple[str, str]]:
    rows = grants.filter((pl.col("identity_id") == identity) & (pl.col("effect") == "Allow"))
    return set(rows.select("action", "resource_pattern").iter_rows())


def row(grants: pl.DataFrame, *, action: str, effect: str = "Allow", identity: str = AGENT) -> dict:
    (only,) = grants.filter(
        (pl.col("identity_id") == identity) & (pl.col("action") == action) & (pl.col("effect") == effect)
    ).to_dicts()
    return only


# --- plain grants ----------------------------------------------------------


def test_output_schema_and_a_plain_grant_row():
    grants = grants_for({"read": policy(statement(actions="s3:GetObject", resources=DATA))},
                        [attachment(AGENT, "read", "inline")])
    assert grants.schema == pl.Schema(GRANTS_SCHEMA)
    assert grants.to_dicts() == [
        {
            "identity_id": AGENT, "action": "s3:GetObject", "service": "s3", "access_level": "Read",
            "resource_pattern": DATA, "is_not_resource": False, "effect": "Allow", "is_conditional": False,
            "condition": None, "via": "inline", "policy_id": "read", "statement_index": 0,
            "is_partially_denied": False, "has_conditional_deny": False, "is_boundary_limited": False,
            "boundary_policy_id": None, "boundary_condition": None,
        }
    ]


def test_no_attachments_no_rows():
    grants = grants_for({"read": policy(statement(actions="s3:GetObject"))}, [])
    assert grants.height == 0
    assert grants.schema == pl.Schema(GRANTS_SCHEMA)


def test_the_same_action_through_two_policies_is_two_rows():
    grants = grants_for(
        {"a": policy(statement(actions="s3:GetObject", resources=DATA)),
         "b": policy(statement(actions="s3:Get*", resources=DATA))},
        [attachment(AGENT, "a"), attachment(AGENT, "b", "inline")],
    )
    assert grants.filter(pl.col("action") == "s3:GetObject").select("policy_id", "via").rows() == [
        ("a", "managed"), ("b", "inline")
    ]


def test_not_action_grant_is_the_catalog_minus_the_exclusions():
    grants = grants_for({"p": policy(statement(not_actions=["iam:*", "organizations:*"]))}, [attachment(AGENT, "p")])
    catalog = catalog_frame()
    assert allowed(grants) == set(catalog.filter(~pl.col("service").is_in(["iam", "organizations"]))["action"])


# --- explicit Deny ---------------------------------------------------------


def test_unconditional_deny_on_star_removes_outright():
    grants = grants_for(
        {"p": policy(statement(actions=["s3:GetObject", "s3:PutObject", "iam:PassRole"], resources=DATA),
                     statement(effect="Deny", actions="s3:*"))},
        [attachment(AGENT, "p")],
    )
    assert allowed(grants) == {"iam:PassRole"}
    assert set(grants["effect"]) == {"Allow"}  # the Deny qualifies nothing left, so it is not listed


def test_deny_covering_the_grant_resources_removes():
    grants = grants_for(
        {"allow": policy(statement(actions="s3:GetObject", resources="arn:aws:s3:::data/reports/*")),
         "deny": policy(statement(effect="Deny", actions="s3:Get*", resources=DATA))},
        [attachment(AGENT, "allow"), attachment(AGENT, "deny")],
    )
    assert grants.height == 0


def test_deny_on_narrower_resource_keeps_the_grant_marked_and_lists_the_deny():
    grants = grants_for(
        {"allow": policy(statement(actions=["s3:GetObject", "s3:PutObject"], resources=DATA)),
         "deny": policy(statement(effect="Deny", actions="s3:GetObject", resources=SECRETS))},
        [attachment(AGENT, "allow"), attachment(AGENT, "deny")],
    )
    assert allowed_on(grants) == {("s3:GetObject", DATA), ("s3:PutObject", DATA)}
    assert row(grants, action="s3:GetObject")["is_partially_denied"] is True
    assert row(grants, action="s3:PutObject")["is_partially_denied"] is False
    deny = row(grants, action="s3:GetObject", effect="Deny")
    assert (deny["resource_pattern"], deny["policy_id"], deny["is_conditional"]) == (SECRETS, "deny", False)


def test_deny_on_a_disjoint_resource_changes_nothing():
    grants = grants_for(
        {"p": policy(statement(actions="s3:GetObject", resources=DATA),
                     statement(effect="Deny", actions="s3:GetObject", resources=LOGS))},
        [attachment(AGENT, "p")],
    )
    assert grants.select("action", "effect", "is_partially_denied").rows() == [("s3:GetObject", "Allow", False)]


def test_conditional_deny_is_kept_and_marks_the_grant():
    grants = grants_for(
        {"p": policy(statement(actions=["iam:PassRole", "iam:GetRole"]),
                     statement(effect="Deny", actions="iam:PassRole", condition=MFA))},
        [attachment(AGENT, "p")],
    )
    assert allowed(grants) == {"iam:PassRole", "iam:GetRole"}
    assert row(grants, action="iam:PassRole")["has_conditional_deny"] is True
    assert row(grants, action="iam:GetRole")["has_conditional_deny"] is False
    deny = row(grants, action="iam:PassRole", effect="Deny")
    assert deny["is_conditional"] is True
    assert json.loads(deny["condition"]) == MFA


def test_conditional_allow_is_kept_and_marked():
    grants = grants_for({"p": policy(statement(actions="iam:CreatePolicyVersion", condition=MFA))},
                        [attachment(AGENT, "p")])
    only = row(grants, action="iam:CreatePolicyVersion")
    assert only["is_conditional"] is True and json.loads(only["condition"]) == MFA


def test_deny_not_action_removes_everything_else():
    grants = grants_for(
        {"p": policy(statement(actions=["s3:GetObject", "iam:PassRole", "sts:GetCallerIdentity"]),
                     statement(effect="Deny", not_actions=["s3:*", "sts:*"]))},
        [attachment(AGENT, "p")],
    )
    assert allowed(grants) == {"s3:GetObject", "sts:GetCallerIdentity"}


def test_not_resource_grant_rows_and_denies():
    not_secret = statement(actions="s3:GetObject", not_resources=[SECRETS, "arn:aws:s3:::data/hr/*"])
    cases = {
        "deny-star": statement(effect="Deny", actions="s3:GetObject"),
        "deny-inside-exclusion": statement(effect="Deny", actions="s3:GetObject",
                                           resources="arn:aws:s3:::data/secret/k/*"),
        "deny-elsewhere": statement(effect="Deny", actions="s3:GetObject", resources=LOGS),
    }
    results = {
        name: grants_for({"p": policy(not_secret, deny)}, [attachment(AGENT, "p")]) for name, deny in cases.items()
    }
    assert allowed(results["deny-star"]) == set()
    kept = results["deny-inside-exclusion"].filter(pl.col("effect") == "Allow")
    columns = ["resource_pattern", "is_not_resource", "is_partially_denied"]
    assert kept.select(columns).sort("resource_pattern").rows() == [
        ("arn:aws:s3:::data/hr/*", True, False),
        (SECRETS, True, False),
    ]
    partly = results["deny-elsewhere"].filter(pl.col("effect") == "Allow")
    assert partly["is_partially_denied"].to_list() == [True, True]


def test_deny_in_one_policy_applies_to_grants_of_another():
    grants = grants_for(
        {"admin": policy(statement(actions="iam:*")), "guard": policy(statement(effect="Deny", actions="iam:Delete*"))},
        [attachment(AGENT, "admin"), attachment(AGENT, "guard", "inline"), attachment(OTHER, "admin")],
    )
    iam = expand_action_patterns("iam:*").actions
    assert allowed(grants) == iam - expand_action_patterns("iam:Delete*").actions
    assert allowed(grants, OTHER) == iam


# --- permission boundaries -------------------------------------------------


def test_boundary_intersects_actions_and_keeps_the_narrower_resource():
    grants = grants_for(
        {"wide": policy(statement(actions=["s3:*", "iam:*"])),
         "boundary": policy(statement(actions=["s3:Get*", "s3:List*"], resources=DATA))},
        [attachment(AGENT, "wide"), attachment(AGENT, "boundary", "boundary")],
    )
    expected = expand_action_patterns(["s3:Get*", "s3:List*"]).actions
    assert allowed_on(grants) == {(a, DATA) for a in expected}
    assert set(grants["boundary_policy_id"]) == {"boundary"}
    assert set(grants["policy_id"]) == {"wide"} and set(grants["via"]) == {"managed"}


def test_boundary_wider_than_the_grant_keeps_the_grant_pattern():
    grants = grants_for(
        {"narrow": policy(statement(actions="s3:GetObject", resources=SECRETS)),
         "boundary": policy(statement(actions="s3:*"))},
        [attachment(AGENT, "narrow"), attachment(AGENT, "boundary", "boundary")],
    )
    only = row(grants, action="s3:GetObject")
    assert (only["resource_pattern"], only["is_boundary_limited"]) == (SECRETS, False)


def test_boundary_overlapping_the_grant_keeps_the_pattern_and_marks_it():
    grants = grants_for(
        {"p": policy(statement(actions="s3:GetObject", resources=DATA)),
         "boundary": policy(statement(actions="s3:GetObject", resources="arn:aws:s3:::*/reports/*"))},
        [attachment(AGENT, "p"), attachment(AGENT, "boundary", "boundary")],
    )
    only = row(grants, action="s3:GetObject")
    assert (only["resource_pattern"], only["is_boundary_limited"]) == (DATA, True)


def test_boundary_disjoint_from_the_grant_removes_it():
    grants = grants_for(
        {"p": policy(statement(actions="s3:GetObject", resources=DATA)),
         "boundary": policy(statement(actions="s3:GetObject", resources=LOGS))},
        [attachment(AGENT, "p"), attachment(AGENT, "boundary", "boundary")],
    )
    assert grants.height == 0


def test_boundary_denies_apply():
    grants = grants_for(
        {"p": policy(statement(actions=["iam:PassRole", "s3:GetObject"])),
         "boundary": policy(statement(actions="*"), statement(effect="Deny", actions="iam:*"))},
        [attachment(AGENT, "p"), attachment(AGENT, "boundary", "boundary")],
    )
    assert allowed(grants) == {"s3:GetObject"}


def test_conditional_boundary_makes_the_grant_conditional():
    grants = grants_for(
        {"p": policy(statement(actions="s3:GetObject")),
         "boundary": policy(statement(actions="s3:*", condition=MFA))},
        [attachment(AGENT, "p"), attachment(AGENT, "boundary", "boundary")],
    )
    only = row(grants, action="s3:GetObject")
    assert only["is_conditional"] is True and only["condition"] is None
    assert json.loads(only["boundary_condition"]) == MFA


def test_identity_without_boundary_is_not_intersected():
    grants = grants_for(
        {"p": policy(statement(actions=["s3:GetObject", "iam:PassRole"])),
         "boundary": policy(statement(actions="s3:*"))},
        [attachment(AGENT, "p"), attachment(AGENT, "boundary", "boundary"), attachment(OTHER, "p")],
    )
    assert allowed(grants) == {"s3:GetObject"}
    assert allowed(grants, OTHER) == {"s3:GetObject", "iam:PassRole"}


def test_boundary_whose_document_is_missing_is_ignored():
    grants = grants_for({"p": policy(statement(actions="iam:PassRole"))},
                        [attachment(AGENT, "p"), attachment(AGENT, "not-exported", "boundary")])
    assert allowed(grants) == {"iam:PassRole"}


def test_boundary_alone_grants_nothing():
    grants = grants_for({"boundary": policy(statement(actions="*"))}, [attachment(AGENT, "boundary", "boundary")])
    assert grants.height == 0


# --- groups ----------------------------------------------------------------

USER = "arn:aws:iam::111122223333:user/ci-agent"
GROUP = "arn:aws:iam::111122223333:group/deployers"


def test_group_policies_are_inherited_with_their_via_and_denies_apply():
    attachments = with_group_policies(
        attachments_frame([attachment(USER, "own"), attachment(GROUP, "group-read"), attachment(GROUP, "group-guard",
                                                                                                  "inline")]),
        pl.DataFrame({"identity_id": [USER], "group_id": [GROUP]}),
    )
    assert sorted(attachments.filter(pl.col("identity_id") == USER).rows()) == [
        (USER, "group-guard", f"group:{GROUP}"), (USER, "group-read", f"group:{GROUP}"), (USER, "own", "managed"),
    ]
    documents = {
        "own": policy(statement(actions=["lambda:CreateFunction", "iam:PassRole"])),
        "group-read": policy(statement(actions="s3:GetObject", resources=DATA)),
        "group-guard": policy(statement(effect="Deny", actions="iam:PassRole")),
    }
    grants = resolve_grants(expand_policies(policies_frame(documents)), attachments)
    assert allowed(grants, USER) == {"lambda:CreateFunction", "s3:GetObject"}
    assert row(grants, action="s3:GetObject", identity=USER)["via"] == f"group:{GROUP}"
    assert allowed(grants, GROUP) == {"s3:GetObject"}
