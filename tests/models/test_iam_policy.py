"""Policy parsing and expansion of Action / NotAction against the catalog."""

from __future__ import annotations

import json
from urllib.parse import quote

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.iam.catalog import catalog_actions, catalog_frame, lookup
from models.iam.patterns import action_matches
from models.iam.policy import (
    EXPANDED_SCHEMA,
    INVALID_POLICIES_SCHEMA,
    UNKNOWN_ACTIONS_SCHEMA,
    PolicyParseError,
    Statement,
    UnmatchedPattern,
    expand_action_patterns,
    expand_policies,
    invalid_policies,
    parse_policy_document,
    unknown_actions,
)

# --- factories -------------------------------------------------------------


def statement(
    *,
    effect: str = "Allow",
    actions: str | list[str] | None = None,
    not_actions: str | list[str] | None = None,
    resources: str | list[str] | None = "*",
    not_resources: str | list[str] | None = None,
    condition: dict | None = None,
    sid: str | None = None,
) -> dict:
    """One policy statement as IAM JSON; only the elements given are present."""
    raw: dict = {"Effect": effect}
    if sid is not None:
        raw["Sid"] = sid
    if actions is not None:
        raw["Action"] = actions
    if not_actions is not None:
        raw["NotAction"] = not_actions
    if not_resources is not None:
        raw["NotResource"] = not_resources
    elif resources is not None:
        raw["Resource"] = resources
    if condition is not None:
        raw["Condition"] = condition
    return raw


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def policies_frame(documents: dict[str, dict | str]) -> pl.DataFrame:
    """``policy_id, document`` rows; dict documents are serialised as JSON."""
    return pl.DataFrame(
        {
            "policy_id": list(documents),
            "document": [d if isinstance(d, str) else json.dumps(d) for d in documents.values()],
        },
        schema={"policy_id": pl.String, "document": pl.String},
    )


def catalog_set() -> set[str]:
    return {a.action for a in catalog_actions().values()}


# --- parsing ---------------------------------------------------------------


def test_parse_single_statement_object_with_string_elements():
    document = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
    assert parse_policy_document(document) == (
        Statement(index=0, sid=None, effect="Allow", actions=("s3:GetObject",), is_not_action=False,
                  resources=("*",), is_not_resource=False, condition=None),
    )


def test_parse_json_text_url_encoded_text_and_dict_alike():
    document = policy(statement(actions=["iam:PassRole"], resources="arn:aws:iam::111122223333:role/agent", sid="Pass",
                                condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}))
    as_dict = parse_policy_document(document)
    assert parse_policy_document(json.dumps(document)) == as_dict
    assert parse_policy_document(quote(json.dumps(document))) == as_dict
    (only,) = as_dict
    assert only.sid == "Pass"
    assert only.is_conditional
    assert json.loads(only.condition) == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_parse_keeps_not_elements_and_principals():
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "bedrock.amazonaws.com"]},
             "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:*"},
            {"Effect": "Allow", "Principal": "*", "NotAction": ["iam:*"], "NotResource": "arn:aws:s3:::secret/*"},
        ]
    }
    first, second, third = parse_policy_document(trust)
    assert first.principals == (("Service", "lambda.amazonaws.com"), ("Service", "bedrock.amazonaws.com"))
    assert first.resources == () and not first.is_not_principal
    assert second.is_not_principal and second.principals == (("AWS", "arn:aws:iam::111122223333:root"),)
    assert third.principals == (("*", "*"),)
    assert third.is_not_action and third.actions == ("iam:*",)
    assert third.is_not_resource and third.resources == ("arn:aws:s3:::secret/*",)


def test_empty_condition_is_not_conditional_and_effect_case_is_normalised():
    (only,) = parse_policy_document(policy(statement(effect="allow", actions="s3:GetObject", condition={})))
    assert only.effect == "Allow"
    assert not only.is_conditional


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[1, 2]",
        {"Version": "2012-10-17"},
        policy({"Effect": "Allow", "Resource": "*"}),
        policy({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}),
        policy({"Effect": "Permit", "Action": "s3:*", "Resource": "*"}),
        policy({"Effect": "Allow", "Action": ["s3:*", 7], "Resource": "*"}),
        policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": "yes"}),
    ],
)
def test_parse_rejects_what_iam_would_reject(document):
    with pytest.raises(PolicyParseError):
        parse_policy_document(document)


# --- action expansion ------------------------------------------------------


