"""The synthetic organisation behind ``scale``: who exists, what they run, what they are granted.

Rules as data: ``CALLS`` (each API call a workload can make, how CloudTrail logs it
and what IAM must allow), ``FAMILY_CALLS`` (which calls each family of workload
makes, how often), ``DENIALS`` (calls outside the grant, with AWS's error) and
``IDENTITY_KINDS`` (service roles, data roles, AI agent roles trusted by AI
services, cross-account roles, service users with access keys, people).

``build_organisation`` is a pure function of the seed and three sizes (accounts,
identities, customer managed policies), never of dates. Every identity is granted
at least what its workload calls (a narrow managed policy, or an inline one), and
often more: its workload's service wildcards, a broad customer policy, an AWS
managed one, AWS Bedrock full access for AI roles. Policy documents are built from
action patterns and from the action catalog (extra, unused actions), never from
hand-written action lists.

IAM entities are the sample's dataclasses, turned into ``get-account-authorization-details``
entries by the sample's builders, so both organisations are exported the same way.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from models.collector import gc_paused
from pipelines.synth import formats as fmt
from pipelines.synth.sample import (
    AWS_MANAGED,
    CHROME,
    FIREFOX,
    GLUE_SDK,
    LAMBDA_BOTO3,
    PLAIN_BOTO3,
    Group,
    ManagedPolicy,
    Role,
    User,
    _group_detail,
    _policy_detail,
    _role_detail,
    _user_detail,
    account_trust,
    allow,
    document,
    service_trust,
)

REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
PAGE_MAX_ITEMS = 1000  # entities per page of the IAM export, as --max-items pages it
ZIPF_EXPONENT = 1.1
DORMANT_SHARE = 0.12
ORG_CREATED = (datetime(2021, 1, 4, tzinfo=UTC), datetime(2025, 6, 30, tzinfo=UTC))
MODELS = ("anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0",
          "amazon.titan-embed-text-v2:0", "meta.llama3-1-70b-instruct-v1:0")


# --- what workloads call, as data ----------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Software some identities run as: its account and region, the calls it makes
    and the resources they touch (named after the workload)."""

    index: int
    account: str
    region: str
    family: str
    name: str
    calls: tuple[str, ...]
    cum_weights: tuple[float, ...]
    model_id: str
    source_ip: str
    user_agent: str
    is_console: bool

    @property
    def bucket(self) -> str:
        return f"{self.name}-{self.account}"


@dataclass(frozen=True)
class CallKind:
    """One call a workload makes.

    build: its CloudTrail shape for a workload and a variant (object keys differ by variant).
    actions: the IAM actions it needs; resource: the ARN they need.
    variants: how many shapes to rotate through; is_daily: the shape names the day.
    """

    build: Callable[[fmt.CallContext, Workload, int], fmt.ApiCall]
    actions: tuple[str, ...]
    resource: Callable[[Workload], str]
    variants: int = 1
    is_daily: bool = False


def _arn(service: str, w: Workload, rest: str) -> str:
    return f"arn:aws:{service}:{w.region}:{w.account}:{rest}"


def _fixed(source: str, name: str, read_only: bool, params: Callable[[Workload], dict] | None = None,
           resources: Callable[[Workload], tuple] = lambda w: ()) -> Callable:
    return lambda c, w, v: fmt.ApiCall(source, name, read_only, params=params(w) if params else None,
                                       resources=resources(w))


def _table(w: Workload) -> str:
    return w.name.replace("-", "_")


def _object_key(w: Workload, v: int) -> str:
    return f"{w.family}/{w.name}/part-{v:04d}.parquet"


