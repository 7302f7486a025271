"""A synthetic organisation of any size, in the real input formats, for benchmarks.

    python -m pipelines.synth.scale OUT_DIR --accounts 3 --identities 1000 --policies 400 \\
        --days 90 --events-per-day 11112 [--seed S] [--end-date YYYY-MM-DD | --start-date YYYY-MM-DD]

writes what ``data/sample/`` holds, at scale: per account the IAM authorization
details (paged like the CLI's output), gzipped CloudTrail delivery files in the S3
layout (``--files-per-day`` per account and region), and the identity inventory CSV.

The organisation (accounts, identities, workloads, policies, groups) is a pure
function of the seed and the three sizes, never of the dates: a 90-day history
and one more day written later with ``--start-date`` (and ``--cloudtrail-only``)
describe the same identities. Each day is a pure function of the organisation,
the seed and that day, so days are written in parallel and in any order.

Realism, where it costs nothing at scale: events follow a Zipf-like share per
identity (a few busy identities, a long tail, some dormant ones); roles act in
assumed-role sessions opened by an AWS service (``sts:AssumeRole`` logged as an
AWSService event) or, for cross-account roles, by a role of another account
(logged in both accounts); people sign in to the console; about 2% of calls are
denied and 0.5% throttled; S3, DynamoDB, Lambda and SQS calls are data events.
Policies mix narrow grants (what a workload calls, plus a few unused actions),
service wildcards and broad AWS-managed-like ones; some roles trust AI services.

Speed: a record is a shallow copy of a cached template (built once with
``formats.call_record``) with its time, identity and ids set; each delivery file
is serialised once (orjson) and gzipped at level 1 by default (``--gzip-level``;
see ``docs/benchmarks.md`` for why). Nothing written here is committed.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import gc
import math
import multiprocessing
import random
import shutil
import sys
import time as clock
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

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

DEFAULT_SEED = "overreach-scale-1"
DEFAULT_END_DATE = date(2026, 11, 27)
DEFAULT_FILES_PER_DAY = 24
DEFAULT_GZIP_LEVEL = 1
PAGE_MAX_ITEMS = 1000
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
STS_REGION = "us-east-1"  # sts:AssumeRole and sign-ins are logged in us-east-1, as in the sample
GENERATED_DIRS = ("AWSLogs", "iam", "inventory")
INVENTORY_PATH = Path("inventory") / "identities.csv"
DENIED_SHARE = 0.02
THROTTLED_SHARE = 0.005
ZIPF_EXPONENT = 1.1
DORMANT_SHARE = 0.12
ORG_CREATED = (datetime(2021, 1, 4, tzinfo=UTC), datetime(2025, 6, 30, tzinfo=UTC))
MODELS = ("anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0",
          "amazon.titan-embed-text-v2:0", "meta.llama3-1-70b-instruct-v1:0")
# Share of events per UTC hour: busier in working hours, never silent.
HOUR_WEIGHTS = (3, 2, 2, 2, 2, 3, 4, 6, 9, 11, 12, 12, 11, 12, 12, 11, 10, 8, 6, 5, 5, 4, 4, 3)
OFFICE_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 1, 4, 10, 12, 12, 10, 8, 11, 12, 11, 9, 5, 2, 1, 0, 0, 0, 0)


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


def _arn(service: str, w: Workload, rest: str, region: bool = True) -> str:
    return f"arn:aws:{service}:{w.region if region else ''}:{w.account}:{rest}"


def _fixed(source: str, name: str, read_only: bool, params: Callable[[Workload], dict] | None = None,
           resources: Callable[[Workload], tuple] = lambda w: ()) -> Callable:
    return lambda c, w, v: fmt.ApiCall(source, name, read_only, params=params(w) if params else None,
                                       resources=resources(w))


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
                                                                   f"SELECT * FROM {w.name.replace('-', '_')} LIMIT 100"),
                             ("athena:StartQueryExecution",), lambda w: _arn("athena", w, "workgroup/primary")),
    "athena-results": CallKind(lambda c, w, v: fmt.athena_query_call(c, "GetQueryResults"),
                               ("athena:GetQueryResults",), lambda w: _arn("athena", w, "workgroup/primary")),
    "glue-table": CallKind(lambda c, w, v: fmt.glue_get_table_call(c, "analytics", w.name.replace("-", "_")),
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
                           ("secretsmanager:GetSecretValue",), lambda w: _arn("secretsmanager", w, f"secret:{w.name}/*")),
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
                             ("cloudformation:DescribeStacks",), lambda w: _arn("cloudformation", w, f"stack/{w.name}/*")),
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


IDENTITY_KINDS = (
    IdentityKind("service-role", 0.34, "service", True,
                 ("orders-api", "billing-worker", "ingest", "scheduler", "thumbnailer", "search-indexer"),
                 LAMBDA_BOTO3, ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com")),
    IdentityKind("data-role", 0.08, "data", True, ("etl-job", "nightly-export", "lakehouse-compactor"), GLUE_SDK,
                 ("glue.amazonaws.com",)),
    IdentityKind("ai-agent-role", 0.17, "ai", True,
                 ("support-agent", "rag-agent", "triage-bot", "summarizer-llm", "research-assistant", "codegen-agent"),
                 PLAIN_BOTO3, ("bedrock.amazonaws.com", "sagemaker.amazonaws.com", "bedrock-agentcore.amazonaws.com",
                               "lambda.amazonaws.com"), is_ai=True),
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

    @property
    def regions(self) -> dict[str, tuple[str, ...]]:
        """The regions each account logs events in."""
        seen: dict[str, set[str]] = defaultdict(lambda: {STS_REGION})
        for workload in self.workloads:
            seen[workload.account].add(workload.region)
        return {account: tuple(sorted(seen[account])) for account in self.accounts}


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
    result = []
    for identity in identities:
        if identity.kind == "cross-account-role":
            others = [i for account, ids in sorted(by_account.items()) if account != identity.account for i in ids]
            identity = (replace(identity, caller=rng.choice(others)) if others
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


def _customer_policies(rng: random.Random, count: int, accounts: Sequence[str], workloads: Sequence[Workload]
                       ) -> tuple[dict[str, ManagedPolicy], dict[int, str], dict[int, str]]:
    """``count`` customer managed policies: half narrow (one per workload while workloads last),
    a third service wildcards, the rest broad. Returns them by name, and each workload's
    narrow and wildcard policy names."""
    narrow_count, wildcard_count, _ = _apportion(count, (0.5, 0.35, 0.15))
    catalog = _actions_by_service() if count else {}
    policies: dict[str, ManagedPolicy] = {}
    narrow_of: dict[int, str] = {}
    wildcard_of: dict[int, str] = {}
    for j in range(count):
        if j < narrow_count + wildcard_count:
            is_narrow = j < narrow_count
            workload = workloads[(j if is_narrow else j - narrow_count) % len(workloads)]
            name = f"{workload.name}-{'access' if is_narrow else 'wildcard'}-{j:05d}"
            doc = narrow_document(rng, workload, catalog) if is_narrow else wildcard_document(rng, workload)
            (narrow_of if is_narrow else wildcard_of).setdefault(workload.index, name)
            account = workload.account
        else:
            template = sorted(BROAD_CUSTOMER)[j % len(BROAD_CUSTOMER)]
            account = accounts[j % len(accounts)]
            name, doc = f"{template}-{j:05d}", BROAD_CUSTOMER[template]
        policies[name] = _policy(name, account, rng, doc)
    return policies, narrow_of, wildcard_of


# --- IAM entities ----------------------------------------------------------------------------

GROUPS = {"admins": ("AdministratorAccess",), "developers": ("ReadOnlyAccess",), "data-analysts": (), "automation": ()}


def _groups(accounts: Sequence[str], policies: dict[str, ManagedPolicy]) -> list[Group]:
    """Four groups per account; data-analysts get the account's first data-platform policy, if any."""
    groups = []
    for account in accounts:
        data = sorted(n for n, p in policies.items() if p.owner == account and n.startswith("data-platform"))[:1]
        for name, managed in GROUPS.items():
            groups.append(Group(name, account, ORG_CREATED[0], managed=managed + (tuple(data) if name == "data-analysts"
                                                                                  else ())))
    return groups


