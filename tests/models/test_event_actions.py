"""CloudTrail event -> IAM action: exact mappings on hand-written pairs, rule-table
completeness, coverage on the real CloudTrail samples in ../shared, and agreement
with the iam-dataset reference maps there."""

from __future__ import annotations

import collections
import json

import polars as pl
import pytest

from models.iam.catalog import catalog_services, lookup
from models.usage.actions import (
    AMBIGUOUS_EVENTS,
    EVENT_ACTION_EXCEPTIONS,
    EVENT_SOURCE_PREFIX_ALIASES,
    MAPPINGS,
    NON_API_EVENT_NAMES,
    PERMISSIONLESS_EVENTS,
    event_source_prefix,
    map_event_actions,
    resolve_event,
)
from tests.conftest import external



def event(*, source: str, name: str, event_type: str | None = "AwsApiCall") -> dict:
    """One (eventSource, eventName, eventType) as CloudTrail writes them; ``source``
    may be a bare host label (``s3``)."""
    event_source = source if "." in source else f"{source}.amazonaws.com"
    return {"event_source": event_source, "event_name": name, "event_type": event_type}


def pairs_frame(*events: dict, with_type: bool = True) -> pl.DataFrame:
    schema = {"event_source": pl.String, "event_name": pl.String, "event_type": pl.String}
    frame = pl.DataFrame(list(events), schema=schema)
    return frame if with_type else frame.drop("event_type")


def mapped_one(**kwargs) -> dict:
    return map_event_actions(pairs_frame(event(**kwargs))).row(0, named=True)


# --- Exceptions: every row of the table, with the expected result written out ----

