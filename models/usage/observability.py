"""Which granted actions CloudTrail could ever show as used.

"Unused" means "not seen in the logs", which is only evidence where the logs
would have shown the use. Each action falls under the first rule that matches:

1. ``unknown_action``: not in the catalog; nothing can be said.
2. ``not_logged``: the service documents that these calls never reach
   CloudTrail (``NEVER_LOGGED``).
3. ``inferred`` / ``not_logged``: permission-only actions (``iam:PassRole``)
   are checked inside another call and never logged by themselves
   (``PERMISSION_ONLY``). They are ``inferred`` when some catalog action lists
   them as a dependency, so their use shows through the call that needs them
   (``inferred_dependent_actions``); otherwise ``not_logged``.
4. ``data_event`` / ``data_event_not_seen``: data-plane calls are logged only by
   trails that select data events for that resource type (``DATA_EVENT_RULES``).
   They count as observable only for services whose data events appear in the
   inputs.
5. ``management_event``: every other call is a management event, which every
   trail logs by default.

Limits, stated plainly: data events are judged per service, though a trail
selects them per resource type and often per bucket or function, so seeing
some S3 data events does not prove every bucket is logged. The data-event and
never-logged tables cover the services this product meets most (storage,
functions, tables, queues, streams, models, agents); data-plane actions of
other services fall to ``management_event`` and overstate what is observable.
Dependency inference is as complete as the catalog's dependent-action lists,
which miss some real dependencies (e.g. passing a role to
``bedrock:CreateAgent``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import polars as pl

from models.iam.catalog import CatalogAction, action_key, catalog_frame, lookup

OBSERVABILITY_CODES = (
    "management_event",
    "data_event",
    "data_event_not_seen",
    "inferred",
    "not_logged",
    "unknown_action",
)


@dataclass(frozen=True)
class DataEventRule:
    """Actions a trail logs only when it selects data events.

    service: IAM prefix; also the key of the caller's "data events seen" set.
    resource_type: the CloudTrail ``resources.type`` a trail must select.
    action_names: action names (any case) that are data events.
    scoped_to: or every action of the service scoped to one of these catalog
        resource types (S3's object-level actions).
    source: the documentation that says so.
    """

    service: str
    resource_type: str
    source: str
    action_names: frozenset[str] = frozenset()
    scoped_to: frozenset[str] = frozenset()

    def matches(self, action: CatalogAction) -> bool:
        if action.service != self.service:
            return False
        name = action_key(action.action).split(":", 1)[1]
        return name in _lowered_names(self) or not self.scoped_to.isdisjoint(action.resource_types)


@cache
def _lowered_names(rule: DataEventRule) -> frozenset[str]:
    return frozenset(n.lower() for n in rule.action_names)


DATA_EVENT_RULES: tuple[DataEventRule, ...] = (
    # S3 User Guide, "Amazon S3 CloudTrail events": object-level operations are
    # data events; so are the listings (ListObjects, ListObjectVersions,
    # HeadBucket) that read a bucket's objects.
    DataEventRule(
        service="s3",
        resource_type="AWS::S3::Object",
        source="S3 User Guide, Amazon S3 CloudTrail events",
        scoped_to=frozenset({"object"}),
        action_names=frozenset({"ListBucket", "ListBucketVersions", "ListBucketMultipartUploads"}),
    ),
    # Lambda Developer Guide, "Lambda data events in CloudTrail": Invoke only.
    DataEventRule(
        service="lambda",
        resource_type="AWS::Lambda::Function",
        source="Lambda Developer Guide, Lambda data events in CloudTrail",
        action_names=frozenset({"InvokeFunction"}),
    ),
    # DynamoDB Developer Guide, "DynamoDB data plane events in CloudTrail":
    # item reads and writes, PartiQL and transactions on tables; GetRecords and
    # GetShardIterator on streams.
    DataEventRule(
        service="dynamodb",
        resource_type="AWS::DynamoDB::Table",
        source="DynamoDB Developer Guide, DynamoDB data plane events in CloudTrail",
        action_names=frozenset(
            {
                "BatchGetItem", "BatchWriteItem", "ConditionCheckItem", "DeleteItem", "GetItem",
                "PutItem", "Query", "Scan", "UpdateItem", "PartiQLSelect", "PartiQLInsert",
                "PartiQLUpdate", "PartiQLDelete", "GetRecords", "GetShardIterator",
            }
        ),
    ),
    # Bedrock User Guide, "Monitor Amazon Bedrock API calls using CloudTrail":
    # InvokeModel, InvokeModelWithResponseStream, Converse(Stream) are management
    # events; agent, inline agent, knowledge base, flow, prompt rendering,
    # guardrail and async-invoke calls are data events.
    DataEventRule(
        service="bedrock",
        resource_type="AWS::Bedrock::AgentAlias, KnowledgeBase, FlowAlias, Guardrail, Prompt or AsyncInvoke",
        source="Bedrock User Guide, Amazon Bedrock data events in CloudTrail",
        action_names=frozenset(
            {
                "InvokeAgent", "InvokeInlineAgent", "Retrieve", "RetrieveAndGenerate", "InvokeFlow",
                "RenderPrompt", "ApplyGuardrail", "GetAsyncInvoke",
            }
        ),
    ),
    # CloudWatch User Guide, "CloudWatch data events in CloudTrail".
    DataEventRule(
        service="cloudwatch",
        resource_type="AWS::CloudWatch::Metric",
        source="CloudWatch User Guide, CloudWatch data events in CloudTrail",
        action_names=frozenset(
            {"GetMetricData", "GetMetricWidgetImage", "PutMetricData", "GetMetricStatistics", "ListMetrics"}
        ),
    ),
    # SQS Developer Guide, "Amazon SQS data events in CloudTrail" (message APIs).
    DataEventRule(
        service="sqs",
        resource_type="AWS::SQS::Queue",
        source="SQS Developer Guide, Amazon SQS data events in CloudTrail",
        action_names=frozenset({"SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility"}),
    ),
    # CloudTrail User Guide, data events table: SNS Publish and PublishBatch on
    # topics and platform endpoints (PublishBatch is authorized as sns:Publish).
    DataEventRule(
        service="sns",
        resource_type="AWS::SNS::Topic",
        source="CloudTrail User Guide, data events table (Amazon SNS)",
        action_names=frozenset({"Publish"}),
    ),
    # CloudTrail User Guide, data events table: Kinesis Data Streams record APIs.
    DataEventRule(
        service="kinesis",
        resource_type="AWS::Kinesis::Stream",
        source="CloudTrail User Guide, data events table (Kinesis Data Streams)",
        action_names=frozenset({"PutRecord", "PutRecords", "GetRecords", "GetShardIterator", "SubscribeToShard"}),
    ),
    # EBS User Guide, "Log API calls for EBS direct APIs with CloudTrail": block
    # reads and writes are data events; StartSnapshot/CompleteSnapshot are not.
    DataEventRule(
        service="ebs",
        resource_type="AWS::EC2::Snapshot",
        source="EBS User Guide, EBS direct APIs in CloudTrail",
        action_names=frozenset({"GetSnapshotBlock", "PutSnapshotBlock", "ListChangedBlocks", "ListSnapshotBlocks"}),
    ),
    # CloudTrail User Guide, data events table: SageMaker endpoints log
    # InvokeEndpointWithResponseStream as a data event.
    DataEventRule(
        service="sagemaker",
        resource_type="AWS::SageMaker::Endpoint",
        source="CloudTrail User Guide, data events table (SageMaker endpoint)",
        action_names=frozenset({"InvokeEndpointWithResponseStream"}),
    ),
)

# Actions whose calls never reach CloudTrail, by case-insensitive pattern.
NEVER_LOGGED: dict[str, str] = {
    # SageMaker Developer Guide, "Log Amazon SageMaker API calls with CloudTrail":
    # "CloudTrail captures all API calls for SageMaker, with the exception of
    # InvokeEndpoint and InvokeEndpointAsync".
    "sagemaker:InvokeEndpoint": "SageMaker does not log InvokeEndpoint to CloudTrail",
    "sagemaker:InvokeEndpointAsync": "SageMaker does not log InvokeEndpointAsync to CloudTrail",
    # CloudWatch User Guide, "Logging Amazon CloudWatch API calls": the log-event
    # read and write APIs are not logged.
    "logs:PutLogEvents": "CloudWatch Logs does not log PutLogEvents to CloudTrail",
    "logs:GetLogEvents": "CloudWatch Logs does not log GetLogEvents to CloudTrail",
    "logs:FilterLogEvents": "CloudWatch Logs does not log FilterLogEvents to CloudTrail",
    # API Gateway: CloudTrail records the management API (apigateway:*), not
    # requests to deployed APIs, which API Gateway access logging records.
    "execute-api:*": "invocations of deployed API Gateway APIs are not CloudTrail events (access logs record them)",
    # OpenSearch Service: CloudTrail records the configuration API (es:Create*,
    # es:Describe*...), not HTTP requests to a domain (audit logs record them).
    "es:ESHttp*": "HTTP requests to an OpenSearch domain are not CloudTrail events (domain audit logs record them)",
    # RDS IAM database authentication: the connection is authorized by the
    # database engine, not an AWS API call.
    "rds-db:connect": "IAM database authentication happens in the database connection, not in an AWS API call",
    # Lambda Developer Guide lists Invoke as its only data API: requests to a
    # function URL are HTTP requests, not Invoke calls.
    "lambda:InvokeFunctionUrl": "requests to a Lambda function URL are not CloudTrail events",
}

# Permission-only actions: checked during another call, never called themselves.
PERMISSION_ONLY: dict[str, str] = {
    # IAM User Guide, "Granting a user permissions to pass a role to an AWS
    # service": PassRole is a permission, not an API. Other Pass* actions
    # (lambda:PassCapacityProvider, glue:PassConnection...) follow the pattern.
    "*:Pass*": "passing a resource to a service is checked inside the call that creates or updates it",
    # IAM User Guide, session tags and source identity: checked on AssumeRole*.
    "sts:TagSession": "checked when an AssumeRole call passes session tags",
    "sts:SetSourceIdentity": "checked when an AssumeRole call sets a source identity",
    # S3 User Guide, Object Lock: checked on deletes and retention changes that
    # send x-amz-bypass-governance-retention.
    "s3:BypassGovernanceRetention": "checked when a delete or retention change bypasses governance mode",
    # S3 User Guide, replication ownership override.
    "s3:ObjectOwnerOverrideToBucketOwner": "checked when replication changes replica ownership",
}


@cache
def _compiled(rows: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Wildcard patterns (``*``, ``?``, any case) as regexes, in table order."""
    return tuple(
        (re.compile(re.escape(action_key(pattern)).replace(r"\*", ".*").replace(r"\?", ".")), reason)
        for pattern, reason in rows
    )


def _first_matching_reason(table: dict[str, str], key: str) -> str | None:
    return next((reason for regex, reason in _compiled(tuple(table.items())) if regex.fullmatch(key)), None)


@cache
def _dependency_keys() -> frozenset[str]:
    """Every action some catalog action lists as a dependency."""
    deps = catalog_frame().select(pl.col("dependent_actions").explode().drop_nulls().str.to_lowercase())
    return frozenset(deps.to_series().to_list())


@dataclass(frozen=True)
class Observability:
    """Whether an action's use can show in CloudTrail, and why.

    is_observable: a use would be logged (or inferred from a logged call).
    code: one of ``OBSERVABILITY_CODES``.
    reason: words a report can show.
    """

    is_observable: bool
    code: str
    reason: str


def data_event_rule(action: CatalogAction) -> DataEventRule | None:
    """The data-event rule an action falls under, if any."""
    return next((rule for rule in DATA_EVENT_RULES if rule.matches(action)), None)


def classify_action(action: str, data_event_services_seen: frozenset[str] = frozenset()) -> Observability:
    """The observability of one action, by the rules in the module docstring."""
    entry = lookup(action)
    if entry is None:
        return Observability(False, "unknown_action", f"{action} is not in the action catalog")
    key = action_key(entry.action)
    never = _first_matching_reason(NEVER_LOGGED, key)
    if never is not None:
        return Observability(False, "not_logged", never)
    permission_only = _first_matching_reason(PERMISSION_ONLY, key)
    if permission_only is not None:
        if key in _dependency_keys():
            reason = f"permission-only ({permission_only}); inferred from the logged calls that need it"
            return Observability(True, "inferred", reason)
        reason = f"permission-only ({permission_only}); no catalog action lists it as a dependency"
        return Observability(False, "not_logged", reason)
    rule = data_event_rule(entry)
    if rule is not None:
        if entry.service in data_event_services_seen:
            reason = f"data event ({rule.resource_type}); {entry.service} data events are in the inputs"
            return Observability(True, "data_event", reason)
        reason = f"data event ({rule.resource_type}), logged only if a trail selects it; none seen for {entry.service}"
        return Observability(False, "data_event_not_seen", reason)
    return Observability(True, "management_event", "management event: every trail logs it by default")


def _services_seen(data_event_services_seen: Iterable[str] | pl.DataFrame | None) -> frozenset[str]:
    if data_event_services_seen is None:
        return frozenset()
    if isinstance(data_event_services_seen, pl.DataFrame):
        data_event_services_seen = data_event_services_seen["service"].drop_nulls().to_list()
    return frozenset(s.lower() for s in data_event_services_seen)


def action_observability(
    actions: pl.DataFrame | None = None,
    data_event_services_seen: Iterable[str] | pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Mark actions observable in CloudTrail or not.

    actions: a frame with an ``action`` column (e.g. one identity's granted
        actions; other columns are carried through); None means the whole catalog.
    data_event_services_seen: IAM prefixes whose data events appear in the
        inputs (``{"s3"}``), or a frame with a ``service`` column
        (``services_with_data_events`` computes it from mapped events).

    Returns the input rows with ``service``, ``access_level`` (null for actions
    the catalog does not know), ``is_observable``, ``observability`` (one of
    ``OBSERVABILITY_CODES``) and ``observability_reason``.
    """
    frame = catalog_frame().select("action") if actions is None else actions
    if "action" not in frame.columns:
        raise ValueError("action_observability: missing column 'action'")
    seen = _services_seen(data_event_services_seen)
    spellings = (
        frame.select("action", pl.col("action").str.to_lowercase().alias("_key"))
        .drop_nulls("_key")
        .unique(subset="_key", keep="first", maintain_order=True)
    )
    verdicts = {key: classify_action(action, seen) for action, key in spellings.iter_rows()}
    entries = {key: lookup(key) for key in verdicts}
    per_key = pl.DataFrame(
        {
            "_key": list(verdicts),
            "service": [e.service if e else k.split(":", 1)[0] for k, e in entries.items()],
            "access_level": [e.access_level if e else None for e in entries.values()],
            "is_observable": [v.is_observable for v in verdicts.values()],
            "observability": [v.code for v in verdicts.values()],
            "observability_reason": [v.reason for v in verdicts.values()],
        },
        schema={
            "_key": pl.String,
            "service": pl.String,
            "access_level": pl.String,
            "is_observable": pl.Boolean,
            "observability": pl.String,
            "observability_reason": pl.String,
        },
    )
    return (
        frame.with_columns(pl.col("action").str.to_lowercase().alias("_key"))
        .join(per_key, on="_key", how="left", maintain_order="left")
        .drop("_key")
    )


def services_with_data_events(mapped_events: pl.DataFrame) -> frozenset[str]:
    """IAM prefixes with at least one data-event action among ``mapped_events``
    (a frame with an ``action`` column, e.g. ``map_event_actions`` output
    restricted to events present in the inputs)."""
    actions = mapped_events["action"].drop_nulls().unique().to_list()
    entries = (lookup(a) for a in actions)
    return frozenset(e.service for e in entries if e is not None and data_event_rule(e) is not None)


@cache
def _catalog_dependencies() -> pl.DataFrame:
    """Each catalog action with each dependent action it names: built once, asked for once per identity."""
    catalog = catalog_frame()
    return (
        catalog.select("action_key", pl.col("dependent_actions").alias("_dependent"))
        .explode("_dependent")
        .drop_nulls("_dependent")
        .with_columns(pl.col("_dependent").str.to_lowercase().alias("_dependent_key"))
        .join(
            catalog.select(pl.col("action_key").alias("_dependent_key"), pl.col("action").alias("_dependent_action")),
            on="_dependent_key",
            how="left",
        )
    )


def inferred_dependent_actions(used: pl.DataFrame | Iterable[str]) -> pl.DataFrame:
    """The actions the used ones imply, from the catalog's dependent actions
    (``lambda:CreateFunction`` needs ``iam:PassRole``).

    used: a frame with an ``action`` column (other columns, e.g. ``identity_id``,
        are carried through as the grouping) or plain action names.

    Returns distinct rows of the carried columns, ``action`` (the dependent
    action, catalog spelling) and ``inferred_from`` (the used action as given).
    An action is not listed as implied by itself.
    """
    if not isinstance(used, pl.DataFrame):
        used = pl.DataFrame({"action": list(used)}, schema={"action": pl.String})
    frame = used
    carried = [c for c in frame.columns if c != "action"]
    return (
        frame.with_columns(pl.col("action").str.to_lowercase().alias("action_key"))
        .join(_catalog_dependencies(), on="action_key", how="inner")
        .filter(pl.col("_dependent_key") != pl.col("action_key"))
        .select(
            *carried,
            pl.coalesce("_dependent_action", "_dependent").alias("action"),
            pl.col("action").alias("inferred_from"),
        )
        .unique(maintain_order=True)
    )