def _grants(rng: random.Random, identity: Identity, workload: Workload, policies: dict[str, ManagedPolicy],
            narrow_of: dict[int, str], wildcard_of: dict[int, str]) -> tuple[tuple[str, ...], tuple, str | None]:
    """Managed policy names, inline policies and boundary of one identity: always something that
    allows its workload's calls, often more."""
    managed: list[str] = []
    inline: list[tuple[str, dict]] = []
    if workload.index in narrow_of:
        managed.append(narrow_of[workload.index])
    else:
        inline.append((f"{workload.name}-access", narrow_document(rng, workload, {})))
    if workload.index in wildcard_of and rng.random() < 0.35:
        managed.append(wildcard_of[workload.index])
    roll = rng.random()
    if roll < 0.04:
        managed.append(rng.choice(BROAD_AWS))
    elif roll < 0.1:
        broad = sorted(n for n, p in policies.items() if p.owner == identity.account and not n.startswith(workload.name)
                       and n.split("-0")[0] in BROAD_CUSTOMER)
        if broad:
            managed.append(rng.choice(broad))
    if KINDS[identity.kind].is_ai and rng.random() < 0.3:
        managed.append("AmazonBedrockFullAccess")
    if identity.started_by == "lambda.amazonaws.com":
        managed.append("AWSLambdaBasicExecutionRole")
    if rng.random() < 0.05:
        inline.append(("deny-destructive", document({"Effect": "Deny", "Action": ["s3:DeleteBucket", "iam:Delete*"],
                                                     "Resource": "*"})))
    boundary = wildcard_of.get(workload.index) if identity.is_role and rng.random() < 0.08 else None
    return tuple(dict.fromkeys(managed)), tuple(inline), boundary