# (IAM prefix, eventName) -> (action, additional actions)
EXPECTED_EXCEPTIONS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets", ()),
    ("s3", "ListObjects"): ("s3:ListBucket", ()),
    ("s3", "ListObjectsV2"): ("s3:ListBucket", ()),
    ("s3", "HeadBucket"): ("s3:ListBucket", ()),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions", ()),
    ("s3", "ListMultipartUploads"): ("s3:ListBucketMultipartUploads", ()),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts", ()),
    ("s3", "HeadObject"): ("s3:GetObject", ()),
    ("s3", "SelectObjectContent"): ("s3:GetObject", ()),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject", ()),
    ("s3", "UploadPart"): ("s3:PutObject", ()),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject", ()),
    ("s3", "PostObject"): ("s3:PutObject", ()),
    ("s3", "CopyObject"): ("s3:PutObject", ("s3:GetObject",)),
    ("s3", "UploadPartCopy"): ("s3:PutObject", ("s3:GetObject",)),
    ("s3", "DeleteObjects"): ("s3:DeleteObject", ()),
    ("s3", "GetBucketLifecycle"): ("s3:GetLifecycleConfiguration", ()),
    ("s3", "GetBucketLifecycleConfiguration"): ("s3:GetLifecycleConfiguration", ()),
    ("s3", "PutBucketLifecycle"): ("s3:PutLifecycleConfiguration", ()),
    ("s3", "PutBucketLifecycleConfiguration"): ("s3:PutLifecycleConfiguration", ()),
    ("s3", "DeleteBucketLifecycle"): ("s3:PutLifecycleConfiguration", ()),
    ("s3", "GetBucketEncryption"): ("s3:GetEncryptionConfiguration", ()),
    ("s3", "PutBucketEncryption"): ("s3:PutEncryptionConfiguration", ()),
    ("s3", "DeleteBucketEncryption"): ("s3:PutEncryptionConfiguration", ()),
    ("s3", "GetBucketReplication"): ("s3:GetReplicationConfiguration", ()),
    ("s3", "PutBucketReplication"): ("s3:PutReplicationConfiguration", ("iam:PassRole",)),
    ("s3", "DeleteBucketReplication"): ("s3:PutReplicationConfiguration", ()),
    ("s3", "DeleteBucketCors"): ("s3:PutBucketCORS", ()),
    ("s3", "DeleteBucketTagging"): ("s3:PutBucketTagging", ()),
    ("s3", "DeleteBucketOwnershipControls"): ("s3:PutBucketOwnershipControls", ()),
    ("s3", "GetBucketNotificationConfiguration"): ("s3:GetBucketNotification", ()),
    ("s3", "PutBucketNotificationConfiguration"): ("s3:PutBucketNotification", ()),
    ("s3", "GetObjectLockConfiguration"): ("s3:GetBucketObjectLockConfiguration", ()),
    ("s3", "PutObjectLockConfiguration"): ("s3:PutBucketObjectLockConfiguration", ()),
    ("s3", "GetPublicAccessBlock"): ("s3:GetBucketPublicAccessBlock", ()),
    ("s3", "PutPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock", ()),
    ("s3", "DeletePublicAccessBlock"): ("s3:PutBucketPublicAccessBlock", ()),
    ("s3", "DeleteBucketPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock", ()),
    ("s3", "DeleteAccountPublicAccessBlock"): ("s3:PutAccountPublicAccessBlock", ()),
    ("s3", "GetBucketAccelerateConfiguration"): ("s3:GetAccelerateConfiguration", ()),
    ("s3", "PutBucketAccelerateConfiguration"): ("s3:PutAccelerateConfiguration", ()),
    ("s3", "GetBucketAnalyticsConfiguration"): ("s3:GetAnalyticsConfiguration", ()),
    ("s3", "ListBucketAnalyticsConfigurations"): ("s3:GetAnalyticsConfiguration", ()),
    ("s3", "PutBucketAnalyticsConfiguration"): ("s3:PutAnalyticsConfiguration", ()),
    ("s3", "DeleteBucketAnalyticsConfiguration"): ("s3:PutAnalyticsConfiguration", ()),
    ("s3", "GetBucketInventoryConfiguration"): ("s3:GetInventoryConfiguration", ()),
    ("s3", "ListBucketInventoryConfigurations"): ("s3:GetInventoryConfiguration", ()),
    ("s3", "PutBucketInventoryConfiguration"): ("s3:PutInventoryConfiguration", ()),
    ("s3", "DeleteBucketInventoryConfiguration"): ("s3:PutInventoryConfiguration", ()),
    ("s3", "GetBucketMetricsConfiguration"): ("s3:GetMetricsConfiguration", ()),
    ("s3", "ListBucketMetricsConfigurations"): ("s3:GetMetricsConfiguration", ()),
    ("s3", "PutBucketMetricsConfiguration"): ("s3:PutMetricsConfiguration", ()),
    ("s3", "DeleteBucketMetricsConfiguration"): ("s3:PutMetricsConfiguration", ()),
    ("s3", "GetBucketIntelligentTieringConfiguration"): ("s3:GetIntelligentTieringConfiguration", ()),
    ("s3", "ListBucketIntelligentTieringConfigurations"): ("s3:GetIntelligentTieringConfiguration", ()),
    ("s3", "PutBucketIntelligentTieringConfiguration"): ("s3:PutIntelligentTieringConfiguration", ()),
    ("s3", "DeleteBucketIntelligentTieringConfiguration"): ("s3:PutIntelligentTieringConfiguration", ()),
    ("s3", "GetStorageLensDashboardDataInternal"): ("s3:GetStorageLensDashboard", ()),
    ("lambda", "Invoke"): ("lambda:InvokeFunction", ()),
    ("kms", "ReEncrypt"): ("kms:ReEncryptFrom", ("kms:ReEncryptTo",)),
    ("dynamodb", "TransactGetItems"): ("dynamodb:GetItem", ()),
    ("bedrock", "Converse"): ("bedrock:InvokeModel", ()),
    ("bedrock", "ConverseStream"): ("bedrock:InvokeModelWithResponseStream", ()),
}


