"""Observability of granted actions in CloudTrail: exact flags on hand-picked
actions, completeness of the rule tables, dependent-action inference, and the
data-event rules checked against the eventCategory the real samples carry."""

from __future__ import annotations

import collections
import fnmatch
import json

import polars as pl
import pytest

from models.iam.catalog import catalog_frame, lookup
from models.usage.actions import map_event_actions
from models.usage.observability import (
    DATA_EVENT_RULES,
    NEVER_LOGGED,
    OBSERVABILITY_CODES,
    PERMISSION_ONLY,
    action_observability,
    classify_action,
    inferred_dependent_actions,
    services_with_data_events,
)
from tests.conftest import external



def granted(*actions: str, identity_id: str = "role/agent") -> pl.DataFrame:
    """One identity's granted actions, as the grants mart would hand them over."""
    return pl.DataFrame({"identity_id": [identity_id] * len(actions), "action": list(actions)})


def flags(frame: pl.DataFrame) -> dict[str, tuple[bool, str]]:
    return {a: (o, c) for a, o, c in frame.select("action", "is_observable", "observability").rows()}


# --- Exact flags ---------------------------------------------------------------------------


def test_s3_object_reads_are_observable_only_where_s3_data_events_are_seen():
    actions = granted("s3:GetObject", "s3:ListBucket", "s3:ListAllMyBuckets")
    without = flags(action_observability(actions, set()))
    with_s3 = flags(action_observability(actions, {"s3"}))
    assert without == {
        "s3:GetObject": (False, "data_event_not_seen"),
        "s3:ListBucket": (False, "data_event_not_seen"),
        "s3:ListAllMyBuckets": (True, "management_event"),
    }
    assert with_s3 == {
        "s3:GetObject": (True, "data_event"),
        "s3:ListBucket": (True, "data_event"),
        "s3:ListAllMyBuckets": (True, "management_event"),
    }


def test_data_events_of_another_service_do_not_count():
    assert flags(action_observability(granted("s3:PutObject"), {"lambda", "dynamodb"})) == {
        "s3:PutObject": (False, "data_event_not_seen")
    }


def test_pass_role_is_inferred_from_the_calls_that_need_it():
    row = action_observability(granted("iam:PassRole")).row(0, named=True)
    assert (row["is_observable"], row["observability"], row["access_level"]) == (
        True,
        "inferred",
        "Permissions management",
    )
    assert "permission-only" in row["observability_reason"]


def test_management_write_actions_are_observable():
    assert flags(action_observability(granted("ec2:RunInstances", "iam:CreateRole", "lambda:CreateFunction"))) == {
        "ec2:RunInstances": (True, "management_event"),
        "iam:CreateRole": (True, "management_event"),
        "lambda:CreateFunction": (True, "management_event"),
    }


def test_model_invocation_is_management_but_agent_invocation_is_a_data_event():
    actions = granted(
        "bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:InvokeAgent", "bedrock:Retrieve"
    )
    assert flags(action_observability(actions)) == {
        "bedrock:InvokeModel": (True, "management_event"),
        "bedrock:InvokeModelWithResponseStream": (True, "management_event"),
        "bedrock:InvokeAgent": (False, "data_event_not_seen"),
        "bedrock:Retrieve": (False, "data_event_not_seen"),
    }
    assert flags(action_observability(granted("bedrock:InvokeAgent"), {"bedrock"})) == {
        "bedrock:InvokeAgent": (True, "data_event")
    }