def _iam_entities(rng: random.Random, org_identities: Sequence[Identity], workloads: Sequence[Workload],
                  policies: dict[str, ManagedPolicy], narrow_of: dict[int, str], wildcard_of: dict[int, str]
                  ) -> tuple[list[Role], list[User]]:
    assumes: dict[int, list[str]] = defaultdict(list)
    for identity in org_identities:
        if identity.caller is not None:
            assumes[identity.caller].append(identity.arn)
    roles, users = [], []
    for identity in org_identities:
        kind = KINDS[identity.kind]
        managed, inline, boundary = _grants(rng, identity, workloads[identity.workload], policies, narrow_of,
                                            wildcard_of)
        if identity.index in assumes:
            inline += (("assume-cross-account", document(allow("sts:AssumeRole", sorted(assumes[identity.index])))),)
        tags = [("team", rng.choice(TEAMS))] + ([("ai-agent", "true")] if identity.is_ai_tagged else [])
        created = _created(rng)
        if identity.is_role:
            trust = (service_trust(identity.started_by) if identity.started_by
                     else account_trust(org_identities[identity.caller].account))
            roles.append(Role(identity.name, identity.account, created, trust, description=f"{kind.name} {identity.name}",
                              managed=managed, inline=inline, tags=tuple(tags), boundary=boundary,
                              has_instance_profile=identity.started_by == "ec2.amazonaws.com"))
        else:
            groups = (rng.choice((("developers",), ("developers", "data-analysts"), ("admins",), ("developers",)))
                      if kind.is_console else (("automation",) if rng.random() < 0.5 else ()))
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
    org_identities, workloads = _identities(rng, account_ids, identities)
    customer, narrow_of, wildcard_of = _customer_policies(rng, policies, account_ids, workloads)
    roles, users = _iam_entities(rng, org_identities, workloads, customer, narrow_of, wildcard_of)
    return Organisation(seed, account_ids, tuple(workloads), tuple(org_identities), customer, tuple(roles),
                        tuple(users), tuple(_groups(account_ids, customer)))


def policy_documents(org: Organisation) -> dict[str, dict]:
    """Every customer managed policy's default document, by ARN (for policy benchmarks)."""
    return {policy.arn: policy.versions[0][2] for policy in org.policies.values()}


# --- one day of CloudTrail --------------------------------------------------------------------


@dataclass(frozen=True)
class DayResult:
    """What one day wrote. last_seen: identity index -> (second of the day, region) of its last call."""

    day: date
    files: int
    events: int
    bytes: int
    last_seen: dict[int, tuple[int, str]]