CALLS: dict[str, CallKind] = {
    "s3-get": CallKind(lambda c, w, v: fmt.s3_object_call(c, "GetObject", w.bucket, _object_key(w, v)),
                       ("s3:GetObject",), lambda w: f"arn:aws:s3:::{w.bucket}/*", variants=4),
    "s3-head": CallKind(lambda c, w, v: fmt.s3_object_call(c, "HeadObject", w.bucket, _object_key(w, v)),
                        ("s3:GetObject",), lambda w: f"arn:aws:s3:::{w.bucket}/*", variants=2),
    "s3-put": CallKind(lambda c, w, v: fmt.s3_object_call(c, "PutObject", w.bucket, _object_key(w, v)),
                       ("s3:PutObject",), lambda w: f"arn:aws:s3:::{w.bucket}/*", variants=4),
    "s3-list": CallKind(lambda c, w, v: fmt.s3_list_call(c, w.bucket, f"{w.family}/"),
                        ("s3:ListBucket",), lambda w: f"arn:aws:s3:::{w.bucket}"),
    "dynamodb-get": CallKind(lambda c, w, v: fmt.dynamodb_item_call(c, "GetItem", w.name),
                             ("dynamodb:GetItem",), lambda w: _arn("dynamodb", w, f"table/{w.name}")),
    "dynamodb-query": CallKind(lambda c, w, v: fmt.dynamodb_item_call(c, "Query", w.name),
                               ("dynamodb:Query",), lambda w: _arn("dynamodb", w, f"table/{w.name}")),
    "dynamodb-put": CallKind(lambda c, w, v: fmt.dynamodb_item_call(c, "PutItem", w.name),
                             ("dynamodb:PutItem",), lambda w: _arn("dynamodb", w, f"table/{w.name}")),
    "bedrock-invoke": CallKind(lambda c, w, v: fmt.bedrock_invoke_call(c, w.model_id), ("bedrock:InvokeModel",),
                               lambda w: f"arn:aws:bedrock:{w.region}::foundation-model/{w.model_id}"),
    "lambda-invoke": CallKind(lambda c, w, v: fmt.lambda_invoke_call(c, w.name), ("lambda:InvokeFunction",),
                              lambda w: fmt.function_arn(w.name, w.account, w.region)),
    "lambda-get": CallKind(lambda c, w, v: fmt.lambda_get_call(c, w.name), ("lambda:GetFunction",),
                           lambda w: fmt.function_arn(w.name, w.account, w.region)),
    "lambda-update": CallKind(lambda c, w, v: fmt.lambda_update_code_call(c, w.name, w.bucket),
                              ("lambda:UpdateFunctionCode",), lambda w: fmt.function_arn(w.name, w.account, w.region),
                              is_daily=True),
    "lambda-list": CallKind(_fixed("lambda.amazonaws.com", "ListFunctions20150331", True),
                            ("lambda:ListFunctions",), lambda w: "*"),
    "sqs-send": CallKind(lambda c, w, v: fmt.sqs_send_call(c, f"{w.name}-jobs"), ("sqs:SendMessage",),
                         lambda w: _arn("sqs", w, f"{w.name}-jobs")),
    "athena-start": CallKind(lambda c, w, v: fmt.athena_start_call(c, "primary", "analytics",
                                                                   f"SELECT * FROM {_table(w)} LIMIT 100"),
                             ("athena:StartQueryExecution",), lambda w: _arn("athena", w, "workgroup/primary")),
    "athena-results": CallKind(lambda c, w, v: fmt.athena_query_call(c, "GetQueryResults"),
                               ("athena:GetQueryResults",), lambda w: _arn("athena", w, "workgroup/primary")),
    "glue-table": CallKind(lambda c, w, v: fmt.glue_get_table_call(c, "analytics", _table(w)),
                           ("glue:GetTable",), lambda w: _arn("glue", w, "*")),
    "logs-stream": CallKind(lambda c, w, v: fmt.logs_create_stream_call(c, f"/aws/lambda/{w.name}"),
                            ("logs:CreateLogStream",), lambda w: _arn("logs", w, f"log-group:/aws/lambda/{w.name}:*"),
                            is_daily=True),
    "logs-filter": CallKind(_fixed("logs.amazonaws.com", "FilterLogEvents", True,
                                   lambda w: {"logGroupName": f"/aws/lambda/{w.name}", "limit": 100}),
                            ("logs:FilterLogEvents",), lambda w: _arn("logs", w, "log-group:*")),
    "cloudwatch-metrics": CallKind(lambda c, w, v: fmt.cloudwatch_metric_data_call(c, "AWS/Lambda", "Invocations"),
                                   ("cloudwatch:GetMetricData",), lambda w: "*", is_daily=True),
    "kms-decrypt": CallKind(_fixed("kms.amazonaws.com", "Decrypt", True,
                                   lambda w: {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                                   lambda w: (fmt.resource(_arn("kms", w, f"key/{fmt.stable_uuid('kms', w.name)}"),
                                                           "AWS::KMS::Key", w.account),)),
                            ("kms:Decrypt",), lambda w: _arn("kms", w, f"key/{fmt.stable_uuid('kms', w.name)}")),
    "secret-get": CallKind(_fixed("secretsmanager.amazonaws.com", "GetSecretValue", True,
                                  lambda w: {"secretId": f"{w.name}/api-token"}),
                           ("secretsmanager:GetSecretValue",),
                           lambda w: _arn("secretsmanager", w, f"secret:{w.name}/*")),
    "ssm-param": CallKind(_fixed("ssm.amazonaws.com", "GetParameter", True,
                                 lambda w: {"name": f"/{w.name}/config", "withDecryption": True}),
                          ("ssm:GetParameter",), lambda w: _arn("ssm", w, f"parameter/{w.name}/*")),
    "ec2-describe": CallKind(_fixed("ec2.amazonaws.com", "DescribeInstances", True,
                                    lambda w: {"instancesSet": {}, "filterSet": {}}),
                             ("ec2:DescribeInstances",), lambda w: "*"),
    "iam-list-roles": CallKind(_fixed("iam.amazonaws.com", "ListRoles", True, lambda w: {"maxItems": 100}),
                               ("iam:ListRoles",), lambda w: "*"),
    "iam-get-role": CallKind(_fixed("iam.amazonaws.com", "GetRole", True, lambda w: {"roleName": w.name}),
                             ("iam:GetRole",), lambda w: f"arn:aws:iam::{w.account}:role/*"),
    "cfn-describe": CallKind(_fixed("cloudformation.amazonaws.com", "DescribeStacks", True,
                                    lambda w: {"stackName": w.name}),
                             ("cloudformation:DescribeStacks",),
                             lambda w: _arn("cloudformation", w, f"stack/{w.name}/*")),
}

# Calls each family of workload draws from, with their relative frequency.
FAMILY_CALLS: dict[str, tuple[tuple[str, int], ...]] = {
    "ai": (("bedrock-invoke", 40), ("s3-get", 15), ("dynamodb-query", 12), ("dynamodb-put", 5), ("sqs-send", 5),
           ("logs-stream", 4), ("kms-decrypt", 6), ("s3-list", 5), ("secret-get", 4), ("lambda-invoke", 4)),
    "service": (("dynamodb-get", 20), ("dynamodb-put", 10), ("s3-get", 18), ("s3-put", 10), ("s3-head", 4),
                ("sqs-send", 10), ("kms-decrypt", 10), ("logs-stream", 4), ("lambda-invoke", 5), ("ssm-param", 9)),
    "deploy": (("lambda-get", 15), ("lambda-update", 5), ("cfn-describe", 30), ("s3-put", 10), ("iam-get-role", 20),
               ("ec2-describe", 20)),
    "data": (("s3-put", 20), ("s3-get", 25), ("s3-list", 10), ("athena-start", 10), ("athena-results", 15),
             ("glue-table", 10), ("cloudwatch-metrics", 10)),
    "ops": (("ec2-describe", 30), ("iam-list-roles", 15), ("cloudwatch-metrics", 20), ("logs-filter", 15),
            ("lambda-list", 10), ("s3-list", 10)),
}


@dataclass(frozen=True)
class Denial:
    """A call outside the grant, logged with AWS's error; ``{arn}`` in message is the caller."""

    call: Callable[[fmt.CallContext, Workload, int], fmt.ApiCall]
    error_code: str
    message: str


def _not_authorized(action: str, resource: str) -> str:
    return (f"User: {{arn}} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action")


DENIALS = (
    Denial(lambda c, w, v: fmt.s3_object_call(c, "GetObject", f"restricted-{w.account}", "payroll/latest.csv", size=0),
           "AccessDenied", "Access Denied"),
    Denial(_fixed("iam.amazonaws.com", "CreateUser", False, lambda w: {"userName": f"{w.name}-temp"}),
           "AccessDenied", _not_authorized("iam:CreateUser", "arn:aws:iam::{account}:user/{name}-temp")),
    Denial(_fixed("secretsmanager.amazonaws.com", "GetSecretValue", True, lambda w: {"secretId": "prod/db-master"}),
           "AccessDeniedException", _not_authorized("secretsmanager:GetSecretValue",
                                                    "arn:aws:secretsmanager:{region}:{account}:secret:prod/db-master")),
    Denial(_fixed("ec2.amazonaws.com", "RunInstances", False,
                  lambda w: {"instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1,
                                                         "maxCount": 1}]}, "instanceType": "p4d.24xlarge"}),
           "Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: {arn} is not "
                                           "authorized to perform: ec2:RunInstances"),
)


