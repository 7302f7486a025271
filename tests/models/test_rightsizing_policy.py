"""Least-privilege policy proposals: content, resources, notes, determinism, diff and the replay check."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.iam.catalog import lookup
from models.iam.policy import expand_policies
from models.rightsizing.policy import PASSED_ROLES_SCHEMA, least_privilege_policy, propose_policies
from models.rightsizing.policy_diff import ScopeChange, ServiceRemoval, policy_diff, policy_diffs
from models.rightsizing.policy_replay import observed_calls, replay_all_denials, replay_denials
from models.rightsizing.policy_resources import (
    ARN_GENERALISATIONS,
    arn_applies_to_action,
    arn_resource_types,
    generalise_arns,
    scoped_resources,
)

ACCOUNT = "111122223333"
AGENT = f"arn:aws:iam::{ACCOUNT}:role/deploy-bot"
OTHER = f"arn:aws:iam::{ACCOUNT}:role/report-bot"
EXEC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-exec"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/admin-exec"
FUNCTIONS = f"arn:aws:lambda:*:{ACCOUNT}:function:*"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


USAGE_SCHEMA = {
    "identity_id": pl.String,
    "action": pl.String,
    "is_granted": pl.Boolean,
    "is_used": pl.Boolean,
    "is_used_inferred": pl.Boolean,
    "is_conditional": pl.Boolean,
    "resources_touched": pl.List(pl.String),
    "resource_patterns": pl.List(pl.String),
    "is_observable": pl.Boolean,
}


# --- factories -------------------------------------------------------------------


def usage(
    action: str,
    *,
    identity: str = AGENT,
    is_granted: bool = True,
    is_used: bool = False,
    touched: tuple[str, ...] = (),
    granted_on: tuple[str, ...] = ("*",),
    is_conditional: bool = False,
    is_observable: bool = True,
) -> dict:
    """One row of ``marts.identity_action_usage``."""
    return {
        "identity_id": identity,
        "action": action,
        "is_granted": is_granted,
        "is_used": is_used,
        "is_used_inferred": False,
        "is_conditional": is_conditional,
        "resources_touched": list(touched),
        "resource_patterns": list(granted_on) if is_granted else None,
        "is_observable": is_observable,
    }


def used(action: str, **kwargs) -> dict:
    return usage(action, is_used=True, **kwargs)


def usage_frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=USAGE_SCHEMA)


def passed_roles_frame(*pairs: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(list(pairs), schema=PASSED_ROLES_SCHEMA, orient="row")


def propose(*rows: dict, observed_days: int = 90, window_days: int = 90, **kwargs):
    return least_privilege_policy(usage_frame(*rows), observed_days=observed_days, window_days=window_days, **kwargs)


def calls_frame(*calls: tuple[str, str | None], identity: str = AGENT) -> pl.DataFrame:
    return pl.DataFrame(
        [(identity, action, resource) for action, resource in calls],
        schema={"identity_id": pl.String, "action": pl.String, "resource": pl.String},
        orient="row",
    )


def expanded_actions(document: dict) -> set[str]:
    """The actions our IAM semantics say a document allows."""
    expanded = expand_policies(pl.DataFrame({"policy_id": ["p"], "document": [json.dumps(document)]}))
    return set(expanded.filter(pl.col("effect") == "Allow")["action"])


def statement_for(document: dict, action: str) -> dict:
    (only,) = [s for s in document["Statement"] if action in s["Action"]]
    return only


def deploy_bot_usage() -> tuple[dict, ...]:
    """A deploy agent granted much, using little: create/invoke functions, read one bucket."""
    return (
        used("lambda:CreateFunction", touched=(EXEC_ROLE,), granted_on=(FUNCTIONS,)),
        used("lambda:InvokeFunction", touched=(function_arn("router"), function_arn("notifier")),
             granted_on=(FUNCTIONS,)),
        usage("lambda:DeleteFunction", granted_on=(FUNCTIONS,)),
        usage("iam:PassRole"),
        usage("iam:CreateRole"),
        used("s3:GetObject", touched=("arn:aws:s3:::artifacts", object_arn("artifacts", "a/1.zip"),
                                      object_arn("artifacts", "b/2.zip"))),
        usage("s3:PutObject"),
        used("cloudformation:DescribeStacks"),
        usage("cloudformation:ListStacks"),
        usage("dynamodb:Scan"),
    )


# --- what the policy allows ---------------------------------------------------------


def test_expanded_policy_grants_exactly_the_used_actions_plus_their_granted_dependencies():
    proposal = propose(*deploy_bot_usage())
    expected = {
        "lambda:CreateFunction", "lambda:InvokeFunction", "s3:GetObject", "cloudformation:DescribeStacks",
        "iam:PassRole",              # lambda:CreateFunction needs it
        "cloudformation:ListStacks",  # cloudformation:DescribeStacks needs it
    }
    assert expanded_actions(proposal.document) == expected
    assert proposal.actions == tuple(sorted(expected))


def test_dependencies_the_identity_is_not_granted_are_noted_not_added():
    proposal = propose(*deploy_bot_usage())
    granted = {"iam:PassRole", "cloudformation:ListStacks"}
    missing = set(lookup("lambda:CreateFunction").dependent_actions) - granted
    for action in missing:
        assert (f"{action} is listed by the catalog as needed by lambda:CreateFunction but is not granted today: "
                "not added") in proposal.notes
        assert action not in proposal.actions
    assert "iam:PassRole kept only because lambda:CreateFunction needs it (catalog dependency, not seen in the logs)" \
        in proposal.notes


def test_a_dependency_used_but_not_granted_is_not_added_either():
    proposal = propose(used("cloudformation:DescribeStacks"), used("cloudformation:ListStacks", is_granted=False))
    assert proposal.actions == ("cloudformation:DescribeStacks",)
    assert proposal.notes == (
        "cloudformation:ListStacks was used but is not granted by the identity's policies "
        "(something else allowed it, e.g. a resource policy): not added",
        "cloudformation:ListStacks is listed by the catalog as needed by cloudformation:DescribeStacks "
        "but is not granted today: not added",
    )


def test_document_shape_is_valid_grouped_by_service_and_sorted():
    proposal = propose(*deploy_bot_usage(), passed_roles=passed_roles_frame((AGENT, EXEC_ROLE)))
    assert proposal.document == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AllowCloudformation", "Effect": "Allow",
             "Action": ["cloudformation:DescribeStacks", "cloudformation:ListStacks"], "Resource": "*"},
            {"Sid": "AllowIam", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": EXEC_ROLE},
            {"Sid": "AllowLambda1of2", "Effect": "Allow", "Action": ["lambda:CreateFunction"], "Resource": FUNCTIONS},
            {"Sid": "AllowLambda2of2", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
             "Resource": [function_arn("notifier"), function_arn("router")]},
            {"Sid": "AllowS3", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::artifacts/*"},
        ],
    }


def test_actions_with_the_same_resources_share_a_statement():
    proposal = propose(
        used("dynamodb:GetItem", touched=(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/tickets",)),
        used("dynamodb:PutItem", touched=(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/tickets",)),
    )
    assert proposal.document["Statement"] == [
        {"Sid": "AllowDynamodb", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
         "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/tickets"},
    ]


# --- iam:PassRole -----------------------------------------------------------------------


def test_pass_role_is_narrowed_to_the_roles_passed():
    passed = passed_roles_frame((AGENT, EXEC_ROLE), (OTHER, OTHER_ROLE))
    proposal = propose(*deploy_bot_usage(), passed_roles=passed)
    assert statement_for(proposal.document, "iam:PassRole")["Resource"] == EXEC_ROLE


def test_pass_role_falls_back_to_the_role_seen_in_the_request_when_no_passed_roles_are_given():
    proposal = propose(*deploy_bot_usage())
    assert statement_for(proposal.document, "iam:PassRole")["Resource"] == EXEC_ROLE


def test_pass_role_keeps_its_grant_when_no_role_is_known():
    rows = [r for r in deploy_bot_usage() if r["action"] != "lambda:CreateFunction"]
    rows.append(used("lambda:CreateFunction", granted_on=(FUNCTIONS,)))
    assert statement_for(propose(*rows).document, "iam:PassRole")["Resource"] == "*"
    narrow = [r for r in rows if r["action"] != "iam:PassRole"] + [usage("iam:PassRole", granted_on=(EXEC_ROLE,))]
    assert statement_for(propose(*narrow).document, "iam:PassRole")["Resource"] == EXEC_ROLE


def test_an_empty_passed_roles_frame_means_no_role_is_known():
    proposal = propose(*deploy_bot_usage(), passed_roles=passed_roles_frame())
    assert statement_for(proposal.document, "iam:PassRole")["Resource"] == "*"


# --- resources ----------------------------------------------------------------------------


def test_s3_objects_of_one_bucket_become_the_bucket_objects_and_the_bucket_arn_is_ignored():
    scoping = scoped_resources(
        "s3:GetObject",
        ["arn:aws:s3:::data", object_arn("data", "x/1.csv"), object_arn("data", "y/2.csv"),
         object_arn("reports", "kpi.csv")],
        ["*"],
    )
    assert scoping.resources == ("arn:aws:s3:::data/*", "arn:aws:s3:::reports/kpi.csv")
    assert scoping.basis == "observed"


def test_action_without_resource_level_support_gets_star():
    proposal = propose(used("ec2:DescribeInstances", granted_on=("*",)),
                       used("cloudwatch:GetMetricData", touched=(f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/x",)))
    assert proposal.document["Statement"] == [
        {"Sid": "AllowCloudwatch", "Effect": "Allow", "Action": ["cloudwatch:GetMetricData"], "Resource": "*"},
        {"Sid": "AllowEc2", "Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"},
    ]
    assert scoped_resources("ec2:DescribeInstances", [], ["*"]).basis == "not_scopable"


def test_without_observed_arns_the_grant_patterns_are_kept_never_star():
    model = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"
    scoping = scoped_resources("bedrock:InvokeModel", [], [model])
    assert (scoping.resources, scoping.basis) == ((model,), "granted")
    assert scoped_resources("bedrock:InvokeModel", [], ["*"]).basis == "granted"
    assert scoped_resources("bedrock:InvokeModel", [], []).resources == ("*",)
    assert scoped_resources("bedrock:InvokeModel", [], None).basis == "unscoped"


def test_generalisation_never_widens_past_the_grant():
    scoping = scoped_resources(
        "s3:GetObject",
        [object_arn("data", "reports/a.csv"), object_arn("data", "reports/b.csv"), object_arn("data", "raw/c.csv")],
        ["arn:aws:s3:::data/reports/*", "arn:aws:s3:::other/*"],
    )
    assert scoping.resources == ("arn:aws:s3:::data/reports/*",)
    assert scoping.outside_grant == ("arn:aws:s3:::data/raw/c.csv",)


def test_observed_resources_outside_the_grant_are_noted():
    proposal = propose(used("s3:GetObject", touched=(object_arn("data", "a"), object_arn("shared", "b")),
                            granted_on=("arn:aws:s3:::data/*",)))
    assert statement_for(proposal.document, "s3:GetObject")["Resource"] == "arn:aws:s3:::data/a"
    assert proposal.notes == (
        "s3:GetObject was used on arn:aws:s3:::shared/b, outside the granted resources "
        "(allowed by something else): not added",
    )


def test_generated_ids_become_a_wildcard_and_a_pattern_covered_by_another_is_dropped():
    cert = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0e4e280b-7fb2-4194-9eed-f20fb1d47ff4"
    assert scoped_resources("acm:DescribeCertificate", [cert], ["*"]).resources == (
        f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/*",
    )
    objects = [object_arn("data", "a"), object_arn("data", "b"), object_arn("data", "a")]
    assert scoped_resources("s3:GetObject", objects, ["arn:aws:s3:::data/a", "arn:aws:s3:::data/*"]).resources == (
        "arn:aws:s3:::data/*",
    )


GENERALISATION_EXAMPLES = {
    "s3_objects_of_bucket": (
        [object_arn("b", "k/1"), object_arn("b", "k/2")],
        {"arn:aws:s3:::b/*": (object_arn("b", "k/1"), object_arn("b", "k/2"))},
    ),
    "log_streams_of_group": (
        [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/x:log-stream:2026/11/01/a",
         f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/x:log-stream:2026/11/02/b"],
        {f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/x:log-stream:*": (
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/x:log-stream:2026/11/01/a",
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/x:log-stream:2026/11/02/b")},
    ),
    "generated_id": (
        [f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/d23e0481-9755-4d07-a54b-46a9d242509f"],
        {f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/*": (
            f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/d23e0481-9755-4d07-a54b-46a9d242509f",)},
    ),
}


def test_every_generalisation_rule_has_an_example_that_fires():
    assert set(GENERALISATION_EXAMPLES) == {rule.code for rule in ARN_GENERALISATIONS}
    for arns, expected in GENERALISATION_EXAMPLES.values():
        assert generalise_arns(arns) == expected


def test_below_its_threshold_a_rule_keeps_the_arns():
    assert generalise_arns([object_arn("b", "only"), function_arn("f")]) == {
        function_arn("f"): (function_arn("f"),),
        object_arn("b", "only"): (object_arn("b", "only"),),
    }


@pytest.mark.parametrize(
    ("arn", "action", "applies"),
    [
        ("arn:aws:s3:::data", "s3:ListBucket", True),
        ("arn:aws:s3:::data/prefix/", "s3:ListBucket", False),
        ("arn:aws:s3:::data", "s3:GetObject", False),
        (object_arn("data", "a/b.csv"), "s3:GetObject", True),
        (EXEC_ROLE, "lambda:CreateFunction", False),
        (EXEC_ROLE, "iam:PassRole", True),
        (f"arn:aws:iam::{ACCOUNT}:user/alice", "iam:PassRole", False),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t/index/i", "dynamodb:Query", True),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t/index/i", "dynamodb:GetItem", False),
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/x:log-stream:s", "logs:PutLogEvents", True),
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/x", "logs:PutLogEvents", False),
        ("not an arn", "s3:GetObject", False),
        ("*", "s3:GetObject", False),
    ],
)
def test_an_arn_applies_to_an_action_only_when_it_is_of_one_of_its_resource_types(arn, action, applies):
    assert arn_applies_to_action(arn, action) is applies


def test_the_most_specific_arn_format_wins():
    assert arn_resource_types("s3", "arn:aws:s3:::data/key") == frozenset({"object"})
    assert arn_resource_types("s3", "arn:aws:s3:::data") == frozenset({"bucket"})
    assert arn_resource_types("dynamodb", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t/index/i") == frozenset(
        {"index"})
    assert arn_resource_types("no-such-service", "arn:aws:x:::y") == frozenset()


# --- notes -----------------------------------------------------------------------------------


def test_short_observation_warns_that_the_policy_may_be_too_tight():
    proposal = propose(used("s3:GetObject"), observed_days=12, window_days=90)
    assert proposal.is_tight_warning is True
    assert proposal.notes == ("observed 12 of 90 days: the policy may be too tight",)
    full = propose(used("s3:GetObject"), observed_days=90, window_days=90)
    assert (full.is_tight_warning, full.notes) == (False, ())
    assert propose(used("s3:GetObject"), observed_days=None, window_days=90).notes == (
        "observed 0 of 90 days: the policy may be too tight",
    )


def test_used_but_not_granted_action_is_noted_not_silently_added():
    proposal = propose(used("s3:GetObject"), used("kms:Decrypt", is_granted=False))
    assert proposal.actions == ("s3:GetObject",)
    assert "kms:Decrypt" not in expanded_actions(proposal.document)
    assert proposal.notes == (
        "kms:Decrypt was used but is not granted by the identity's policies "
        "(something else allowed it, e.g. a resource policy): not added",
    )


def test_conditional_grants_are_flagged_because_conditions_are_not_carried_over():
    proposal = propose(used("s3:GetObject", is_conditional=True))
    assert proposal.notes == (
        "s3:GetObject is granted under a Condition today; the proposal does not carry conditions over: re-add it",
    )


def test_unlogged_actions_of_a_used_service_are_kept_with_a_note():
    rows = (
        used("logs:CreateLogStream"),
        usage("logs:PutLogEvents", is_observable=False),
        usage("logs:DeleteLogGroup"),
        usage("s3:BypassGovernanceRetention", is_observable=False),  # permission-only: shows through its call
        used("s3:GetObject"),
        usage("sagemaker:InvokeEndpoint", is_observable=False),      # service not used
    )
    proposal = propose(*rows)
    assert proposal.actions == ("logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject")
    assert proposal.notes == (
        "logs:PutLogEvents kept although not seen: CloudTrail does not show these calls, so the logs are no "
        "evidence of non-use, and the identity uses logs; review",
    )
    strict = propose(*rows, keep_unobservable=False)
    assert strict.actions == ("logs:CreateLogStream", "s3:GetObject")


def test_an_identity_that_used_nothing_gets_an_empty_document_and_says_why():
    proposal = propose(usage("s3:GetObject"), used("kms:Decrypt", is_granted=False))
    assert proposal.document == {"Version": "2012-10-17", "Statement": []}
    assert proposal.has_statements is False
    assert proposal.notes[-1] == (
        "no granted action was used in the window: the document has no statements (IAM rejects it); "
        "detach the policies or retire the identity instead"
    )


def test_rows_of_two_identities_are_refused():
    with pytest.raises(ValueError, match="one identity"):
        propose(used("s3:GetObject"), used("s3:GetObject", identity=OTHER))


# --- determinism and serialisation -------------------------------------------------------------


def test_same_input_in_any_order_gives_the_same_json():
    rows = deploy_bot_usage()
    first = propose(*rows)
    shuffled = propose(*reversed(rows))
    assert first.to_json() == shuffled.to_json()
    assert first.document_json() == shuffled.document_json()
    assert first == shuffled


def test_json_forms():
    proposal = propose(used("s3:GetObject", touched=(object_arn("data", "a"),)), observed_days=30)
    assert json.loads(proposal.to_json()) == {
        "identity_id": AGENT,
        "is_tight_warning": True,
        "actions": ["s3:GetObject"],
        "notes": ["observed 30 of 90 days: the policy may be too tight"],
        "document": proposal.document,
    }
    assert json.loads(proposal.document_json()) == proposal.document
    assert proposal.document_json().endswith("}\n")


def test_propose_policies_covers_every_granted_identity_of_privilege():
    frame = usage_frame(
        *deploy_bot_usage(),
        used("athena:StartQueryExecution", identity=OTHER),
        usage("athena:DeleteWorkGroup", identity=OTHER),
        used("sts:AssumeRole", identity="aws-service:lambda.amazonaws.com", is_granted=False),
    )
    privilege = pl.DataFrame({
        "identity_id": [OTHER, AGENT, "openai:key/x"],
        "observed_days": [40, 90, 0],
        "window_days": [90, 90, 90],
    })
    proposals = propose_policies(frame, passed_roles_frame((AGENT, EXEC_ROLE)), privilege)
    assert list(proposals) == [AGENT, OTHER]
    assert proposals[OTHER].actions == ("athena:StartQueryExecution",)
    assert proposals[OTHER].is_tight_warning is True
    one_by_one = least_privilege_policy(
        frame.filter(pl.col("identity_id") == AGENT), passed_roles=passed_roles_frame((AGENT, EXEC_ROLE)),
        observed_days=90, window_days=90,
    )
    assert proposals[AGENT] == one_by_one


def test_propose_policies_gives_an_identity_granted_but_unused_an_empty_policy():
    frame = usage_frame(usage("s3:GetObject", identity=OTHER), used("s3:GetObject"))
    privilege = pl.DataFrame({"identity_id": [AGENT, OTHER], "observed_days": [90, 90], "window_days": [90, 90]})
    proposals = propose_policies(frame, None, privilege)
    assert proposals[OTHER].identity_id == OTHER
    assert proposals[OTHER].actions == ()


# --- diff ---------------------------------------------------------------------------------------------


def test_policy_diff_counts_removals_by_service_and_access_level_and_lists_narrowed_scopes():
    rows = deploy_bot_usage()
    proposal = propose(*rows, passed_roles=passed_roles_frame((AGENT, EXEC_ROLE)))
    diff = policy_diff(usage_frame(*rows, used("kms:Decrypt", is_granted=False)), proposal)
    assert (diff.granted_actions, diff.proposed_actions, diff.removed_actions) == (10, 6, 4)
    assert diff.removed_by_service == (
        ServiceRemoval("dynamodb", 1, (("Read", 1),), True),
        ServiceRemoval("iam", 1, (("Permissions management", 1),), False),
        ServiceRemoval("lambda", 1, (("Write", 1),), False),
        ServiceRemoval("s3", 1, (("Write", 1),), False),
    )
    assert diff.kept_actions == (
        "cloudformation:DescribeStacks", "cloudformation:ListStacks", "iam:PassRole",
        "lambda:CreateFunction", "lambda:InvokeFunction", "s3:GetObject",
    )
    assert diff.narrowed_scopes == (
        ScopeChange("iam:PassRole", ("*",), (EXEC_ROLE,)),
        ScopeChange("lambda:InvokeFunction", (FUNCTIONS,), (function_arn("notifier"), function_arn("router"))),
        ScopeChange("s3:GetObject", ("*",), ("arn:aws:s3:::artifacts/*",)),
    )
    as_json = json.loads(json.dumps(diff.to_dict()))
    assert as_json["removed_by_service"][1] == {
        "service": "iam", "removed_actions": 1,
        "removed_by_access_level": {"Permissions management": 1}, "is_whole_service": False,
    }


def test_policy_diffs_compares_each_identity_with_its_own_proposal():
    rows = deploy_bot_usage()
    other_rows = (used("s3:GetObject", identity=OTHER), usage("s3:PutObject", identity=OTHER))
    proposals = {AGENT: propose(*rows, passed_roles=passed_roles_frame((AGENT, EXEC_ROLE))),
                 OTHER: propose(*other_rows)}
    diffs = policy_diffs(usage_frame(*rows, *other_rows), proposals)
    agent = diffs[AGENT]
    # the agent's figures as in the single-identity test above, the other identity's rows beside them
    assert (agent.granted_actions, agent.proposed_actions, agent.removed_actions) == (10, 6, 4)
    assert [(r.service, r.removed_actions) for r in agent.removed_by_service] == [
        ("dynamodb", 1), ("iam", 1), ("lambda", 1), ("s3", 1)]
    assert len(agent.narrowed_scopes) == 3
    assert agent == policy_diff(usage_frame(*rows), proposals[AGENT])
    assert (diffs[OTHER].granted_actions, diffs[OTHER].removed_actions, diffs[OTHER].kept_actions) == (
        2, 1, ("s3:GetObject",))
    assert diffs[OTHER].removed_by_service == (ServiceRemoval("s3", 1, (("Write", 1),), False),)


# --- replay --------------------------------------------------------------------------------------------


def test_replay_finds_no_denial_for_the_policy_on_its_own_usage():
    rows = deploy_bot_usage()
    proposal = propose(*rows)
    calls = observed_calls(usage_frame(*rows))
    assert calls.height == 7  # every (action, resource) seen, a null resource for actions seen without one
    assert replay_denials(proposal.document, calls).height == 0


def test_replay_reports_a_call_outside_the_proposed_resources_or_actions():
    proposal = propose(*deploy_bot_usage())
    calls = calls_frame(
        ("lambda:InvokeFunction", function_arn("router")),
        ("lambda:InvokeFunction", function_arn("billing")),   # another function: outside
        ("s3:GetObject", object_arn("artifacts", "c/3.zip")),  # same bucket: inside bucket/*
        ("s3:GetObject", "arn:aws:s3:::artifacts"),           # the bucket beside the object: action-only check
        ("lambda:CreateFunction", EXEC_ROLE),                  # a role is not a function: action-only check
        ("dynamodb:Scan", None),                               # granted today, removed
    )
    denied = replay_denials(proposal.document, calls)
    assert denied.rows() == [
        (AGENT, "lambda:InvokeFunction", function_arn("billing"), "resource_not_allowed", function_arn("billing")),
        (AGENT, "dynamodb:Scan", None, "action_not_allowed", None),
    ]


def test_replay_honours_deny_and_not_resource():
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/private/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/tagged/*",
             "Condition": {"StringEquals": {"aws:ResourceTag/x": "y"}}},
        ],
    }
    calls = calls_frame(
        ("s3:GetObject", object_arn("data", "public/a")),
        ("s3:GetObject", object_arn("data", "private/b")),
        ("s3:GetObject", object_arn("data", "tagged/c")),
        ("s3:GetObject", object_arn("secret", "d")),
        ("S3:GETOBJECT", None),
    )
    denied = replay_denials(document, calls)
    assert denied.select("resource", "denial_reason").rows() == [
        (object_arn("data", "private/b"), "explicit_deny"),
        (object_arn("secret", "d"), "resource_not_allowed"),
    ]


def test_replay_all_denials_checks_each_identity_against_its_own_proposal():
    frame = usage_frame(used("s3:GetObject"), used("athena:StartQueryExecution", identity=OTHER))
    proposals = {AGENT: propose(used("s3:GetObject"))}
    calls = pl.concat([calls_frame(("athena:StartQueryExecution", None)),
                       calls_frame(("athena:StartQueryExecution", None), identity=OTHER)])
    denied = replay_all_denials(proposals, calls)
    assert denied.select("identity_id", "action", "denial_reason").rows() == [
        (AGENT, "athena:StartQueryExecution", "action_not_allowed"),
    ]
    assert replay_all_denials(proposals, observed_calls(frame).filter(pl.col("identity_id") == AGENT)).height == 0


def test_replay_all_denials_reports_each_identity_of_a_shared_proposal():
    # one document for both: expanded once, its denials still named by each identity, by identity id
    proposals = {OTHER: propose(used("s3:GetObject", identity=OTHER)), AGENT: propose(used("s3:GetObject"))}
    calls = pl.concat([calls_frame(("s3:PutObject", None), identity=OTHER),
                       calls_frame(("s3:GetObject", None), ("dynamodb:Scan", None))])
    denied = replay_all_denials(proposals, calls)
    assert denied.select("identity_id", "action", "denial_reason").rows() == [
        (AGENT, "dynamodb:Scan", "action_not_allowed"),
        (OTHER, "s3:PutObject", "action_not_allowed"),
    ]


# --- the sample organisation ------------------------------------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SAMPLE_AS_OF = "2026-11-27"
PROD = f"arn:aws:iam::{ACCOUNT}"

# Every successful call in the window, one row per (event, action, resource): the replay input built from
# events rather than from the usage mart.
SAMPLE_CALLS = """
WITH calls AS (
    SELECT
        e.identity_id,
        unnest(list_prepend(m.action, coalesce(m.additional_actions, []))) AS action,
        list_distinct(list_concat(
            e.resources,
            regexp_extract_all(coalesce(e.request_parameters::VARCHAR, ''), '"(arn:aws[a-zA-Z-]*:[^"]+)"', 1)
        )) AS resources
    FROM core.access_events AS e
    JOIN core.event_actions AS m
      ON m.event_source = e.event_source AND m.event_name = e.event_name
     AND m.event_type IS NOT DISTINCT FROM e.event_type
    WHERE e.is_success AND m.action IS NOT NULL AND e.identity_id IS NOT NULL
      AND e.event_time >= (DATE '2026-11-27' - 89)::TIMESTAMPTZ AND e.event_time < (DATE '2026-11-28')::TIMESTAMPTZ
)
SELECT identity_id, action, unnest(CASE WHEN len(resources) = 0 THEN [NULL] ELSE resources END) AS resource
FROM calls
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from pipelines.cli import main

    target = tmp_path_factory.mktemp("rightsizing") / "warehouse"
    assert main(["run", str(SAMPLE), "--warehouse", str(target), "--as-of", SAMPLE_AS_OF]) == 0
    with duckdb.connect(str(target / "overreach.duckdb"), read_only=True) as con:
        action_usage = con.sql("SELECT * FROM marts.identity_action_usage").pl()
        privilege = con.sql("SELECT * FROM marts.identity_privilege").pl()
        calls = con.sql(SAMPLE_CALLS).pl()
    return {
        "usage": action_usage,
        "privilege": privilege,
        "calls": calls,
        "proposals": propose_policies(action_usage, None, privilege),
    }