@pytest.mark.parametrize(("key", "expected"), sorted(EXPECTED_EXCEPTIONS.items()), ids=lambda v: str(v))
def test_each_exception_maps_to_its_documented_action(key, expected):
    prefix, name = key
    row = mapped_one(source=prefix, name=name)
    assert (row["action"], tuple(row["additional_actions"]), row["mapping"]) == (*expected, "exception")
    assert row["service"] == prefix
    assert name in row["reason"] and expected[0] in row["reason"]


def test_every_exception_row_has_a_written_expectation():
    assert set(EVENT_ACTION_EXCEPTIONS) == set(EXPECTED_EXCEPTIONS)


def test_every_action_named_by_a_rule_table_is_in_the_catalog():
    named = {rule.action for rule in EVENT_ACTION_EXCEPTIONS.values()}
    named |= {a for rule in EVENT_ACTION_EXCEPTIONS.values() for a in rule.additional_actions}
    assert {a for a in named if lookup(a) is None or lookup(a).action != a} == set()


def test_exceptions_match_event_names_case_insensitively():
    assert mapped_one(source="s3", name="listobjectsv2")["action"] == "s3:ListBucket"
    assert mapped_one(source="S3.AmazonAWS.com", name="HEADOBJECT")["action"] == "s3:GetObject"


# --- Event source aliases ------------------------------------------------------------

EXPECTED_PREFIXES: dict[str, str] = {
    "monitoring": "cloudwatch",
    "tagging": "tag",
    "rdsdata": "rds-data",
    "pricelist": "pricing",
    "migrationhub": "mgh",
    "amazonmq": "mq",
    "pinpoint": "mobiletargeting",
    "opensearchservice": "es",
    "application-insights": "applicationinsights",
    "cloudcontrolapi": "cloudformation",
    "servicecatalog-appregistry": "servicecatalog",
    "transcribestreaming": "transcribe",
    "qconnect": "wisdom",
    "contact-lens": "connect",
    "participant-connect": "connect",
    "chime-sdk-media-pipelines": "chime",
    "chime-sdk-voice": "chime",
    "billingconsole": "billing",
    "taxconsole": "tax",
    "agreement-marketplace": "aws-marketplace",
    "discovery-marketplace": "aws-marketplace",
    "marketplacecatalog": "aws-marketplace",
    "reporting-marketplace": "aws-marketplace",
    "management-marketplace": "aws-marketplace-management",
    "bedrock-runtime": "bedrock",
    "bedrock-agent": "bedrock",
    "bedrock-agent-runtime": "bedrock",
}


@pytest.mark.parametrize(("label", "prefix"), sorted(EXPECTED_PREFIXES.items()))
def test_each_alias_gives_its_iam_prefix(label, prefix):
    assert event_source_prefix(f"{label}.amazonaws.com") == prefix
    assert prefix in catalog_services()


def test_every_alias_row_has_a_written_expectation():
    assert EVENT_SOURCE_PREFIX_ALIASES == EXPECTED_PREFIXES