# --- who exists, as data ---------------------------------------------------------------


@dataclass(frozen=True)
class IdentityKind:
    """A kind of identity: how many there are, what they run and how they authenticate.

    principals: AWS services its roles trust (empty for users and cross-account roles).
    """

    name: str
    share: float
    family: str
    is_role: bool
    stems: tuple[str, ...]
    user_agent: str
    principals: tuple[str, ...] = ()
    is_ai: bool = False
    is_console: bool = False


# AWS AI services whose roles count as AI identities (README: "Which identities are AI").
AI_PRINCIPALS = ("bedrock.amazonaws.com", "sagemaker.amazonaws.com", "bedrock-agentcore.amazonaws.com")

IDENTITY_KINDS = (
    IdentityKind("service-role", 0.34, "service", True,
                 ("orders-api", "billing-worker", "ingest", "scheduler", "thumbnailer", "search-indexer"),
                 LAMBDA_BOTO3, ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com")),
    IdentityKind("data-role", 0.08, "data", True, ("etl-job", "nightly-export", "lakehouse-compactor"), GLUE_SDK,
                 ("glue.amazonaws.com",)),
    IdentityKind("ai-agent-role", 0.17, "ai", True,
                 ("support-agent", "rag-agent", "triage-bot", "summarizer-llm", "research-assistant", "codegen-agent"),
                 PLAIN_BOTO3, (*AI_PRINCIPALS, "lambda.amazonaws.com"), is_ai=True),
    IdentityKind("cross-account-role", 0.08, "deploy", True, ("deployer", "release-automation", "config-auditor"),
                 PLAIN_BOTO3),
    IdentityKind("service-user", 0.15, "data", False,
                 ("ci-bot", "reporting-bot", "backup-sync", "legacy-integration", "metrics-exporter"), PLAIN_BOTO3),
    IdentityKind("person", 0.18, "ops", False,
                 ("alice", "bob", "chen", "dana", "emeka", "farah", "gita", "hiro", "ines", "jonas"), CHROME,
                 is_console=True),
)
KINDS = {kind.name: kind for kind in IDENTITY_KINDS}
TEAMS = ("platform", "payments", "customer-support", "analytics", "ml-platform", "security", "growth")
ENVIRONMENTS = ("prod", "staging", "dev")


@dataclass(frozen=True)
class Identity:
    """An IAM role or user of the organisation, and how it behaves in the trail.

    weight: its share of the day's events before normalising (0: dormant).
    active_chance: the chance it does anything on a given day.
    started_by: the AWS service that opens its sessions, or "" (users; cross-account roles).
    caller: for a cross-account role, the identity of another account that assumes it.
    """

    index: int
    kind: str
    account: str
    name: str
    workload: int
    weight: float
    active_chance: float
    sessions_per_day: int
    started_by: str = ""
    is_role: bool = True
    is_console: bool = False
    caller: int | None = None
    is_ai_tagged: bool = False

    @property
    def arn(self) -> str:
        kind = "role" if self.is_role else "user"
        return f"arn:aws:iam::{self.account}:{kind}/{self.name}"

    @property
    def unique_id(self) -> str:
        return fmt.iam_unique_id("role" if self.is_role else "user", self.account, self.name)


@dataclass(frozen=True)
class Organisation:
    """Everything that does not change from day to day."""

    seed: str
    accounts: tuple[str, ...]
    workloads: tuple[Workload, ...]
    identities: tuple[Identity, ...]
    policies: dict[str, ManagedPolicy]  # customer managed, by name
    roles: tuple[Role, ...]
    users: tuple[User, ...]
    groups: tuple[Group, ...]


# --- building the organisation ----------------------------------------------------------


def _account_ids(rng: random.Random, count: int) -> tuple[str, ...]:
    ids: list[str] = []
    while len(ids) < count:
        candidate = str(rng.randrange(10**11, 10**12))
        if candidate not in ids:
            ids.append(candidate)
    return tuple(ids)


def _apportion(total: int, shares: Sequence[float]) -> list[int]:
    """``total`` split by ``shares`` exactly (largest remainder)."""
    raw = [total * share / sum(shares) for share in shares]
    counts = [math.floor(r) for r in raw]
    for index in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[: total - sum(counts)]:
        counts[index] += 1
    return counts


def _created(rng: random.Random) -> datetime:
    start, end = ORG_CREATED
    return (start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))).replace(microsecond=0)