@dataclass(frozen=True)
class _Job:
    """What a worker needs to write days: set before the pool forks, so it is never pickled."""

    org: Organisation
    out_dir: Path
    events_per_day: int
    files_per_day: int
    gzip_level: int


_JOB: _Job | None = None
_TEMPLATES: dict[tuple, dict] = {}  # per process, kept across days: a template depends only on its key
_TEMPLATE_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # replaced in every copy


_UUID_MASK = ((1 << 128) - 1) ^ (0xF << 76) ^ (0xC << 60)
_UUID_BITS = (0x4 << 76) | (0x8 << 60)


def _uuid4(bits: int) -> str:
    """A version-4 UUID from 128 random bits, as ``uuid.UUID(int=..., version=4)`` spells it, faster."""
    h = (bits & _UUID_MASK | _UUID_BITS).to_bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# A template's requestID: none (console sign-ins), S3's 16 hex digits, or a UUID.
NO_REQUEST_ID, S3_REQUEST_ID, UUID_REQUEST_ID = 0, 1, 2


def _template(org: Organisation, workload: Workload, call: str, variant: int, day: date, error: int
              ) -> tuple[dict, int]:
    """The record of ``call`` by ``workload`` (error: 0 none, 1 throttled, 2 its denied call)
    and the kind of its requestID; cached."""
    is_daily = error != 2 and CALLS[call].is_daily
    key = (workload.index, call, variant, day if is_daily else None, error)
    found = _TEMPLATES.get(key)
    if found is not None:
        return found
    rng = random.Random(f"{org.seed}:template:{key}")
    context = fmt.CallContext(rng, workload.account, workload.region, day)
    error_code = error_message = None
    if error == 2:
        denial = DENIALS[workload.index % len(DENIALS)]
        api_call = denial.call(context, workload, variant)
        error_code = denial.error_code
        error_message = (denial.message.replace("{account}", workload.account)
                         .replace("{region}", workload.region).replace("{name}", workload.name))
    else:
        api_call = CALLS[call].build(context, workload, variant)
        if error == 1:
            error_code, error_message = "ThrottlingException", "Rate exceeded"
    if api_call.via_service:  # its userIdentity would differ from the caller's; no call here has one
        raise ValueError(f"{call}: calls made through another service are not templated")
    record = fmt.call_record(
        api_call, rng=rng, event_time=_TEMPLATE_TIME, region=workload.region, user_identity={},
        source_ip=workload.source_ip, user_agent=workload.user_agent, recipient_account=workload.account,
        error_code=error_code, error_message=error_message, from_console=workload.is_console)
    request_id = (NO_REQUEST_ID if "requestID" not in record
                  else S3_REQUEST_ID if api_call.source == "s3.amazonaws.com" else UUID_REQUEST_ID)
    _TEMPLATES[key] = found = (record, request_id)
    return found