@pytest.mark.parametrize(
    ("label", "name", "action"),
    [
        ("monitoring", "DescribeAlarms", "cloudwatch:DescribeAlarms"),
        ("tagging", "GetResources", "tag:GetResources"),
        ("rdsdata", "ExecuteStatement", "rds-data:ExecuteStatement"),
        ("pricelist", "GetProducts", "pricing:GetProducts"),
        ("migrationhub", "ListMigrationTasks", "mgh:ListMigrationTasks"),
        ("amazonmq", "ListBrokers", "mq:ListBrokers"),
        ("pinpoint", "GetApps", "mobiletargeting:GetApps"),
        ("opensearchservice", "ListDomainNames", "es:ListDomainNames"),
        ("application-insights", "ListApplications", "applicationinsights:ListApplications"),
        ("cloudcontrolapi", "GetResource", "cloudformation:GetResource"),
        ("servicecatalog-appregistry", "ListApplications", "servicecatalog:ListApplications"),
        ("transcribestreaming", "StartStreamTranscription", "transcribe:StartStreamTranscription"),
        ("qconnect", "ListAssistants", "wisdom:ListAssistants"),
        ("contact-lens", "ListRealtimeContactAnalysisSegments", "connect:ListRealtimeContactAnalysisSegments"),
        ("chime-sdk-media-pipelines", "CreateMediaCapturePipeline", "chime:CreateMediaCapturePipeline"),
        ("chime-sdk-voice", "CreateSipMediaApplication", "chime:CreateSipMediaApplication"),
        ("billingconsole", "GetBillingPreferences", "billing:GetBillingPreferences"),
        ("taxconsole", "GetTaxRegistration", "tax:GetTaxRegistration"),
        ("agreement-marketplace", "SearchAgreements", "aws-marketplace:SearchAgreements"),
        ("marketplacecatalog", "ListEntities", "aws-marketplace:ListEntities"),
        ("reporting-marketplace", "GetBuyerDashboard", "aws-marketplace:GetBuyerDashboard"),
        ("bedrock-runtime", "InvokeModel", "bedrock:InvokeModel"),
        ("bedrock-agent", "ListAgents", "bedrock:ListAgents"),
        ("bedrock-agent-runtime", "InvokeAgent", "bedrock:InvokeAgent"),
    ],
)
def test_alias_events_map_through_the_prefix(label, name, action):
    row = mapped_one(source=f"{label}.amazonaws.com", name=name)
    assert (row["action"], row["mapping"]) == (action, "prefix_alias")


def test_alias_and_exception_combine():
    row = mapped_one(source="bedrock-runtime.amazonaws.com", name="Converse")
    assert (row["action"], row["mapping"], row["service"]) == ("bedrock:InvokeModel", "exception", "bedrock")


# --- Versioned names, verbs, direct ------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "name", "action"),
    [
        ("lambda", "CreateFunction20150331", "lambda:CreateFunction"),
        ("lambda", "UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode"),
        ("lambda", "GetFunction20150331v2", "lambda:GetFunction"),
        ("lambda", "GetFunctionConfiguration20150331v2", "lambda:GetFunctionConfiguration"),
        ("lambda", "ListTags20170331", "lambda:ListTags"),
        ("lambda", "PublishLayerVersion20181031", "lambda:PublishLayerVersion"),
        ("lambda", "PutFunctionConcurrency20171031", "lambda:PutFunctionConcurrency"),
        ("lambda", "GetAccountSettings20160819", "lambda:GetAccountSettings"),
        ("cloudfront", "CreateDistribution2020_05_31", "cloudfront:CreateDistribution"),
    ],
)
def test_versioned_event_names_lose_their_suffix(source, name, action):
    row = mapped_one(source=source, name=name)
    assert (row["action"], row["mapping"]) == (action, "versioned_name")


def test_version_suffix_is_not_stripped_into_a_name_the_catalog_lacks():
    row = mapped_one(source="lambda", name="FrobnicateFunction20150331")
    assert (row["action"], row["mapping"]) == (None, "unmapped")


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("GetRestApis", "apigateway:GET"),
        ("CreateDeployment", "apigateway:POST"),
        ("UpdateStage", "apigateway:PATCH"),
        ("DeleteRestApi", "apigateway:DELETE"),
        ("PutIntegration", "apigateway:PUT"),
        ("TagResource", "apigateway:PUT"),
        ("UntagResource", "apigateway:DELETE"),
    ],
)
def test_api_gateway_management_calls_map_to_http_verbs(name, action):
    row = mapped_one(source="apigateway", name=name)
    assert (row["action"], row["mapping"]) == (action, "exception")