def test_lambda_invoke_and_dynamodb_items_are_data_events():
    actions = granted("lambda:InvokeFunction", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:CreateTable")
    assert flags(action_observability(actions, {"lambda"})) == {
        "lambda:InvokeFunction": (True, "data_event"),
        "dynamodb:GetItem": (False, "data_event_not_seen"),
        "dynamodb:Query": (False, "data_event_not_seen"),
        "dynamodb:CreateTable": (True, "management_event"),
    }


def test_never_logged_actions_are_never_observable_even_with_data_events():
    actions = granted(
        "sagemaker:InvokeEndpoint",
        "logs:PutLogEvents",
        "execute-api:Invoke",
        "es:ESHttpGet",
        "rds-db:connect",
        "lambda:InvokeFunctionUrl",
    )
    every_service = {"sagemaker", "logs", "execute-api", "es", "rds-db", "lambda"}
    assert set(flags(action_observability(actions, every_service)).values()) == {(False, "not_logged")}


def test_permission_only_actions_nothing_depends_on_are_not_logged():
    assert flags(action_observability(granted("sts:TagSession", "s3:BypassGovernanceRetention"), {"s3"})) == {
        "sts:TagSession": (False, "not_logged"),
        "s3:BypassGovernanceRetention": (False, "not_logged"),
    }


def test_unknown_actions_say_so():
    row = action_observability(granted("frobnicator:DoThing")).row(0, named=True)
    assert (row["is_observable"], row["observability"], row["access_level"], row["service"]) == (
        False,
        "unknown_action",
        None,
        "frobnicator",
    )
    assert row["observability_reason"] == "frobnicator:DoThing is not in the action catalog"


# --- Frame contract ----------------------------------------------------------------------------


def test_input_rows_and_columns_are_kept_in_order():
    actions = pl.concat(
        [granted("s3:getobject", "iam:PassRole", identity_id="a"), granted("S3:GetObject", identity_id="b")]
    )
    result = action_observability(actions, pl.DataFrame({"service": ["s3"]}))
    assert result.columns == [
        "identity_id",
        "action",
        "service",
        "access_level",
        "is_observable",
        "observability",
        "observability_reason",
    ]
    assert result.select("identity_id", "action", "observability").rows() == [
        ("a", "s3:getobject", "data_event"),
        ("a", "iam:PassRole", "inferred"),
        ("b", "S3:GetObject", "data_event"),
    ]


def test_whole_catalog_is_classified_when_no_actions_are_given():
    result = action_observability()
    assert result.height == catalog_frame().height
    assert result["is_observable"].null_count() == 0
    assert set(result["observability"]) == set(OBSERVABILITY_CODES) - {"data_event", "unknown_action"}


def test_missing_action_column_is_reported():
    with pytest.raises(ValueError, match="action"):
        action_observability(pl.DataFrame({"identity_id": ["a"]}))


# --- Rule-table completeness ----------------------------------------------------------------------


@pytest.mark.parametrize("rule", DATA_EVENT_RULES, ids=lambda r: r.service)
def test_each_data_event_rule_names_catalog_actions_and_flips_with_its_service(rule):
    named = [f"{rule.service}:{name}" for name in sorted(rule.action_names)]
    assert named and [a for a in named if lookup(a) is None] == []
    sample = named[0]
    assert classify_action(sample).code == "data_event_not_seen"
    assert classify_action(sample, frozenset({rule.service})).code == "data_event"


@pytest.mark.parametrize("pattern", sorted(NEVER_LOGGED))
def test_each_never_logged_pattern_matches_catalog_actions_it_marks(pattern):
    hits = [a for a in catalog_frame()["action"] if fnmatch.fnmatchcase(a.lower(), pattern.lower())]
    assert hits, pattern
    verdicts = {(classify_action(a).code, classify_action(a).reason) for a in hits}
    assert verdicts == {("not_logged", NEVER_LOGGED[pattern])}


@pytest.mark.parametrize("pattern", sorted(PERMISSION_ONLY))
def test_each_permission_only_pattern_matches_catalog_actions_it_marks(pattern):
    hits = [a for a in catalog_frame()["action"] if fnmatch.fnmatchcase(a.lower(), pattern.lower())]
    assert hits, pattern
    for action in hits:
        verdict = classify_action(action)
        assert verdict.code in {"inferred", "not_logged"} and PERMISSION_ONLY[pattern] in verdict.reason, action


# --- Dependent-action inference ----------------------------------------------------------------------


def test_create_function_implies_pass_role():
    implied = inferred_dependent_actions(["lambda:CreateFunction"])
    assert implied.columns == ["action", "inferred_from"]
    assert ("iam:PassRole", "lambda:CreateFunction") in implied.rows()


def test_inference_keeps_the_identity_and_names_the_catalog_spelling():
    used = pl.DataFrame(
        {"identity_id": ["a", "a", "b"], "action": ["lambda:createfunction", "s3:GetObject", "ec2:RunInstances"]}
    )
    implied = inferred_dependent_actions(used)
    assert implied.columns == ["identity_id", "action", "inferred_from"]
    assert ("a", "iam:PassRole", "lambda:createfunction") in implied.rows()
    assert ("b", "iam:PassRole", "ec2:RunInstances") in implied.rows()
    assert "s3:GetObject" not in implied["inferred_from"].to_list()


def test_actions_without_dependencies_imply_nothing():
    implied = inferred_dependent_actions(["s3:GetObject", "sts:GetCallerIdentity"])
    assert implied.height == 0 and implied.columns == ["action", "inferred_from"]


# --- Against the samples' own eventCategory ---------------------------------------------------------


def otrf_records() -> list[dict]:
    folder = external("otrf-security-datasets")
    lines = (line for path in sorted(folder.glob("*.json")) for line in path.read_text().splitlines())
    return [json.loads(line) for line in lines if line.strip()]


def invictus_records() -> list[dict]:
    folder = external("invictus-aws-dataset/CloudTrail")
    return [r for path in sorted(folder.glob("*.json")) for r in json.loads(path.read_text())["Records"]]


def mapped_by_category(records: list[dict]) -> pl.DataFrame:
    counts = collections.Counter(
        (r.get("eventSource"), r.get("eventName"), r.get("eventType"), r.get("eventCategory")) for r in records
    )
    pairs = pl.DataFrame(
        [{"event_source": s, "event_name": n, "event_type": t, "event_category": c} for (s, n, t, c) in counts],
        schema=dict.fromkeys(["event_source", "event_name", "event_type", "event_category"], pl.String),
    )
    return pairs.join(map_event_actions(pairs), on=["event_source", "event_name", "event_type"], nulls_equal=True)


def test_records_cloudtrail_marks_as_data_events_are_data_events_by_our_rules():
    mapped = mapped_by_category(otrf_records())
    data = mapped.filter(pl.col("event_category") == "Data")
    assert sorted(data["action"]) == ["s3:GetObject", "s3:ListBucket"]
    assert {classify_action(a).code for a in data["action"]} == {"data_event_not_seen"}
    assert services_with_data_events(mapped) == frozenset({"s3"})


def test_records_cloudtrail_marks_as_management_are_not_data_events_by_our_rules():
    mapped = mapped_by_category(invictus_records())
    assert set(mapped["event_category"]) == {"Management"}
    assert services_with_data_events(mapped) == frozenset()