def _workloads(rng: random.Random, planned: list[tuple[str, str]]) -> tuple[list[Workload], list[int]]:
    """Workloads for the planned (kind, account) identities (about a dozen identities of a kind
    share one), and each identity's workload."""
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, (kind, account) in enumerate(planned):
        members[(kind, account)].append(index)
    workloads: list[Workload] = []
    assigned = [0] * len(planned)
    for (kind_name, account), indices in sorted(members.items()):
        kind = KINDS[kind_name]
        count = max(1, len(indices) // 12)
        first = len(workloads)
        for _ in range(count):
            choices = FAMILY_CALLS[kind.family]
            picked = sorted(rng.sample(range(len(choices)), rng.randint(min(3, len(choices)), len(choices))))
            weights = [choices[i][1] for i in picked]
            workloads.append(Workload(
                index=len(workloads), account=account,
                region=REGIONS[0] if rng.random() < 0.75 else rng.choice(REGIONS[1:]), family=kind.family,
                name=f"{kind.family}-{rng.choice(TEAMS)}-{len(workloads):05d}",
                calls=tuple(choices[i][0] for i in picked),
                cum_weights=tuple(sum(weights[: j + 1]) for j in range(len(weights))), model_id=rng.choice(MODELS),
                source_ip=f"{rng.choice(('198.51.100', '203.0.113', '192.0.2'))}.{rng.randrange(1, 255)}",
                user_agent=rng.choice((CHROME, FIREFOX)) if kind.is_console else kind.user_agent,
                is_console=kind.is_console))
        for position, index in enumerate(indices):
            assigned[index] = first + position % count
    return workloads, assigned


def _identities(rng: random.Random, accounts: Sequence[str], count: int) -> tuple[list[Identity], list[Workload]]:
    counts = _apportion(count, [kind.share for kind in IDENTITY_KINDS])
    planned = [(kind.name, accounts[i % len(accounts)])
               for kind, n in zip(IDENTITY_KINDS, counts, strict=True) for i in range(n)]
    rng.shuffle(planned)
    workloads, assigned = _workloads(rng, planned)
    ranks = list(range(count))
    rng.shuffle(ranks)  # who is busy is unrelated to who was made first
    dormant = set(rng.sample(range(count), int(count * DORMANT_SHARE))) if count >= 4 else set()
    dormant.discard(ranks.index(0))
    total_weight = sum(1 / (r + 1) ** ZIPF_EXPONENT for r in range(count))
    identities = []
    for index, (kind_name, account) in enumerate(planned):
        kind = KINDS[kind_name]
        weight = 0.0 if index in dormant else 1 / (ranks[index] + 1) ** ZIPF_EXPONENT
        busy = weight / total_weight  # share of a day's events, expected
        identities.append(Identity(
            index=index, kind=kind_name, account=account, name=f"{rng.choice(kind.stems)}-{index:05d}",
            workload=assigned[index], weight=weight,
            active_chance=1.0 if ranks[index] == 0 else rng.choice((0.5, 0.8, 1.0, 1.0)),
            sessions_per_day=min(24, 1 + int(busy * 2000)),
            started_by=rng.choice(kind.principals) if kind.principals else "",
            is_role=kind.is_role, is_console=kind.is_console, is_ai_tagged=kind.is_ai and rng.random() < 0.5))
    return _with_callers(rng, identities), workloads


def _with_callers(rng: random.Random, identities: list[Identity]) -> list[Identity]:
    """Each cross-account role gets a service role of another account that assumes it
    (with a single account, a service principal opens its sessions instead)."""
    by_account: dict[str, list[int]] = defaultdict(list)
    for identity in identities:
        if identity.kind == "service-role":
            by_account[identity.account].append(identity.index)
    accounts = sorted(by_account)
    result = []
    for identity in identities:
        if identity.kind == "cross-account-role":
            others = [account for account in accounts if account != identity.account]
            identity = (replace(identity, caller=rng.choice(by_account[rng.choice(others)])) if others
                        else replace(identity, started_by="lambda.amazonaws.com"))
        result.append(identity)
    return result


# --- policies ------------------------------------------------------------------------------

AWS_MANAGED_LIKE = {
    **AWS_MANAGED,
    # Shortened versions of AWS managed policies of these names: the same shape (NotAction, service wildcards).
    "PowerUserAccess": ManagedPolicy("PowerUserAccess", "aws", datetime(2015, 2, 6, 18, 39, 47, tzinfo=UTC), (
        ("v5", datetime(2023, 7, 6, 22, 4, 0, tzinfo=UTC), document(
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            allow(["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
                   "organizations:DescribeOrganization", "account:ListRegions"], "*"))),)),
    "ReadOnlyAccess": ManagedPolicy("ReadOnlyAccess", "aws", datetime(2015, 2, 6, 18, 39, 48, tzinfo=UTC), (
        ("v110", datetime(2025, 1, 14, 19, 0, 0, tzinfo=UTC), document(allow(
            [f"{service}:{verb}*" for service in ("ec2", "s3", "iam", "lambda", "dynamodb", "logs", "cloudwatch",
                                                  "sqs", "kms", "athena", "glue", "bedrock", "cloudformation")
             for verb in ("Describe", "Get", "List")], "*"))),)),
    "AmazonBedrockFullAccess": ManagedPolicy("AmazonBedrockFullAccess", "aws",
                                             datetime(2023, 12, 12, 20, 0, 0, tzinfo=UTC), (
        ("v4", datetime(2024, 11, 2, 1, 0, 0, tzinfo=UTC), document(
            allow("bedrock:*", "*"), allow(["kms:DescribeKey", "iam:ListRoles", "ec2:Describe*"], "*"))),)),
}
BROAD_AWS = ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "AmazonS3ReadOnlyAccess")
BROAD_CUSTOMER: dict[str, dict] = {
    "platform-admin": document(allow("*", "*")),
    "power-user": document({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}),
    "data-platform": document(allow(["s3:*", "athena:*", "glue:*", "dynamodb:*"], "*"),
                              {"Effect": "Deny", "Action": ["s3:DeleteBucket", "dynamodb:DeleteTable"],
                               "Resource": "*"}),
    "ai-platform": document(allow(["bedrock:*", "sagemaker:*", "s3:*"], "*")),
    "read-everything": document(allow([f"{service}:{verb}*" for service in ("ec2", "s3", "lambda", "dynamodb", "sqs",
                                                                            "secretsmanager", "ssm", "kms", "rds")
                                       for verb in ("Describe", "Get", "List")], "*")),
}