def test_mid_pattern_wildcard():
    expanded = expand_action_patterns("s3:Get*Tagging")
    assert {"s3:GetObjectTagging", "s3:GetBucketTagging", "s3:GetObjectVersionTagging"} <= expanded.actions
    assert all(a.startswith("s3:Get") and a.endswith("Tagging") for a in expanded.actions)
    assert "s3:GetObject" not in expanded.actions
    assert expanded.unmatched == ()


def test_question_mark_matches_exactly_one_character():
    assert expand_action_patterns("iam:?etUser").actions == {"iam:GetUser"}
    assert expand_action_patterns("iam:GetUse?").actions == {"iam:GetUser"}
    assert expand_action_patterns("iam:GetUser?").actions == set()


def test_case_insensitive_and_catalog_spelling():
    assert expand_action_patterns(["S3:GETOBJECT", "iam:passrole"]).actions == {"s3:GetObject", "iam:PassRole"}


def test_wildcard_service_prefix():
    expanded = expand_action_patterns("*:GetCallerIdentity")
    assert expanded.actions == {a.action for a in catalog_actions().values() if a.action.endswith(":GetCallerIdentity")}
    assert "sts:GetCallerIdentity" in expanded.actions


def test_star_is_the_whole_catalog():
    assert expand_action_patterns("*").actions == catalog_set()


def test_unknown_service_and_unmatched_patterns_are_reported():
    expanded = expand_action_patterns(["s3:GetObject", "foo:Bar", "s3:NoSuchAction", "s3", "foo:Bar"])
    assert expanded.actions == {"s3:GetObject"}
    assert expanded.unmatched == (
        UnmatchedPattern("foo:Bar", "unknown_service"),
        UnmatchedPattern("s3:NoSuchAction", "no_matching_action"),
        UnmatchedPattern("s3", "malformed"),
    )


def test_not_action_is_the_catalog_minus_the_patterns():
    expanded = expand_action_patterns(["iam:*", "sts:AssumeRole"], is_not_action=True)
    iam = {a.action for a in catalog_actions().values() if a.service == "iam"}
    assert expanded.actions == catalog_set() - iam - {"sts:AssumeRole"}
    assert "sts:GetCallerIdentity" in expanded.actions


_action_names = st.sampled_from(sorted(catalog_set()))


@st.composite
def action_patterns(draw) -> str:
    """A pattern made from a real action: parts replaced by ``*`` / ``?``, case changed."""
    action = draw(_action_names)
    start = draw(st.integers(0, len(action)))
    end = draw(st.integers(start, len(action)))
    wildcard = draw(st.sampled_from(["*", "?" * (end - start), "", "*?"]))
    pattern = action[:start] + wildcard + action[end:]
    return draw(st.sampled_from([pattern, pattern.upper(), pattern.lower()]))


@settings(max_examples=150, deadline=None)
@given(patterns=st.lists(action_patterns(), min_size=1, max_size=4))
def test_not_action_equals_catalog_minus_action(patterns):
    allowed = expand_action_patterns(patterns).actions
    assert expand_action_patterns(patterns, is_not_action=True).actions == catalog_set() - allowed


@settings(max_examples=60, deadline=None)
@given(pattern=action_patterns())
def test_expansion_agrees_with_action_matches(pattern):
    """The fast (per-service, joined haystack) expansion equals matching every action one by one."""
    brute_force = {a for a in catalog_set() if action_matches(pattern, a)}
    assert expand_action_patterns(pattern).actions == brute_force


# --- policies as tables ----------------------------------------------------


def test_expand_policies_rows_exactly():
    documents = {
        "rw": {"Statement": {"Sid": "rw", "Effect": "Allow", "Action": ["s3:getobject", "S3:PutObject"],
                             "Resource": ["arn:aws:s3:::data/*", "arn:aws:s3:::logs/*"]}},
        "deny-secret": policy(statement(effect="Deny", actions="s3:GetObject",
                                        not_resources="arn:aws:s3:::data/public/*",
                                        condition={"Bool": {"aws:SecureTransport": "false"}})),
    }
    expanded = expand_policies(policies_frame(documents))
    assert expanded.schema == pl.Schema(EXPANDED_SCHEMA)
    condition = '{"Bool":{"aws:SecureTransport":"false"}}'
    assert expanded.rows() == [
        ("deny-secret", 0, None, "Deny", "s3:GetObject", "s3", "Read", "arn:aws:s3:::data/public/*", True, True,
         condition),
        ("rw", 0, "rw", "Allow", "s3:GetObject", "s3", "Read", "arn:aws:s3:::data/*", False, False, None),
        ("rw", 0, "rw", "Allow", "s3:GetObject", "s3", "Read", "arn:aws:s3:::logs/*", False, False, None),
        ("rw", 0, "rw", "Allow", "s3:PutObject", "s3", "Write", "arn:aws:s3:::data/*", False, False, None),
        ("rw", 0, "rw", "Allow", "s3:PutObject", "s3", "Write", "arn:aws:s3:::logs/*", False, False, None),
    ]