def test_api_gateway_names_the_catalog_lists_match_directly():
    row = mapped_one(source="apigateway", name="CreateRoutingRule")
    assert (row["action"], row["mapping"]) == ("apigateway:CreateRoutingRule", "direct")


def test_direct_match_returns_catalog_spelling_and_access_level():
    row = mapped_one(source="s3", name="GetBucketCors")
    assert (row["action"], row["service"], row["access_level"], row["mapping"]) == (
        "s3:GetBucketCORS",
        "s3",
        "Read",
        "direct",
    )


# --- Events that exercise no grant ----------------------------------------------------------


@pytest.mark.parametrize(("key", "_reason"), sorted(PERMISSIONLESS_EVENTS.items()))
def test_permissionless_calls_carry_no_action(key, _reason):
    prefix, name = key
    row = mapped_one(source=prefix, name=name)
    assert (row["action"], row["mapping"], row["service"]) == (None, "permissionless", prefix)


def test_get_caller_identity_is_permissionless_with_a_reason():
    row = mapped_one(source="sts", name="GetCallerIdentity")
    assert (row["action"], row["mapping"]) == (None, "permissionless")
    assert "sts:GetCallerIdentity" in row["reason"]


@pytest.mark.parametrize(
    ("source", "name", "event_type"),
    [
        ("ec2", "CreateSnapshot", "AwsServiceEvent"),
        ("signin", "ConsoleLogin", "AwsConsoleSignIn"),
        ("signin", "CheckMfa", "AwsConsoleSignIn"),
        ("s3", "GetObject", "AwsVpceEvent"),
        ("cloudtrail", "PutEventSelectors", "AwsCloudTrailInsight"),
    ],
)
def test_records_that_are_not_api_calls_are_classified_not_forced(source, name, event_type):
    row = mapped_one(source=source, name=name, event_type=event_type)
    assert (row["action"], row["mapping"]) == (None, "not_an_api_call")
    assert row["reason"]


@pytest.mark.parametrize(("key", "_reason"), sorted(NON_API_EVENT_NAMES.items()))
def test_sign_in_events_are_recognised_without_an_event_type(key, _reason):
    prefix, name = key
    frame = map_event_actions(pairs_frame(event(source=prefix, name=name), with_type=False))
    assert frame.select("action", "mapping").row(0) == (None, "not_an_api_call")


@pytest.mark.parametrize(("key", "reason"), sorted(AMBIGUOUS_EVENTS.items()))
def test_ambiguous_events_stay_unmapped_with_the_candidates(key, reason):
    prefix, name = key
    row = mapped_one(source=prefix, name=name)
    assert (row["action"], row["mapping"], row["reason"]) == (None, "unmapped", reason)


def test_unknown_service_and_unknown_action_are_unmapped_with_reasons():
    unknown_service = mapped_one(source="frobnicator", name="ListThings")
    unknown_action = mapped_one(source="s3", name="FrobnicateBucket")
    assert (unknown_service["mapping"], unknown_service["service"]) == ("unmapped", "frobnicator")
    assert "frobnicator" in unknown_service["reason"]
    assert unknown_action["mapping"] == "unmapped"
    assert unknown_action["reason"] == "no catalog action s3:FrobnicateBucket"


def test_record_without_source_or_name_is_unmapped():
    assert resolve_event(None, "GetObject").mapping == "unmapped"
    assert resolve_event("s3.amazonaws.com", "").mapping == "unmapped"


# --- Frame contract ---------------------------------------------------------------------------


def test_output_has_one_row_per_distinct_key_in_input_order():
    frame = map_event_actions(
        pairs_frame(
            event(source="sts", name="AssumeRole"),
            event(source="s3", name="ListObjects"),
            event(source="sts", name="AssumeRole"),
            event(source="s3", name="ListObjects", event_type="AwsServiceEvent"),
        )
    )
    assert frame.columns == [
        "event_source",
        "event_name",
        "event_type",
        "action",
        "service",
        "access_level",
        "mapping",
        "reason",
        "additional_actions",
    ]
    assert frame.select("event_name", "action", "mapping").rows() == [
        ("AssumeRole", "sts:AssumeRole", "direct"),
        ("ListObjects", "s3:ListBucket", "exception"),
        ("ListObjects", None, "not_an_api_call"),
    ]
    assert set(frame["mapping"]) <= set(MAPPINGS)