def _services(workload: Workload) -> list[str]:
    return sorted({action.split(":")[0] for call in workload.calls for action in CALLS[call].actions})


def _actions_by_service() -> dict[str, list[str]]:
    from models.iam.catalog import catalog_actions  # the catalog loads once, only when policies are built

    by_service: dict[str, list[str]] = defaultdict(list)
    for entry in catalog_actions().values():
        by_service[entry.service].append(entry.action)
    return {service: sorted(actions) for service, actions in by_service.items()}


def narrow_document(rng: random.Random, workload: Workload, catalog: dict[str, list[str]]) -> dict:
    """Exactly what the workload calls, on its resources, often with a few actions it never uses."""
    by_resource: dict[str, set[str]] = defaultdict(set)
    for call in workload.calls:
        by_resource[CALLS[call].resource(workload)].update(CALLS[call].actions)
    if rng.random() < 0.6:
        service = rng.choice(_services(workload))
        extras = rng.sample(catalog.get(service, []), min(len(catalog.get(service, [])), rng.randint(1, 4)))
        by_resource["*" if rng.random() < 0.5 else next(iter(sorted(by_resource)))].update(extras)
    return document(*(allow(sorted(actions), resource) for resource, actions in sorted(by_resource.items())))


def wildcard_document(rng: random.Random, workload: Workload) -> dict:
    """The workload's services by wildcard: ``s3:*`` or ``s3:Get*``/``s3:List*``..., often on every resource."""
    statements = []
    for service in _services(workload):
        actions = f"{service}:*" if rng.random() < 0.5 else [f"{service}:{v}*" for v in ("Get", "List", "Describe",
                                                                                           "Put", "Invoke", "Query")]
        statement = allow(actions, "*")
        if rng.random() < 0.15:
            statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": workload.region}}
        statements.append(statement)
    return document(*statements)