def test_expand_policies_orders_rows_by_policy_statement_action_and_resource_whatever_the_document_order():
    documents = {
        "zeta": policy(statement(actions="sqs:SendMessage", resources="arn:aws:sqs:us-east-1:111111111111:q")),
        "alpha": {"Statement": [
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:getobject"],
             "Resource": ["arn:aws:s3:::logs/*", "arn:aws:s3:::data/*"]},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::logs"},
        ]},
    }
    expanded = expand_policies(policies_frame(documents))
    assert expanded.select("policy_id", "statement_index", "action", "resource_pattern").rows() == [
        ("alpha", 0, "s3:GetObject", "arn:aws:s3:::data/*"),
        ("alpha", 0, "s3:GetObject", "arn:aws:s3:::logs/*"),
        ("alpha", 0, "s3:PutObject", "arn:aws:s3:::data/*"),
        ("alpha", 0, "s3:PutObject", "arn:aws:s3:::logs/*"),
        ("alpha", 1, "s3:ListBucket", "arn:aws:s3:::logs"),
        ("zeta", 0, "sqs:SendMessage", "arn:aws:sqs:us-east-1:111111111111:q"),
    ]


def test_expand_policies_expands_a_policy_listed_twice_once():
    frame = policies_frame({"p": policy(statement(actions="iam:GetUser"))})
    expanded = expand_policies(pl.concat([frame, frame]))
    assert expanded.select("policy_id", "action").rows() == [("p", "iam:GetUser")]


def test_one_policy_id_with_two_documents_is_an_error():
    frame = pl.concat([policies_frame({"p": policy(statement(actions="iam:GetUser"))}),
                       policies_frame({"p": policy(statement(actions="iam:ListUsers"))})])
    with pytest.raises(ValueError, match="more than one document"):
        expand_policies(frame)


def test_not_action_statement_covers_the_rest_of_the_catalog():
    expanded = expand_policies(policies_frame({"p": policy(statement(not_actions=["iam:*"]))}))
    expected = set(catalog_frame().filter(pl.col("service") != "iam")["action"])
    assert set(expanded["action"]) == expected
    assert expanded.height == len(expected)


def test_invalid_policies_are_skipped_and_listed():
    documents = {
        "ok": policy(statement(actions="iam:GetUser")),
        "no-resource": policy(statement(actions="iam:GetUser", resources=None)),
        "garbage": "{not json",
    }
    frame = policies_frame(documents)
    assert set(expand_policies(frame)["policy_id"]) == {"ok"}
    invalid = invalid_policies(frame)
    assert invalid.schema == pl.Schema(INVALID_POLICIES_SCHEMA)
    assert sorted(invalid["policy_id"]) == ["garbage", "no-resource"]
    assert "neither Resource nor NotResource" in invalid.filter(pl.col("policy_id") == "no-resource")["error"][0]


def test_unknown_actions_per_policy_and_statement():
    documents = {
        "p": policy(statement(actions=["s3:GetObject", "gamesparks:ListGames"]),
                    statement(effect="Deny", not_actions=["iam:Get*", "iam:NoSuchThing"])),
        "clean": policy(statement(actions="s3:*")),
    }
    assert unknown_actions(policies_frame(documents)).rows() == [
        ("p", 0, "gamesparks:ListGames", False, "unknown_service"),
        ("p", 1, "iam:NoSuchThing", True, "no_matching_action"),
    ]
    assert unknown_actions(policies_frame({})).schema == pl.Schema(UNKNOWN_ACTIONS_SCHEMA)


def test_empty_input_gives_empty_typed_output():
    assert expand_policies(policies_frame({})).schema == pl.Schema(EXPANDED_SCHEMA)


def test_access_levels_come_from_the_catalog():
    expanded = expand_policies(policies_frame({"p": policy(statement(actions=["iam:PassRole", "iam:ListRoles"]))}))
    levels = dict(expanded.select("action", "access_level").iter_rows())
    assert levels == {a: lookup(a).access_level for a in ("iam:PassRole", "iam:ListRoles")}