def _used_actions(sample: dict, identity_id: str) -> set[str]:
    rows = sample["usage"].filter((pl.col("identity_id") == identity_id) & pl.col("is_used"))
    return set(rows["action"])


def test_sample_support_agent_keeps_every_action_it_used(sample):
    support = f"{PROD}:role/support-agent"
    proposal = sample["proposals"][support]
    used_actions = _used_actions(sample, support)
    assert used_actions and used_actions <= set(proposal.actions)
    assert used_actions <= expanded_actions(proposal.document)


def test_sample_data_analysis_agent_proposal_is_far_smaller_than_its_grant(sample):
    agent = f"{PROD}:role/data-analysis-agent"
    proposal = sample["proposals"][agent]
    granted = sample["usage"].filter((pl.col("identity_id") == agent) & pl.col("is_granted")).height
    assert granted == 550
    assert len(proposal.actions) < 20
    assert _used_actions(sample, agent) <= set(proposal.actions)
    assert statement_for(proposal.document, "s3:GetObject")["Resource"] == "arn:aws:s3:::analytics-curated/*"


def test_sample_deploy_agent_passes_only_the_role_it_passed(sample):
    proposal = sample["proposals"][f"{PROD}:role/deploy-agent"]
    assert statement_for(proposal.document, "iam:PassRole")["Resource"] == f"{PROD}:role/lambda-basic-exec"


def test_sample_every_proposal_keeps_every_granted_action_it_used(sample):
    for identity_id, proposal in sample["proposals"].items():
        rows = sample["usage"].filter((pl.col("identity_id") == identity_id) & pl.col("is_used") & pl.col("is_granted"))
        assert set(rows["action"]) <= set(proposal.actions), identity_id


def test_sample_replay_denies_no_successful_call(sample):
    assert sample["calls"].height > 1000
    assert replay_all_denials(sample["proposals"], sample["calls"]).height == 0
    assert replay_all_denials(sample["proposals"], observed_calls(sample["usage"])).height == 0