def _policy(name: str, account: str, rng: random.Random, doc: dict) -> ManagedPolicy:
    created = _created(rng)
    versions = [("v2" if rng.random() < 0.2 else "v1", created + timedelta(days=rng.randint(0, 300)), doc)]
    if versions[0][0] == "v2":  # an older, broader version stays in the list but grants nothing
        versions.append(("v1", created, document(allow("*", "*"))))
    return ManagedPolicy(name, account, created, tuple(versions))


@dataclass(frozen=True)
class PolicyPlan:
    """The customer managed policies by name, and which serve what: each workload's narrow
    and wildcard policy, each account's broad ones."""

    policies: dict[str, ManagedPolicy]
    narrow_of: dict[int, str]
    wildcard_of: dict[int, str]
    broad_of: dict[str, list[str]]


def _customer_policies(rng: random.Random, count: int, accounts: Sequence[str], workloads: Sequence[Workload]
                       ) -> PolicyPlan:
    """``count`` customer managed policies: half narrow (one per workload while workloads
    last, then further versions of them, attached to nobody), a third service wildcards,
    the rest broad."""
    narrow_count, wildcard_count, _ = _apportion(count, (0.5, 0.35, 0.15))
    catalog = _actions_by_service() if count else {}
    plan = PolicyPlan({}, {}, {}, defaultdict(list))
    for j in range(count):
        if j < narrow_count + wildcard_count:
            is_narrow = j < narrow_count
            workload = workloads[(j if is_narrow else j - narrow_count) % len(workloads)]
            name = f"{workload.name}-{'access' if is_narrow else 'wildcard'}-{j:05d}"
            doc = narrow_document(rng, workload, catalog) if is_narrow else wildcard_document(rng, workload)
            (plan.narrow_of if is_narrow else plan.wildcard_of).setdefault(workload.index, name)
            account = workload.account
        else:
            template = sorted(BROAD_CUSTOMER)[j % len(BROAD_CUSTOMER)]
            account = accounts[j % len(accounts)]
            name, doc = f"{template}-{j:05d}", BROAD_CUSTOMER[template]
            plan.broad_of[account].append(name)
        plan.policies[name] = _policy(name, account, rng, doc)
    return plan