def test_event_type_column_is_optional():
    frame = map_event_actions(pairs_frame(event(source="kms", name="Decrypt"), with_type=False))
    assert frame.columns[:2] == ["event_source", "event_name"] and "event_type" not in frame.columns
    assert frame.select("action", "mapping").row(0) == ("kms:Decrypt", "direct")


def test_missing_columns_are_reported():
    with pytest.raises(ValueError, match="event_name"):
        map_event_actions(pl.DataFrame({"event_source": ["s3.amazonaws.com"]}))


# --- Real CloudTrail samples -------------------------------------------------------------------


def invictus_records() -> list[dict]:
    folder = external("invictus-aws-dataset/CloudTrail")
    return [r for path in sorted(folder.glob("*.json")) for r in json.loads(path.read_text())["Records"]]


def otrf_records() -> list[dict]:
    folder = external("otrf-security-datasets")
    lines = (line for path in sorted(folder.glob("*.json")) for line in path.read_text().splitlines())
    return [json.loads(line) for line in lines if line.strip()]


def plaso_records() -> list[dict]:
    path = external("plaso/aws_cloudtrail.jsonl")
    return [json.loads(json.loads(line)["CloudTrailEvent"]) for line in path.read_text().splitlines() if line.strip()]


SAMPLES = {"invictus": invictus_records, "otrf": otrf_records, "plaso": plaso_records}

# Share of AwsApiCall records mapped to a catalog action, reached with the tables
# as committed: invictus 2840/2855 (the 15 others are sts:GetCallerIdentity,
# permissionless), otrf 103/103, plaso 5/5.
REACHED_ACTION_COVERAGE = {"invictus": 2840 / 2855, "otrf": 1.0, "plaso": 1.0}


def mapped_sample(records: list[dict]) -> pl.DataFrame:
    counts = collections.Counter((r.get("eventSource"), r.get("eventName"), r.get("eventType")) for r in records)
    pairs = pl.DataFrame(
        [{"event_source": s, "event_name": n, "event_type": t, "records": c} for (s, n, t), c in counts.items()],
        schema={"event_source": pl.String, "event_name": pl.String, "event_type": pl.String, "records": pl.Int64},
    )
    return pairs.join(map_event_actions(pairs), on=["event_source", "event_name", "event_type"], nulls_equal=True)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_sample_api_calls_map_to_catalog_actions(sample):
    mapped = mapped_sample(SAMPLES[sample]())
    api_calls = mapped.filter(pl.col("event_type") == "AwsApiCall")
    total = api_calls["records"].sum()
    with_action = api_calls.filter(pl.col("action").is_not_null())["records"].sum()
    unmapped = api_calls.filter(pl.col("mapping") == "unmapped")
    unmapped = unmapped.select("event_source", "event_name", "records", "reason")
    coverage = with_action / total
    assert coverage >= 0.95, f"{sample}: {with_action}/{total} = {coverage:.4f}; unmapped: {unmapped.rows()}"
    assert unmapped.height == 0, f"{sample}: unmapped API calls {unmapped.rows()}"
    assert coverage == pytest.approx(REACHED_ACTION_COVERAGE[sample])


def test_sample_non_api_records_are_classified():
    mapped = mapped_sample(invictus_records())
    non_api = mapped.filter(pl.col("event_type") != "AwsApiCall")
    assert set(non_api["mapping"]) == {"not_an_api_call"}
    assert non_api["records"].sum() == 45  # 42 AwsServiceEvent + 3 AwsConsoleSignIn, per SOURCE.md