def _second_times(day: date) -> list[str]:
    prefix = day.isoformat()
    return [f"{prefix}T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]


def _plan_day(org: Organisation, rng: random.Random, events: int) -> list[tuple[int, int]]:
    """(second of the day, identity index) of every event of the day, in time order."""
    active = [i.index for i in org.identities if rng.random() < i.active_chance and i.weight > 0]
    if not active:
        active = [max(org.identities, key=lambda i: i.weight).index]
    cum, total = [], 0.0
    for index in active:
        total += org.identities[index].weight
        cum.append(total)
    picks = rng.choices(active, cum_weights=cum, k=events)
    hour_tables = {False: list(_cumulative(HOUR_WEIGHTS)), True: list(_cumulative(OFFICE_HOUR_WEIGHTS))}
    identities = org.identities
    random_ = rng.random
    plan = []
    for index in picks:
        table = hour_tables[identities[index].is_console]
        hour = bisect.bisect_right(table, random_() * table[-1])
        plan.append((hour * 3600 + int(random_() * 3600), index))
    plan.sort()
    return plan


def _cumulative(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for weight in weights:
        total += weight
        out.append(total)
    return out


class _DayWriter:
    """Writes one day's records as delivery files, one time window at a time, so a day never sits in memory."""

    def __init__(self, job: _Job, day: date) -> None:
        self.job, self.day = job, day
        self.window_seconds = 86400 // job.files_per_day
        self.window = 0
        self.pending: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self.files = self.bytes = 0
        self.made_dirs: set[Path] = set()

    def add(self, second: int, account: str, region: str, record: dict) -> None:
        window = min(second // self.window_seconds, self.job.files_per_day - 1)
        if window != self.window:
            self.flush()
            self.window = window
        self.pending[(account, region)].append(record)

    def flush(self) -> None:
        midnight = datetime.combine(self.day, time(), tzinfo=UTC)
        delivered_at = (midnight + timedelta(seconds=self.window_seconds * (self.window + 1) - 300)).replace(second=0)
        for (account, region), records in sorted(self.pending.items()):
            path = self.job.out_dir / fmt.cloudtrail_object_key(account, region, delivered_at, salt=str(self.window))
            if path.parent not in self.made_dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.made_dirs.add(path.parent)
            data = fmt.cloudtrail_file_bytes(records, compresslevel=self.job.gzip_level)
            path.write_bytes(data)
            self.files += 1
            self.bytes += len(data)
        self.pending.clear()


class _Day:
    """The state of one day being written: open sessions, console sign-ins, pending cross-account copies."""

    def __init__(self, job: _Job, day: date) -> None:
        self.job, self.org, self.day = job, job.org, day
        self.rng = random.Random(f"{self.org.seed}:day:{day.isoformat()}")
        self.times = _second_times(day)
        self.midnight = datetime.combine(day, time(), tzinfo=UTC)
        self.sessions: dict[tuple[int, int], dict] = {}
        self.started: set[tuple[int, int]] = set()
        self.pending_copies: dict[tuple[int, int], dict] = {}
        self.console: dict[int, dict] = {}
        self.writer = _DayWriter(job, day)
        self.last_seen: dict[int, int] = {}  # identity index -> second of its last call
        self.templates: dict[int, tuple[dict, int]] = {}  # this day's view of _TEMPLATES, by small integer keys
        self.choosers = [(w.calls, w.cum_weights, tuple(CALLS[c].variants for c in w.calls))
                         for w in self.org.workloads]

    def uuid(self) -> str:
        return _uuid4(self.rng.getrandbits(128))

    def session(self, identity: Identity, slot: int, second: int) -> dict:
        """The ``userIdentity`` of the role's session in this slot of the day, made on first use."""
        key = (identity.index, slot)
        found = self.sessions.get(key)
        if found is None:
            n = self.day.toordinal() * 24 + slot
            if identity.started_by == "ec2.amazonaws.com":
                name = "i-" + fmt.stable_uuid("instance", identity.arn).replace("-", "")[:17]
            elif identity.started_by == "glue.amazonaws.com":
                name = "GlueJobRunnerSession"
            elif identity.caller is not None:
                name = f"{self.org.identities[identity.caller].name}-{n}"
            else:
                name = f"{identity.name}-{n}"
            found = fmt.assumed_role_identity(
                account=identity.account, role_name=identity.name, role_id=identity.unique_id, session_name=name,
                access_key_id=fmt.iam_unique_id("session_key", self.org.seed, identity.arn, str(n)),
                session_started_at=self.midnight + timedelta(seconds=second),
                ec2_role_delivery=identity.started_by == "ec2.amazonaws.com")
            self.sessions[key] = found
        return found

    def assume_role_records(self, identity: Identity, session: dict, second: int) -> list[dict]:
        """The ``sts:AssumeRole`` that opened a session: by an AWS service, or by a role of
        another account (then a copy in each account's trail, sharing ``sharedEventID``)."""
        at = self.midnight + timedelta(seconds=second)
        name = session["arn"].rsplit("/", 1)[1]
        credentials = {"accessKeyId": session["accessKeyId"],
                       "sessionToken": "IQoJb3JpZ2luX2VjE" + base64.b64encode(self.rng.randbytes(48)).decode(),
                       "expiration": fmt.cloudtrail_text_time(at + timedelta(hours=1))}
        common = dict(
            event_time=at, event_source="sts.amazonaws.com", event_name="AssumeRole", region=STS_REGION,
            request_parameters={"roleArn": identity.arn, "roleSessionName": name, "durationSeconds": 3600},
            response_elements={"credentials": credentials,
                               "assumedRoleUser": {"assumedRoleId": session["principalId"], "arn": session["arn"]}},
            request_id=self.uuid(), read_only=True, shared_event_id=self.uuid(),
            resources=[fmt.resource(identity.arn, "AWS::IAM::Role", identity.account)])
        if identity.caller is None:
            service = identity.started_by
            return [fmt.cloudtrail_record(**common, user_identity=fmt.aws_service_identity(service), source_ip=service,
                                          user_agent=service, event_id=self.uuid(), recipient_account=identity.account)]
        caller = self.org.identities[identity.caller]
        caller_workload = self.org.workloads[caller.workload]
        caller_session = self.session(caller, second * caller.sessions_per_day // 86400, second)
        seen_by_target = fmt.aws_account_identity(account=caller.account, principal_id=caller_session["principalId"])
        return [fmt.cloudtrail_record(**common, user_identity=seen, source_ip=caller_workload.source_ip,
                                      user_agent=caller_workload.user_agent, event_id=self.uuid(),
                                      recipient_account=account, tls_host="sts.amazonaws.com")
                for seen, account in ((caller_session, caller.account), (seen_by_target, identity.account))]

    def console_login(self, identity: Identity, second: int) -> dict:
        """The sign-in that opens a person's console session for the day; the session's identity is kept."""
        workload = self.org.workloads[identity.workload]
        at = self.midnight + timedelta(seconds=second)
        self.console[identity.index] = fmt.iam_user_identity(
            account=identity.account, user_name=identity.name, user_id=identity.unique_id,
            access_key_id=fmt.iam_unique_id("session_key", self.org.seed, identity.arn, self.day.isoformat()),
            console_session_started_at=at)
        return fmt.cloudtrail_record(
            event_time=at, event_source="signin.amazonaws.com", event_name="ConsoleLogin", region=STS_REGION,
            user_identity=fmt.iam_user_identity(account=identity.account, user_name=identity.name,
                                                user_id=identity.unique_id),
            source_ip=workload.source_ip, user_agent=workload.user_agent, request_parameters=None,
            response_elements={"ConsoleLogin": "Success"},
            additional_event_data={"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                                   "MFAUsed": "Yes"},
            event_id=self.uuid(), request_id="", read_only=False, recipient_account=identity.account,
            event_type="AwsConsoleSignIn", tls_host="signin.aws.amazon.com")

    def session_record(self, identity: Identity, second: int) -> tuple[dict | None, dict]:
        """A record that opens (or mirrors the opening of) a session, if this event must be one,
        and the ``userIdentity`` the identity's calls carry now."""
        if identity.is_role:
            key = (identity.index, second * identity.sessions_per_day // 86400)
            session = self.session(identity, key[1], second)
            if key not in self.started:
                self.started.add(key)
                records = self.assume_role_records(identity, session, second)
                if len(records) == 2:
                    self.pending_copies[key] = records[1]
                return records[0], session
            return self.pending_copies.pop(key, None), session
        if identity.is_console:
            if identity.index not in self.console:
                return self.console_login(identity, second), self.console[identity.index]
            return None, self.console[identity.index]
        return None, _key_user_identity(identity)

    def call_record(self, identity: Identity, caller: dict, second: int) -> dict:
        """One API call of the identity's workload: mostly successful, some throttled or denied."""
        # The hot path of the generator: locals and integer keys, no attribute chains.
        windex = identity.workload
        calls, cum_weights, variants = self.choosers[windex]
        random_ = self.rng.random
        roll = random_()
        error = 2 if roll < DENIED_SHARE else 1 if roll < DENIED_SHARE + THROTTLED_SHARE else 0
        pick = random_() * cum_weights[-1]
        c = bisect.bisect_right(cum_weights, pick)
        variant = int(pick * 7919) % variants[c]
        key = (((windex << 5) | c) << 3 | variant) << 2 | error
        found = self.templates.get(key)
        if found is None:
            found = _template(self.org, self.org.workloads[windex], calls[c], variant, self.day, error)
            self.templates[key] = found
        template, request_id = found
        record = template.copy()
        record["eventTime"] = self.times[second]
        record["userIdentity"] = caller
        getrandbits = self.rng.getrandbits
        if request_id == UUID_REQUEST_ID:
            record["requestID"] = _uuid4(getrandbits(128))
        elif request_id == S3_REQUEST_ID:
            record["requestID"] = "%016X" % getrandbits(64)
        record["eventID"] = _uuid4(getrandbits(128))
        if error == 2:
            record["errorMessage"] = record["errorMessage"].replace("{arn}", caller["arn"])
        self.last_seen[identity.index] = second
        return record

    def write(self) -> DayResult:
        identities = self.org.identities
        add = self.writer.add
        was_enabled = gc.isenabled()
        gc.disable()  # records hold no cycles; collecting while a window's records pile up costs a third
        try:
            for second, index in _plan_day(self.org, self.rng, self.job.events_per_day):
                identity = identities[index]
                opening, caller = self.session_record(identity, second)
                record = opening or self.call_record(identity, caller, second)
                add(second, record["recipientAccountId"], record["awsRegion"], record)
            self.writer.flush()
        finally:
            if was_enabled:
                gc.enable()
        workloads, identities = self.org.workloads, self.org.identities
        last_seen = {index: (second, workloads[identities[index].workload].region)
                     for index, second in self.last_seen.items()}
        return DayResult(self.day, self.writer.files, self.job.events_per_day, self.writer.bytes, last_seen)


_KEY_USERS: dict[int, dict] = {}


def _key_user_identity(identity: Identity) -> dict:
    """An IAM user calling with its long-lived access key (the same every day)."""
    found = _KEY_USERS.get(identity.index)
    if found is None:
        found = fmt.iam_user_identity(account=identity.account, user_name=identity.name, user_id=identity.unique_id,
                                      access_key_id=fmt.iam_unique_id("access_key", identity.account, identity.name))
        _KEY_USERS[identity.index] = found
    return found


def _write_day(day: date) -> DayResult:
    assert _JOB is not None, "the job is set before days are written"
    return _Day(_JOB, day).write()


def write_days(job: _Job, days: Sequence[date], processes: int) -> list[DayResult]:
    """Write every day, in parallel when ``processes`` > 1 (fork: the organisation is shared, not pickled)."""
    global _JOB
    _JOB = job
    _TEMPLATES.clear()
    _KEY_USERS.clear()
    try:
        if processes <= 1 or len(days) == 1:
            return [_write_day(day) for day in days]
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return sorted(pool.imap_unordered(_write_day, days), key=lambda r: r.day)
    finally:
        _JOB = None


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


def _write_iam(org: Organisation, out_dir: Path, last_used: dict[str, tuple[datetime, str]]) -> list[Path]:
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


# --- the whole run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleConfig:
    """What to write. Dates: ``days`` days ending on ``end_date``, or starting on ``start_date``."""

    accounts: int
    identities: int
    policies: int
    days: int
    events_per_day: int
    seed: str = DEFAULT_SEED
    end_date: date | None = None
    start_date: date | None = None
    files_per_day: int = DEFAULT_FILES_PER_DAY
    gzip_level: int = DEFAULT_GZIP_LEVEL
    processes: int = 2
    cloudtrail_only: bool = False

    def trail_days(self) -> list[date]:
        if self.days < 1 or self.events_per_day < 0 or self.files_per_day < 1:
            raise ValueError("days and files per day must be at least 1, events per day at least 0")
        if self.start_date and self.end_date:
            raise ValueError("give a start date or an end date, not both")
        first = self.start_date or (self.end_date or DEFAULT_END_DATE) - timedelta(days=self.days - 1)
        return [first + timedelta(days=offset) for offset in range(self.days)]


@dataclass(frozen=True)
class ScaleSummary:
    """What was written: counts a test or a benchmark can check."""

    files: int
    trail_files: int
    events: int
    bytes: int
    seconds: float
    accounts: int
    identities: int
    policies: int
    first_day: date
    last_day: date

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _last_used(org: Organisation, results: Sequence[DayResult]) -> dict[str, tuple[datetime, str]]:
    last: dict[str, tuple[datetime, str]] = {}
    for result in sorted(results, key=lambda r: r.day):
        midnight = datetime.combine(result.day, time(), tzinfo=UTC)
        for index, (second, region) in result.last_seen.items():
            last[org.identities[index].arn] = (midnight + timedelta(seconds=second), region)
    return last


def generate(config: ScaleConfig, out_dir: Path) -> ScaleSummary:
    """Write the organisation's CloudTrail for the configured days (and, unless
    ``cloudtrail_only``, its IAM exports and inventory) under ``out_dir``, replacing
    what an earlier run wrote there."""
    started = clock.perf_counter()
    days = config.trail_days()
    out_dir = Path(out_dir)
    for name in GENERATED_DIRS:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    org = build_organisation(seed=config.seed, accounts=config.accounts, identities=config.identities,
                             policies=config.policies)
    job = _Job(org, out_dir, config.events_per_day, config.files_per_day, config.gzip_level)
    results = write_days(job, days, config.processes)
    paths: list[Path] = []
    if not config.cloudtrail_only:
        last_used = _last_used(org, results)
        paths += _write_iam(org, out_dir, last_used)
        paths.append(fmt.write_inventory_csv(out_dir / INVENTORY_PATH, inventory_rows(org, last_used)))
    trail_files = sum(r.files for r in results)
    return ScaleSummary(
        files=trail_files + len(paths), trail_files=trail_files, events=sum(r.events for r in results),
        bytes=sum(r.bytes for r in results) + sum(p.stat().st_size for p in paths),
        seconds=clock.perf_counter() - started, accounts=len(org.accounts), identities=len(org.identities),
        policies=len(org.policies), first_day=days[0], last_day=days[-1])


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Write a synthetic organisation of any size in the real formats.")
    parser.add_argument("out_dir", type=Path, help="where to write it (not committed; e.g. bench-data/...)")
    parser.add_argument("--accounts", type=_positive, required=True)
    parser.add_argument("--identities", type=_positive, required=True, help="IAM roles and users in all")
    parser.add_argument("--policies", type=_positive, required=True, help="customer managed policies in all")
    parser.add_argument("--days", type=_positive, required=True)
    parser.add_argument("--events-per-day", type=_positive, required=True, help="CloudTrail records a day, exactly")
    parser.add_argument("--seed", default=DEFAULT_SEED, help="same seed and sizes, same organisation")
    dates = parser.add_mutually_exclusive_group()
    dates.add_argument("--end-date", type=date.fromisoformat, help=f"last day (default {DEFAULT_END_DATE})")
    dates.add_argument("--start-date", type=date.fromisoformat, help="first day, instead of --end-date")
    parser.add_argument("--files-per-day", type=_positive, default=DEFAULT_FILES_PER_DAY,
                        help="delivery files per account and region a day (at most; empty windows give none)")
    parser.add_argument("--gzip-level", type=int, choices=range(1, 10), default=DEFAULT_GZIP_LEVEL, metavar="1-9")
    parser.add_argument("--processes", type=_positive, default=min(2, multiprocessing.cpu_count()))
    parser.add_argument("--cloudtrail-only", action="store_true",
                        help="write only CloudTrail (an extra day for an organisation written before)")
    return parser


def config_from_args(args: argparse.Namespace) -> ScaleConfig:
    return ScaleConfig(
        accounts=args.accounts, identities=args.identities, policies=args.policies, days=args.days,
        events_per_day=args.events_per_day, seed=args.seed, end_date=args.end_date, start_date=args.start_date,
        files_per_day=args.files_per_day, gzip_level=args.gzip_level, processes=args.processes,
        cloudtrail_only=args.cloudtrail_only)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = generate(config_from_args(args), args.out_dir)
    except ValueError as error:
        print(f"scale: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {summary.files} files ({summary.trail_files} CloudTrail), {summary.bytes / 1e6:.1f} MB, "
          f"to {args.out_dir} in {summary.seconds:.1f} s: {summary.events} events "
          f"{summary.first_day}..{summary.last_day} ({summary.events_per_second:,.0f} events/s), "
          f"{summary.identities} identities in {summary.accounts} accounts, {summary.policies} customer managed policies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