# --- IAM entities ----------------------------------------------------------------------------

GROUPS = {"admins": ("AdministratorAccess",), "developers": ("ReadOnlyAccess",), "data-analysts": (), "automation": ()}
PERSON_GROUPS = (("developers",), ("developers", "data-analysts"), ("admins",))


def _groups(accounts: Sequence[str], policies: dict[str, ManagedPolicy]) -> list[Group]:
    """Four groups per account; data-analysts get the account's first data-platform policy, if any."""
    groups = []
    for account in accounts:
        data = sorted(n for n, p in policies.items() if p.owner == account and n.startswith("data-platform"))[:1]
        for name, managed in GROUPS.items():
            groups.append(Group(name, account, ORG_CREATED[0], managed=managed + (tuple(data) if name == "data-analysts"
                                                                                  else ())))
    return groups


def _grants(rng: random.Random, identity: Identity, workload: Workload, plan: PolicyPlan
            ) -> tuple[tuple[str, ...], tuple, str | None]:
    """Managed policy names, inline policies and boundary of one identity: always something that
    allows its workload's calls, often more."""
    managed: list[str] = []
    inline: list[tuple[str, dict]] = []
    if workload.index in plan.narrow_of:
        managed.append(plan.narrow_of[workload.index])
    else:
        inline.append((f"{workload.name}-access", narrow_document(rng, workload, {})))
    if workload.index in plan.wildcard_of and rng.random() < 0.35:
        managed.append(plan.wildcard_of[workload.index])
    roll = rng.random()
    if roll < 0.04:
        managed.append(rng.choice(BROAD_AWS))
    elif roll < 0.1 and plan.broad_of.get(identity.account):
        managed.append(rng.choice(plan.broad_of[identity.account]))
    if KINDS[identity.kind].is_ai and rng.random() < 0.3:
        managed.append("AmazonBedrockFullAccess")
    if identity.started_by == "lambda.amazonaws.com":
        managed.append("AWSLambdaBasicExecutionRole")
    if rng.random() < 0.05:
        inline.append(("deny-destructive", document({"Effect": "Deny", "Action": ["s3:DeleteBucket", "iam:Delete*"],
                                                     "Resource": "*"})))
    boundary = plan.wildcard_of.get(workload.index) if identity.is_role and rng.random() < 0.08 else None
    return tuple(dict.fromkeys(managed)), tuple(inline), boundary


def _iam_entities(rng: random.Random, org_identities: Sequence[Identity], workloads: Sequence[Workload],
                  plan: PolicyPlan) -> tuple[list[Role], list[User]]:
    assumes: dict[int, list[str]] = defaultdict(list)
    for identity in org_identities:
        if identity.caller is not None:
            assumes[identity.caller].append(identity.arn)
    roles, users = [], []
    for identity in org_identities:
        kind = KINDS[identity.kind]
        managed, inline, boundary = _grants(rng, identity, workloads[identity.workload], plan)
        if identity.index in assumes:
            inline += (("assume-cross-account", document(allow("sts:AssumeRole", sorted(assumes[identity.index])))),)
        tags = [("team", rng.choice(TEAMS))] + ([("ai-agent", "true")] if identity.is_ai_tagged else [])
        created = _created(rng)
        if identity.is_role:
            trust = (service_trust(identity.started_by) if identity.started_by
                     else account_trust(org_identities[identity.caller].account))
            roles.append(Role(identity.name, identity.account, created, trust,
                              description=f"{kind.name} {identity.name}",
                              managed=managed, inline=inline, tags=tuple(tags), boundary=boundary,
                              has_instance_profile=identity.started_by == "ec2.amazonaws.com"))
        else:
            groups = (rng.choices(PERSON_GROUPS, weights=(6, 3, 1))[0] if kind.is_console
                      else (("automation",) if rng.random() < 0.5 else ()))
            key_created = (created + timedelta(days=rng.randint(1, 900))).date() if not kind.is_console else None
            users.append(User(identity.name, identity.account, created, groups=groups, managed=managed, inline=inline,
                              tags=tuple(tags), access_key_created=key_created))
    return roles, users


