"""CloudTrail events read as the IAM actions they exercise.

A CloudTrail record names an API call by ``eventSource`` (``s3.amazonaws.com``)
and ``eventName`` (``ListObjects``); a policy grants IAM actions
(``s3:ListBucket``). Usually the host label of the event source is the IAM
prefix and the event name is the action name, but not always. The known
differences are the tables below, each row with where the fact comes from;
``map_event_actions`` evaluates them, in one order, for each distinct
(source, name, type) the pipeline hands it.

What this mapping does not do:

- It reads names only. Where the action depends on the request (a PartiQL
  ``ExecuteStatement`` is a select or an insert; ``HeadObject`` on a version
  also needs ``s3:GetObjectVersion``) it gives the action every call needs,
  or reports the event as unmapped with the reason.
- Events that need no IAM permission (``sts:GetCallerIdentity``) and records
  that are not API calls (sign-in, service events) get no action: they are
  evidence of nothing granted. They are classified with a reason, never
  dropped.
- Attribution (which identity made the call), success (``errorCode``) and the
  observation window belong to the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from models.iam.catalog import catalog_services, lookup

MAPPINGS = (
    "direct",
    "exception",
    "versioned_name",
    "prefix_alias",
    "permissionless",
    "not_an_api_call",
    "unmapped",
)

# --- Event source -> IAM prefix -------------------------------------------------
# The host label of eventSource, where it is not the IAM prefix. Each pair joins
# the eventSource a service's "Logging ... with AWS CloudTrail" page shows in its
# example records to the prefix its "Actions, resources, and condition keys" page
# (Service Authorization Reference) gives.
EVENT_SOURCE_PREFIX_ALIASES: dict[str, str] = {
    # CloudWatch keeps the API endpoint's old name "monitoring" as event source.
    "monitoring": "cloudwatch",
    # Resource Groups Tagging API: endpoint "tagging", actions "tag:GetResources".
    "tagging": "tag",
    # RDS Data API: event source "rdsdata", actions "rds-data:ExecuteStatement".
    "rdsdata": "rds-data",
    # Price List API: event source "pricelist", actions "pricing:GetProducts".
    "pricelist": "pricing",
    # Migration Hub: event source "migrationhub", actions "mgh:*".
    "migrationhub": "mgh",
    # Amazon MQ: event source "amazonmq", actions "mq:*".
    "amazonmq": "mq",
    # Amazon Pinpoint: event source "pinpoint", actions "mobiletargeting:*".
    "pinpoint": "mobiletargeting",
    # OpenSearch Service's newer event source; the configuration API keeps "es:*".
    "opensearchservice": "es",
    # CloudWatch Application Insights: hyphen in the source, none in the prefix.
    "application-insights": "applicationinsights",
    # Cloud Control API is authorized by cloudformation:CreateResource and kin.
    "cloudcontrolapi": "cloudformation",
    # AppRegistry is part of Service Catalog's IAM namespace.
    "servicecatalog-appregistry": "servicecatalog",
    # Streaming transcription is authorized by transcribe:StartStreamTranscription.
    "transcribestreaming": "transcribe",
    # Amazon Q in Connect kept the Wisdom prefix.
    "qconnect": "wisdom",
    # Contact Lens and the participant service are authorized under connect:*.
    "contact-lens": "connect",
    "participant-connect": "connect",
    # Chime SDK sub-services log under their own source, authorize under chime:*.
    "chime-sdk-media-pipelines": "chime",
    "chime-sdk-voice": "chime",
    # Billing and tax consoles log their own sources.
    "billingconsole": "billing",
    "taxconsole": "tax",
    # AWS Marketplace APIs log one source per API, all under aws-marketplace:*.
    "agreement-marketplace": "aws-marketplace",
    "discovery-marketplace": "aws-marketplace",
    "marketplacecatalog": "aws-marketplace",
    "reporting-marketplace": "aws-marketplace",
    "management-marketplace": "aws-marketplace-management",
    # Bedrock's endpoint hosts. CloudTrail itself writes "bedrock.amazonaws.com"
    # for runtime and agent calls alike (Bedrock User Guide, "Monitor Amazon
    # Bedrock API calls using CloudTrail": InvokeModel's record has eventSource
    # bedrock.amazonaws.com with clientProvidedHostHeader bedrock-runtime...);
    # these rows serve canonical event tables built from endpoint names.
    "bedrock-runtime": "bedrock",
    "bedrock-agent": "bedrock",
    "bedrock-agent-runtime": "bedrock",
}

# --- Records that are not API calls ---------------------------------------------
# CloudTrail User Guide, "CloudTrail record contents" (eventType) and "Non-API
# events captured by CloudTrail".
NON_API_EVENT_TYPES: dict[str, str] = {
    "AwsServiceEvent": "service event: AWS itself generated the record, no identity called an API",
    "AwsConsoleSignIn": "console sign-in event, not an API call authorized by a policy",
    "AwsConsoleAction": "console action that is not an API call",
    "AwsCloudTrailInsight": "CloudTrail Insights event about call rates, not a call",
    "AwsVpceEvent": "network activity event recorded for a VPC endpoint, not the caller's API call",
}

# Sign-in records by name, for inputs that lost eventType (CloudTrail User Guide,
# "AWS Management Console sign-in events").
NON_API_EVENT_NAMES: dict[tuple[str, str], str] = {
    ("signin", "ConsoleLogin"): "console sign-in event, not an API call authorized by a policy",
    ("signin", "CheckMfa"): "console sign-in MFA check, not an API call authorized by a policy",
    ("signin", "SwitchRole"): "console role switch, not an API call authorized by a policy",
}

# --- Calls that need no IAM permission --------------------------------------------
PERMISSIONLESS_EVENTS: dict[tuple[str, str], str] = {
    # STS API Reference, GetCallerIdentity: "No permissions are required to perform
    # this operation", even under an explicit Deny.
    ("sts", "GetCallerIdentity"): "sts:GetCallerIdentity needs no permission (STS API Reference)",
    # STS API Reference, GetSessionToken: "No permissions are required ...
    # You cannot use policies to control authentication operations."
    ("sts", "GetSessionToken"): "sts:GetSessionToken needs no permission (STS API Reference)",
    # Cognito identity pools API Reference: "This is a public API. You do not need
    # any credentials to call this API."
    ("cognito-identity", "GetId"): "public Cognito identity pool API, called without credentials",
    ("cognito-identity", "GetCredentialsForIdentity"): "public Cognito identity pool API, called without credentials",
    ("cognito-identity", "GetOpenIdToken"): "public Cognito identity pool API, called without credentials",
    # Cognito user pools API Reference: "Amazon Cognito doesn't evaluate AWS
    # Identity and Access Management (IAM) policies in requests for this API
    # operation."
    ("cognito-idp", "InitiateAuth"): "Cognito user pool API that IAM policies do not govern",
    ("cognito-idp", "RespondToAuthChallenge"): "Cognito user pool API that IAM policies do not govern",
    ("cognito-idp", "SignUp"): "Cognito user pool API that IAM policies do not govern",
    ("cognito-idp", "ConfirmSignUp"): "Cognito user pool API that IAM policies do not govern",
    ("cognito-idp", "ForgotPassword"): "Cognito user pool API that IAM policies do not govern",
    ("cognito-idp", "ConfirmForgotPassword"): "Cognito user pool API that IAM policies do not govern",
}


@dataclass(frozen=True)
class ActionException:
    """An event whose IAM action is not named like the event.

    action: the action every such call needs, catalog spelling.
    source: the documentation that says so.
    additional_actions: actions the same call also needs (the source object of
        a copy, the destination key of a re-encryption).
    """

    action: str
    source: str
    additional_actions: tuple[str, ...] = ()


_S3_API = "S3 API Reference, the operation's Permissions section"


def _s3(action: str, *also: str, source: str = _S3_API) -> ActionException:
    return ActionException(action=f"s3:{action}", source=source, additional_actions=also)


# --- Event name -> action, where they differ --------------------------------------
# Keyed by (IAM prefix, eventName as CloudTrail writes it); looked up
# case-insensitively. S3's event names are listed in the S3 User Guide, "Amazon S3
# CloudTrail events"; the permission each operation needs in its S3 API Reference
# page and the S3 User Guide, "Required permissions for Amazon S3 API operations".
EVENT_ACTION_EXCEPTIONS: dict[tuple[str, str], ActionException] = {
    ("s3", "ListBuckets"): _s3("ListAllMyBuckets"),
    ("s3", "ListObjects"): _s3("ListBucket"),
    ("s3", "ListObjectsV2"): _s3("ListBucket"),
    ("s3", "HeadBucket"): _s3("ListBucket"),
    ("s3", "ListObjectVersions"): _s3("ListBucketVersions"),
    ("s3", "ListMultipartUploads"): _s3("ListBucketMultipartUploads"),
    ("s3", "ListParts"): _s3("ListMultipartUploadParts"),
    ("s3", "HeadObject"): _s3("GetObject"),
    ("s3", "SelectObjectContent"): _s3("GetObject"),
    # Multipart uploads and browser POST uploads write the object: s3:PutObject.
    ("s3", "CreateMultipartUpload"): _s3("PutObject"),
    ("s3", "UploadPart"): _s3("PutObject"),
    ("s3", "CompleteMultipartUpload"): _s3("PutObject"),
    ("s3", "PostObject"): _s3("PutObject"),
    # A copy reads the source object and writes the destination.
    ("s3", "CopyObject"): _s3("PutObject", "s3:GetObject"),
    ("s3", "UploadPartCopy"): _s3("PutObject", "s3:GetObject"),
    ("s3", "DeleteObjects"): _s3("DeleteObject"),
    # Bucket sub-resources: CloudTrail writes the API name, IAM names the
    # configuration; deleting a configuration needs the Put permission.
    ("s3", "GetBucketLifecycle"): _s3("GetLifecycleConfiguration"),
    ("s3", "GetBucketLifecycleConfiguration"): _s3("GetLifecycleConfiguration"),
    ("s3", "PutBucketLifecycle"): _s3("PutLifecycleConfiguration"),
    ("s3", "PutBucketLifecycleConfiguration"): _s3("PutLifecycleConfiguration"),
    ("s3", "DeleteBucketLifecycle"): _s3("PutLifecycleConfiguration"),
    ("s3", "GetBucketEncryption"): _s3("GetEncryptionConfiguration"),
    ("s3", "PutBucketEncryption"): _s3("PutEncryptionConfiguration"),
    ("s3", "DeleteBucketEncryption"): _s3("PutEncryptionConfiguration"),
    ("s3", "GetBucketReplication"): _s3("GetReplicationConfiguration"),
    # PutBucketReplication hands S3 a role to replicate with: iam:PassRole too.
    ("s3", "PutBucketReplication"): _s3("PutReplicationConfiguration", "iam:PassRole"),
    ("s3", "DeleteBucketReplication"): _s3("PutReplicationConfiguration"),
    ("s3", "DeleteBucketCors"): _s3("PutBucketCORS"),
    ("s3", "DeleteBucketTagging"): _s3("PutBucketTagging"),
    ("s3", "DeleteBucketOwnershipControls"): _s3("PutBucketOwnershipControls"),
    ("s3", "GetBucketNotificationConfiguration"): _s3("GetBucketNotification"),
    ("s3", "PutBucketNotificationConfiguration"): _s3("PutBucketNotification"),
    ("s3", "GetObjectLockConfiguration"): _s3("GetBucketObjectLockConfiguration"),
    ("s3", "PutObjectLockConfiguration"): _s3("PutBucketObjectLockConfiguration"),
    ("s3", "GetPublicAccessBlock"): _s3("GetBucketPublicAccessBlock"),
    ("s3", "PutPublicAccessBlock"): _s3("PutBucketPublicAccessBlock"),
    ("s3", "DeletePublicAccessBlock"): _s3("PutBucketPublicAccessBlock"),
    ("s3", "DeleteBucketPublicAccessBlock"): _s3("PutBucketPublicAccessBlock"),
    ("s3", "DeleteAccountPublicAccessBlock"): _s3("PutAccountPublicAccessBlock"),
    ("s3", "GetBucketAccelerateConfiguration"): _s3("GetAccelerateConfiguration"),
    ("s3", "PutBucketAccelerateConfiguration"): _s3("PutAccelerateConfiguration"),
    ("s3", "GetBucketAnalyticsConfiguration"): _s3("GetAnalyticsConfiguration"),
    ("s3", "ListBucketAnalyticsConfigurations"): _s3("GetAnalyticsConfiguration"),
    ("s3", "PutBucketAnalyticsConfiguration"): _s3("PutAnalyticsConfiguration"),
    ("s3", "DeleteBucketAnalyticsConfiguration"): _s3("PutAnalyticsConfiguration"),
    ("s3", "GetBucketInventoryConfiguration"): _s3("GetInventoryConfiguration"),
    ("s3", "ListBucketInventoryConfigurations"): _s3("GetInventoryConfiguration"),
    ("s3", "PutBucketInventoryConfiguration"): _s3("PutInventoryConfiguration"),
    ("s3", "DeleteBucketInventoryConfiguration"): _s3("PutInventoryConfiguration"),
    ("s3", "GetBucketMetricsConfiguration"): _s3("GetMetricsConfiguration"),
    ("s3", "ListBucketMetricsConfigurations"): _s3("GetMetricsConfiguration"),
    ("s3", "PutBucketMetricsConfiguration"): _s3("PutMetricsConfiguration"),
    ("s3", "DeleteBucketMetricsConfiguration"): _s3("PutMetricsConfiguration"),
    ("s3", "GetBucketIntelligentTieringConfiguration"): _s3("GetIntelligentTieringConfiguration"),
    ("s3", "ListBucketIntelligentTieringConfigurations"): _s3("GetIntelligentTieringConfiguration"),
    ("s3", "PutBucketIntelligentTieringConfiguration"): _s3("PutIntelligentTieringConfiguration"),
    ("s3", "DeleteBucketIntelligentTieringConfiguration"): _s3("PutIntelligentTieringConfiguration"),
    # The S3 console renders Storage Lens through an internal call; viewing the
    # dashboard is what s3:GetStorageLensDashboard grants (S3 User Guide,
    # "Setting permissions to use S3 Storage Lens").
    ("s3", "GetStorageLensDashboardDataInternal"): _s3(
        "GetStorageLensDashboard",
        source="console-internal call behind the Storage Lens dashboard (S3 User Guide, Storage Lens permissions)",
    ),
    # Lambda Developer Guide, "Lambda data events in CloudTrail": the data event
    # is named after the Invoke API, whose permission is lambda:InvokeFunction.
    ("lambda", "Invoke"): ActionException(
        action="lambda:InvokeFunction",
        source="Lambda API Reference, Invoke",
    ),
    # KMS Developer Guide, ReEncrypt: needs kms:ReEncryptFrom on the source key
    # and kms:ReEncryptTo on the destination key.
    ("kms", "ReEncrypt"): ActionException(
        action="kms:ReEncryptFrom",
        source="KMS API Reference, ReEncrypt: ReEncryptFrom on the source key, ReEncryptTo on the destination key",
        additional_actions=("kms:ReEncryptTo",),
    ),
    # DynamoDB Developer Guide, transactions and IAM: a TransactGetItems call is
    # authorized item by item as dynamodb:GetItem.
    ("dynamodb", "TransactGetItems"): ActionException(
        action="dynamodb:GetItem",
        source="DynamoDB Developer Guide, IAM with transactions: GetItem on each item",
    ),
    # Bedrock User Guide, Converse API prerequisites: Converse needs
    # bedrock:InvokeModel, ConverseStream needs bedrock:InvokeModelWithResponseStream.
    ("bedrock", "Converse"): ActionException(
        action="bedrock:InvokeModel",
        source="Bedrock User Guide, Converse API prerequisites",
    ),
    ("bedrock", "ConverseStream"): ActionException(
        action="bedrock:InvokeModelWithResponseStream",
        source="Bedrock User Guide, Converse API prerequisites",
    ),
}

# Events whose action depends on the request body; the name alone cannot say.
_PARTIQL = "dynamodb:PartiQLSelect, PartiQLInsert, PartiQLUpdate or PartiQLDelete"
AMBIGUOUS_EVENTS: dict[tuple[str, str], str] = {
    ("dynamodb", "ExecuteStatement"): f"depends on the PartiQL statement: {_PARTIQL}",
    ("dynamodb", "BatchExecuteStatement"): f"depends on the PartiQL statements: {_PARTIQL}",
    ("dynamodb", "ExecuteTransaction"): f"depends on the PartiQL statements: {_PARTIQL}",
    ("dynamodb", "TransactWriteItems"): (
        "depends on the items: dynamodb:PutItem, UpdateItem, DeleteItem or ConditionCheckItem"
    ),
}

# Some services write the API version into eventName: Lambda's
# "CreateFunction20150331" and "UpdateFunctionCode20150331v2" (Lambda Developer
# Guide: "the eventName might include date and version information, but it is
# still referring to the same public API action"), CloudFront's
# "CreateDistribution2020_05_31". Stripped only when the bare name is an action.
VERSIONED_NAME_SUFFIX = re.compile(r"(?:20\d{6}|20\d{2}_\d{2}_\d{2})(?:v\d+)?$")

# API Gateway's management API (v1 and v2) is authorized by HTTP verb on a
# resource path: apigateway:GET, POST, PUT, PATCH, DELETE (Service Authorization
# Reference, "Amazon API Gateway Management"). The event name's leading verb says
# which; names the catalog lists directly (apigateway:GetPortal) match first.
HTTP_VERB_BY_NAME_PREFIX: dict[str, tuple[tuple[str, str], ...]] = {
    "apigateway": (
        ("Get", "GET"),
        ("Create", "POST"),
        ("Update", "PATCH"),
        ("Delete", "DELETE"),
        ("Put", "PUT"),
        ("Tag", "PUT"),
        ("Untag", "DELETE"),
    ),
}


@dataclass(frozen=True)
class EventMapping:
    """How one (source, name, type) reads as IAM.

    action: catalog spelling, or None when the event exercises no grantable action.
    service: the IAM prefix of the event source (set even when action is None).
    access_level: the action's catalog access level, or None.
    mapping: one of ``MAPPINGS``.
    reason: why, in words a report can show.
    additional_actions: further actions the same call needs.
    """

    action: str | None
    service: str | None
    access_level: str | None
    mapping: str
    reason: str
    additional_actions: tuple[str, ...] = ()


def _host_label(event_source: str) -> str:
    return event_source.strip().lower().split(".", 1)[0]


def event_source_prefix(event_source: str) -> str:
    """The IAM prefix of a CloudTrail eventSource (``monitoring.amazonaws.com`` -> ``cloudwatch``)."""
    label = _host_label(event_source)
    return EVENT_SOURCE_PREFIX_ALIASES.get(label, label)


def _name_key(prefix: str, name: str) -> tuple[str, str]:
    return prefix, name.lower()


def _lowered(table: dict[tuple[str, str], object]) -> dict[tuple[str, str], object]:
    return {_name_key(prefix, name): value for (prefix, name), value in table.items()}


_NON_API_NAMES = _lowered(NON_API_EVENT_NAMES)
_PERMISSIONLESS = _lowered(PERMISSIONLESS_EVENTS)
_EXCEPTIONS = _lowered(EVENT_ACTION_EXCEPTIONS)
_AMBIGUOUS = _lowered(AMBIGUOUS_EVENTS)


def _catalog_spelling(action_name: str) -> str:
    entry = lookup(action_name)
    return entry.action if entry is not None else action_name


def _mapped(action_name: str, service: str, mapping: str, reason: str, also: tuple[str, ...] = ()) -> EventMapping:
    entry = lookup(action_name)
    if entry is None:
        return EventMapping(None, service, None, "unmapped", f"{action_name} is not in the action catalog")
    also_spelled = tuple(_catalog_spelling(a) for a in also)
    return EventMapping(entry.action, service, entry.access_level, mapping, reason, also_spelled)


def _unmapped(service: str | None, reason: str) -> EventMapping:
    return EventMapping(None, service, None, "unmapped", reason)


def _http_verb_action(prefix: str, name: str) -> str | None:
    for name_prefix, verb in HTTP_VERB_BY_NAME_PREFIX.get(prefix, ()):
        if name.startswith(name_prefix):
            return f"{prefix}:{verb}"
    return None


def resolve_event(event_source: str | None, event_name: str | None, event_type: str | None = None) -> EventMapping:
    """Read one CloudTrail (eventSource, eventName, eventType) as IAM, rule tables in order:
    not an API call, permissionless, exception, ambiguous, direct (or through a
    prefix alias), versioned name, HTTP verb, else unmapped."""
    if not event_source or not event_name:
        return _unmapped(None, "record has no eventSource or no eventName")
    prefix = event_source_prefix(event_source)
    key = _name_key(prefix, event_name)
    if event_type in NON_API_EVENT_TYPES:
        return EventMapping(None, prefix, None, "not_an_api_call", NON_API_EVENT_TYPES[event_type])
    if key in _NON_API_NAMES:
        return EventMapping(None, prefix, None, "not_an_api_call", _NON_API_NAMES[key])
    if key in _PERMISSIONLESS:
        return EventMapping(None, prefix, None, "permissionless", _PERMISSIONLESS[key])
    if key in _EXCEPTIONS:
        rule = _EXCEPTIONS[key]
        needs = " and ".join((rule.action, *rule.additional_actions))
        reason = f"{event_name} is authorized by {needs} ({rule.source})"
        return _mapped(rule.action, prefix, "exception", reason, rule.additional_actions)
    if key in _AMBIGUOUS:
        return _unmapped(prefix, _AMBIGUOUS[key])

    label = _host_label(event_source)
    if lookup(f"{prefix}:{event_name}") is not None:
        if label != prefix:
            reason = f"event source {label} is IAM prefix {prefix}"
            return _mapped(f"{prefix}:{event_name}", prefix, "prefix_alias", reason)
        return _mapped(f"{prefix}:{event_name}", prefix, "direct", "event name is the action name")
    bare = VERSIONED_NAME_SUFFIX.sub("", event_name)
    if bare != event_name and lookup(f"{prefix}:{bare}") is not None:
        return _mapped(f"{prefix}:{bare}", prefix, "versioned_name", f"API version suffix stripped from {event_name}")
    verb_action = _http_verb_action(prefix, event_name)
    if verb_action is not None:
        reason = f"{prefix} management calls are authorized by HTTP verb: {event_name} is {verb_action}"
        return _mapped(verb_action, prefix, "exception", reason)
    if prefix not in catalog_services():
        return _unmapped(prefix, f"IAM prefix {prefix} (from {event_source}) is not in the action catalog")
    return _unmapped(prefix, f"no catalog action {prefix}:{event_name}")


_OUTPUT_SCHEMA = {
    "action": pl.String,
    "service": pl.String,
    "access_level": pl.String,
    "mapping": pl.String,
    "reason": pl.String,
    "additional_actions": pl.List(pl.String),
}


def map_event_actions(pairs: pl.DataFrame) -> pl.DataFrame:
    """Map distinct CloudTrail (event_source, event_name[, event_type]) to IAM actions.

    Input columns: ``event_source``, ``event_name`` and optionally ``event_type``
    (CloudTrail's eventType; absent or null reads as an API call). Other columns
    are ignored.

    Output: one row per distinct key of the input, in first-seen order, with the
    key columns and ``action`` (catalog spelling or null), ``service`` (IAM
    prefix), ``access_level``, ``mapping`` (one of ``MAPPINGS``), ``reason`` and
    ``additional_actions`` (further actions the same call needs, e.g. the
    ``s3:GetObject`` of a ``CopyObject``). A null ``action`` means the event is
    evidence of no grant; ``mapping`` says whether it was expected
    (``permissionless``, ``not_an_api_call``) or is a gap (``unmapped``).

    Python runs once per distinct key: meant for thousands of pairs, not events.
    """
    missing = [c for c in ("event_source", "event_name") if c not in pairs.columns]
    if missing:
        raise ValueError(f"map_event_actions: missing column(s) {missing}")
    keys = ["event_source", "event_name"] + (["event_type"] if "event_type" in pairs.columns else [])
    distinct = pairs.select(keys).unique(maintain_order=True)
    types = distinct["event_type"].to_list() if "event_type" in keys else [None] * distinct.height
    resolved = [
        resolve_event(source, name, event_type)
        for source, name, event_type in zip(distinct["event_source"].to_list(), distinct["event_name"].to_list(), types)
    ]
    columns = pl.DataFrame(
        {
            "action": [m.action for m in resolved],
            "service": [m.service for m in resolved],
            "access_level": [m.access_level for m in resolved],
            "mapping": [m.mapping for m in resolved],
            "reason": [m.reason for m in resolved],
            "additional_actions": [list(m.additional_actions) for m in resolved],
        },
        schema=_OUTPUT_SCHEMA,
    )
    return pl.concat([distinct, columns], how="horizontal")