def test_sample_mapping_uses_every_kind_of_rule():
    mapped = pl.concat([mapped_sample(load()) for load in SAMPLES.values()])
    assert {"direct", "exception", "versioned_name", "prefix_alias", "permissionless", "not_an_api_call"} <= set(
        mapped["mapping"]
    )


# --- Reference maps (iam-dataset): checked against, not copied -----------------------------------


def reference_source_prefixes() -> dict[str, str]:
    path = external("iam-dataset/aws/map.cloudtrail_sections.json")
    return json.loads(path.read_text())["cloudtrail_service_mappings"]


# Aliases the reference does not list, and why that is expected.
ALIASES_ABSENT_FROM_REFERENCE = {
    "bedrock-runtime": "endpoint host, not an event source: CloudTrail writes bedrock.amazonaws.com",
    "bedrock-agent": "endpoint host, not an event source: CloudTrail writes bedrock.amazonaws.com",
    "bedrock-agent-runtime": "endpoint host, not an event source: CloudTrail writes bedrock.amazonaws.com",
}


def test_sample_event_sources_get_the_reference_prefix():
    reference = reference_source_prefixes()
    sources = {r["eventSource"] for load in SAMPLES.values() for r in load()}
    missing = sorted(s for s in sources if s not in reference)
    assert missing == []
    assert {s: event_source_prefix(s) for s in sources} == {s: reference[s] for s in sources}


def test_alias_table_agrees_with_the_reference():
    reference = reference_source_prefixes()
    for label, prefix in EVENT_SOURCE_PREFIX_ALIASES.items():
        source = f"{label}.amazonaws.com"
        if label in ALIASES_ABSENT_FROM_REFERENCE:
            assert source not in reference, f"{source} is in the reference now: compare instead of explaining"
        else:
            assert reference.get(source) == prefix, source


def test_every_reference_source_whose_label_differs_is_in_the_alias_table():
    differing = {
        source.split(".", 1)[0]: prefix
        for source, prefix in reference_source_prefixes().items()
        if source.split(".", 1)[0] != prefix
    }
    assert {label: EVENT_SOURCE_PREFIX_ALIASES.get(label) for label in differing} == differing


# The SDK -> IAM map (iam-dataset aws/map.json, 2023) names, per SDK operation, the
# actions it needs. Where CloudTrail's event name is the operation name, our
# exception must be among them; two rows differ, both where the reference names a
# permission the catalog does not define and the S3 API Reference names ours.
SDK_SERVICE_BY_PREFIX = {"s3": "S3", "lambda": "Lambda", "kms": "KMS", "dynamodb": "DynamoDB"}
EXPECTED_SDK_MAP_DISAGREEMENTS = {
    ("s3", "DeleteBucketOwnershipControls"): "s3:DeleteBucketOwnershipControls",
    ("s3", "DeleteBucketIntelligentTieringConfiguration"): "s3:DeleteIntelligentTieringConfiguration",
}


def test_exceptions_agree_with_the_sdk_reference_map():
    sdk_map = json.loads(external("iam-dataset/aws/map.json").read_text())["sdk_method_iam_mappings"]
    compared, disagreements = 0, {}
    for (prefix, name), rule in EVENT_ACTION_EXCEPTIONS.items():
        operation = f"{SDK_SERVICE_BY_PREFIX.get(prefix, prefix)}.{name}"
        if operation not in sdk_map:
            continue
        compared += 1
        reference_actions = [entry["action"] for entry in sdk_map[operation]]
        if rule.action.lower() not in {a.lower() for a in reference_actions}:
            disagreements[(prefix, name)] = reference_actions
    assert compared >= 50
    assert disagreements == {key: [action] for key, action in EXPECTED_SDK_MAP_DISAGREEMENTS.items()}
    assert all(lookup(action) is None for action in EXPECTED_SDK_MAP_DISAGREEMENTS.values())