def build_organisation(*, seed: str, accounts: int, identities: int, policies: int) -> Organisation:
    """The organisation for a seed and sizes: the same inputs give the same organisation."""
    if accounts < 1 or identities < 1 or policies < 0:
        raise ValueError("need at least one account and one identity, and no negative policy count")
    rng = random.Random(f"{seed}:organisation")
    account_ids = _account_ids(rng, accounts)
    with gc_paused():  # hundreds of thousands of small objects, no cycles
        org_identities, workloads = _identities(rng, account_ids, identities)
        plan = _customer_policies(rng, policies, account_ids, workloads)
        roles, users = _iam_entities(rng, org_identities, workloads, plan)
    return Organisation(seed, account_ids, tuple(workloads), tuple(org_identities), plan.policies, tuple(roles),
                        tuple(users), tuple(_groups(account_ids, plan.policies)))


def policy_documents(org: Organisation) -> dict[str, dict]:
    """Every customer managed policy's default document, by ARN (for policy benchmarks)."""
    return {policy.arn: policy.versions[0][2] for policy in org.policies.values()}


# --- IAM exports and the inventory ------------------------------------------------------------


def authorization_details(org: Organisation, account: str, last_used: dict[str, tuple[datetime, str]]) -> dict:
    """One account's ``get-account-authorization-details`` output, every page merged: all its
    customer managed policies (attached or not) and the AWS managed ones it uses.

    last_used: role ARN -> (last call, region), for ``RoleLastUsed``."""
    customer = {name: p for name, p in org.policies.items() if p.owner == account}
    index = {**AWS_MANAGED_LIKE, **customer}
    users = [u for u in org.users if u.account == account]
    groups = [g for g in org.groups if g.account == account]
    roles = [r for r in org.roles if r.account == account]
    attachments = Counter(name for entity in (*users, *groups, *roles) for name in entity.managed)
    boundaries = Counter(r.boundary for r in roles if r.boundary)
    listed = sorted({*customer, *attachments, *boundaries}, key=lambda name: index[name].arn)
    return {
        "UserDetailList": [_user_detail(u, index) for u in users],
        "GroupDetailList": [_group_detail(g, index) for g in groups],
        "RoleDetailList": [_role_detail(r, index, last_used) for r in roles],
        "Policies": [_policy_detail(index[name], attachments[name], boundaries[name]) for name in listed],
    }


def write_iam(org: Organisation, out_dir: Path, last_used: dict[str, tuple[datetime, str]]) -> list[Path]:
    """One file per account, or numbered pages of ``PAGE_MAX_ITEMS`` entities, as the paged CLI writes them."""
    paths = []
    for account in org.accounts:
        export = authorization_details(org, account, last_used)
        stem = out_dir / "iam" / f"{account}-authorization-details"
        pages = fmt.paginate_authorization_details(export, PAGE_MAX_ITEMS)
        if len(pages) == 1:
            paths.append(fmt.write_authorization_details(stem.with_suffix(".json"), export))
            continue
        for number, page in enumerate(pages, start=1):
            paths.append(fmt.write_authorization_details(stem.with_name(f"{stem.name}.page-{number}.json"), page))
    return paths


def inventory_rows(org: Organisation, last_used: dict[str, tuple[datetime, str]]) -> list[dict]:
    """One row per identity (with its access key for users that have one): owners for most,
    the AI flag for most AI identities (the rest is left to tags, trust and names)."""
    rng = random.Random(f"{org.seed}:inventory")
    entities = {e.arn: e for e in (*org.roles, *org.users)}
    environments = {account: ENVIRONMENTS[i % len(ENVIRONMENTS)] for i, account in enumerate(org.accounts)}
    rows = []
    for identity in org.identities:
        kind = KINDS[identity.kind]
        entity = entities[identity.arn]
        team = dict(entity.tags).get("team", "")
        owner = (f"{identity.name}@example.com" if kind.is_console
                 else "" if rng.random() < 0.12 else f"{team}-lead@example.com")
        is_ai = (True if rng.random() < 0.6 else None) if kind.is_ai else (None if rng.random() < 0.2 else False)
        used = last_used.get(identity.arn)
        row = {"identity_id": identity.arn, "name": identity.name, "kind": "role" if identity.is_role else "user",
               "provider": "aws", "owner": owner, "team": team, "environment": environments[identity.account],
               "is_ai": is_ai, "agent_name": identity.name.rsplit("-", 1)[0] if kind.is_ai else "",
               "created_at": entity.created.date(), "last_used_at": used[0] if used else None, "status": "active",
               "description": f"{kind.name} of workload {org.workloads[identity.workload].name}"}
        if isinstance(entity, User) and entity.access_key_created:
            row |= {"credential_id": entity.access_key_id, "credential_type": "access_key",
                    "created_at": entity.access_key_created}
        rows.append(row)
    return rows
