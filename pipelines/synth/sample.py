"""The sample organisation under ``data/sample/``, in the real input formats.

Two AWS accounts (prod ``111122223333``, dev ``444455556666``) with AI agents,
people and ordinary service roles: their IAM authorization details, 100 days
of CloudTrail ending on ``SAMPLE_AS_OF``, a CloudTrail Lake export of the week
before, and the identity inventory. Each planted identity, and what Overreach
should report about it, is described in ``docs/sample.md``.

Regenerate with ``python -m pipelines.synth.sample data/sample``. The output is
a pure function of this file: seeded randomness, fixed dates.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pipelines.synth import formats as fmt

SAMPLE_AS_OF = date(2026, 11, 27)
TRAIL_DAYS = 100
FIRST_TRAIL_DAY = SAMPLE_AS_OF - timedelta(days=TRAIL_DAYS - 1)
LAKE_EXPORT_DAYS = 3  # the days just before S3 delivery began: only in the Lake export
PROD = "111122223333"
DEV = "444455556666"
HOME_REGION = "us-east-1"
SECOND_REGION = "eu-west-1"
SEED = "overreach-sample-1"

FILES_PER_DAY = {(PROD, HOME_REGION): 3, (PROD, SECOND_REGION): 1, (DEV, HOME_REGION): 1}
# Trail days (0 = FIRST_TRAIL_DAY) on which one prod event is delivered twice.
REDELIVERY_DAYS = (6, 23, 41, 66, 88)
# The prod export is split into pages of this many entities, as the paginated CLI returns it.
PAGED_ACCOUNT = PROD
PAGE_MAX_ITEMS = 14

GENERATED_DIRS = ("AWSLogs", "exports", "iam", "inventory")
LAKE_EXPORT_PATH = Path("exports") / f"lake-export-{FIRST_TRAIL_DAY - timedelta(days=LAKE_EXPORT_DAYS)}.jsonl"
INVENTORY_PATH = Path("inventory") / "identities.csv"

SUPPORT_MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
DEV_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"


def _at(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def role_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"


def user_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def model_arn(model_id: str, region: str = HOME_REGION) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


# --- policy documents ------------------------------------------------------------


def allow(actions: str | Sequence[str], resources: str | Sequence[str]) -> dict:
    actions = actions if isinstance(actions, str) else list(actions)
    resources = resources if isinstance(resources, str) else list(resources)
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def service_trust(service: str) -> dict:
    return document({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def account_trust(account: str) -> dict:
    principal = {"AWS": f"arn:aws:iam::{account}:root"}
    return document({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


@dataclass(frozen=True)
class ManagedPolicy:
    """A managed policy as the export lists it.

    owner: the account id, or ``"aws"`` for AWS managed policies.
    versions: ``(version_id, created_at, document)``, newest first; the first is
        the default version, older ones stay in the list but grant nothing.
    """

    name: str
    owner: str
    created: datetime
    versions: tuple[tuple[str, datetime, dict], ...]
    path: str = "/"

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.owner}:policy{self.path}{self.name}"


# AWS managed policies: documents as AWS publishes them.
AWS_MANAGED = {
    p.name: p
    for p in (
        ManagedPolicy("AdministratorAccess", "aws", _at(2015, 2, 6, 18, 39, 46),
                      (("v1", _at(2015, 2, 6, 18, 39, 46), document(allow("*", "*"))),)),
        ManagedPolicy("AmazonS3ReadOnlyAccess", "aws", _at(2015, 2, 6, 18, 40, 59),
                      (("v3", _at(2023, 8, 10, 21, 31, 39), document(allow(
                          ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"],
                          "*"))),)),
        ManagedPolicy("AWSLambdaBasicExecutionRole", "aws", _at(2015, 4, 9, 15, 3, 43),
                      (("v1", _at(2015, 4, 9, 15, 3, 43), document(allow(
                          ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "*"))),),
                      path="/service-role/"),
        ManagedPolicy("AWSOrganizationsServiceTrustPolicy", "aws", _at(2017, 10, 10, 23, 4, 7),
                      (("v3", _at(2026, 3, 5, 19, 12, 9), document(
                          {"Sid": "AllowDeletionOfServiceLinkedRoleForOrganizations", "Effect": "Allow",
                           "Action": ["iam:DeleteRole"],
                           "Resource": ["arn:aws:iam::*:role/aws-service-role/organizations.amazonaws.com/*"]},
                          {"Sid": "AllowCreationOfServiceLinkedRoles", "Effect": "Allow",
                           "Action": ["iam:CreateServiceLinkedRole"], "Resource": "*"},
                          {"Sid": "ListRolesSLR", "Effect": "Allow", "Action": ["iam:ListRoles"],
                           "Resource": "arn:aws:iam::*:role/aws-service-role/*"})),),
                      path="/aws-service-role/"),
    )
}

SUPPORT_TABLE = f"arn:aws:dynamodb:{HOME_REGION}:{PROD}:table/tickets"

CUSTOMER_MANAGED = {
    PROD: (
        # v1 was broad; only the default v2 counts.
        ManagedPolicy("support-agent-access", PROD, _at(2026, 2, 10), (
            ("v2", _at(2026, 6, 3, 9, 12), document(
                allow(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"], SUPPORT_TABLE),
                allow("s3:GetObject", "arn:aws:s3:::support-attachments/*"),
                allow("bedrock:InvokeModel", model_arn(SUPPORT_MODEL)))),
            ("v1", _at(2026, 2, 10), document(
                allow(["dynamodb:*", "bedrock:*"], "*"),
                allow("s3:*", ["arn:aws:s3:::support-attachments", "arn:aws:s3:::support-attachments/*"]))),
        )),
        ManagedPolicy("codegen-agent-access", PROD, _at(2025, 10, 20), (
            ("v1", _at(2025, 10, 20), document(
                allow(["codecommit:GitPull", "codecommit:GitPush", "codecommit:GetBranch",
                       "codecommit:CreatePullRequest"],
                      f"arn:aws:codecommit:{HOME_REGION}:{PROD}:platform-services"),
                allow(["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                      f"arn:aws:codebuild:{HOME_REGION}:{PROD}:project/codegen-validate"),
                allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::codegen-artifacts/*"))),
        )),
        ManagedPolicy("analytics-boundary", PROD, _at(2026, 1, 15), (
            ("v1", _at(2026, 1, 15), document(allow(["s3:*", "athena:*", "glue:*"], "*"))),
        )),
        ManagedPolicy("developer-readonly", PROD, _at(2025, 6, 2), (
            ("v1", _at(2025, 6, 2), document(allow(
                ["ec2:Describe*", "s3:List*", "s3:Get*", "lambda:List*", "lambda:Get*", "logs:Describe*",
                 "logs:Get*", "cloudwatch:Get*", "cloudwatch:List*", "cloudwatch:Describe*"], "*"))),
        )),
        ManagedPolicy("reporting-read", PROD, _at(2026, 2, 14), (
            ("v1", _at(2026, 2, 14), document(
                allow(["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"],
                      f"arn:aws:athena:*:{PROD}:workgroup/reporting"),
                allow(["glue:GetDatabase", "glue:GetTable"], "*"),
                allow(["s3:GetObject", "s3:ListBucket"],
                      ["arn:aws:s3:::company-reports", "arn:aws:s3:::company-reports/*"]),
                allow("s3:PutObject", f"arn:aws:s3:::athena-results-{PROD}/*"))),
        )),
    ),
    DEV: (
        ManagedPolicy("dev-ci-build", DEV, _at(2025, 9, 1), (
            ("v1", _at(2025, 9, 1), document(
                allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::dev-build-artifacts/*"),
                allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "*"))),
        )),
    ),
}


# --- IAM entities -------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    name: str
    account: str
    created: datetime
    managed: tuple[str, ...] = ()
    inline: tuple[tuple[str, dict], ...] = ()


@dataclass(frozen=True)
class User:
    """An IAM user. access_key_created: the day its one access key was made, if it has one."""

    name: str
    account: str
    created: datetime
    groups: tuple[str, ...] = ()
    managed: tuple[str, ...] = ()
    inline: tuple[tuple[str, dict], ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    access_key_created: date | None = None

    @property
    def arn(self) -> str:
        return user_arn(self.account, self.name)

    @property
    def access_key_id(self) -> str:
        return fmt.iam_unique_id("access_key", self.account, self.name)


@dataclass(frozen=True)
class Role:
    """An IAM role. last_used_before_trail: RoleLastUsed for a role idle through the trail."""

    name: str
    account: str
    created: datetime
    trust: dict
    description: str = ""
    path: str = "/"
    managed: tuple[str, ...] = ()
    inline: tuple[tuple[str, dict], ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    boundary: str | None = None
    max_session_seconds: int = 3600
    has_instance_profile: bool = False
    last_used_before_trail: datetime | None = None

    @property
    def arn(self) -> str:
        return role_arn(self.account, self.name, self.path)

    @property
    def role_id(self) -> str:
        return fmt.iam_unique_id("role", self.account, self.name)


AI_TAG = (("ai-agent", "true"),)

GROUPS = (
    Group("admins", PROD, _at(2025, 3, 1), managed=("AdministratorAccess",)),
    Group("developers", PROD, _at(2025, 3, 1), managed=("developer-readonly",), inline=(
        ("developers-logs-insights", document(allow(
            ["logs:StartQuery", "logs:GetQueryResults", "logs:FilterLogEvents"], "*"))),)),
)

USERS = (
    User("alice", PROD, _at(2025, 3, 1, 10), groups=("admins",)),
    User("bob", PROD, _at(2025, 4, 14, 9, 30), groups=("developers",)),
    User("codegen-agent", PROD, _at(2025, 10, 23, 11, 5), managed=("codegen-agent-access",),
         tags=(("workload-type", "ai-agent"), ("team", "developer-productivity")),
         access_key_created=SAMPLE_AS_OF - timedelta(days=400)),
    User("reporting-bot", PROD, _at(2026, 2, 14, 15), managed=("reporting-read",),
         inline=(("reporting-bot-metrics", document(allow("cloudwatch:GetMetricData", "*"))),),
         tags=(("team", "business-intelligence"),), access_key_created=date(2026, 6, 1)),
)

ROLES = (
    Role("support-agent", PROD, _at(2026, 2, 10, 9), service_trust("lambda.amazonaws.com"),
         description="Support triage agent: reads tickets, drafts replies with Bedrock",
         managed=("support-agent-access",),
         inline=(("support-agent-logs", document(allow(
             ["logs:CreateLogStream", "logs:PutLogEvents"],
             f"arn:aws:logs:{HOME_REGION}:{PROD}:log-group:/aws/lambda/support-agent:*"))),),
         tags=AI_TAG + (("team", "customer-support"),)),
    Role("data-analysis-agent", PROD, _at(2026, 1, 15, 14), service_trust("sagemaker.amazonaws.com"),
         description="Analysis agent running in SageMaker", boundary="analytics-boundary", max_session_seconds=43200,
         inline=(("analysis-broad", document(allow(["s3:*", "athena:*", "glue:*", "redshift-data:*"], "*"))),),
         tags=(("team", "analytics"),)),
    Role("cert-rotator", PROD, _at(2025, 11, 3, 8), service_trust("lambda.amazonaws.com"),
         description="Rotates TLS certificates of model-serving jobs",
         inline=(("rotate-model-serving-certs", document(
             allow(["acm:ImportCertificate", "acm:DescribeCertificate", "acm:ListCertificates"], "*"),
             allow("iam:UploadServerCertificate", f"arn:aws:iam::{PROD}:server-certificate/model-serving/*"),
             allow("secretsmanager:PutSecretValue",
                   f"arn:aws:secretsmanager:{HOME_REGION}:{PROD}:secret:model-serving/*"))),),
         tags=(("team", "ml-platform"),)),
    Role("deploy-agent", PROD, _at(2026, 3, 2, 16), service_trust("lambda.amazonaws.com"),
         description="Release agent that ships Lambda functions",
         inline=(("deploy-agent-lambda", document(
             allow("iam:PassRole", "*"),
             allow(["lambda:CreateFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode",
                    "lambda:GetFunction"],
                   f"arn:aws:lambda:*:{PROD}:function:*"))),),
         tags=AI_TAG + (("team", "platform"),)),
    Role("lambda-basic-exec", PROD, _at(2025, 5, 5), service_trust("lambda.amazonaws.com"),
         description="Execution role for small functions", managed=("AWSLambdaBasicExecutionRole",)),
    Role("ops-admin", PROD, _at(2025, 3, 1, 11), service_trust("lambda.amazonaws.com"),
         description="Break-glass automation", managed=("AdministratorAccess",), tags=(("team", "platform"),)),
    Role("legacy-summarizer-agent", PROD, _at(2025, 6, 20, 13), service_trust("lambda.amazonaws.com"),
         description="Nightly document summarizer (replaced)",
         inline=(("summarizer", document(
             allow("bedrock:InvokeModel", model_arn("anthropic.claude-instant-v1")),
             allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::document-summaries/*"))),),
         tags=AI_TAG, last_used_before_trail=datetime.combine(
             SAMPLE_AS_OF - timedelta(days=200), time(14, 22, 51), tzinfo=UTC)),
    Role("ownerless-agent", PROD, _at(2026, 4, 8, 17), service_trust("ec2.amazonaws.com"), has_instance_profile=True,
         inline=(("scratch-access", document(
             allow(["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
                   ["arn:aws:s3:::shared-scratch", "arn:aws:s3:::shared-scratch/*"]),
             allow("sqs:SendMessage", f"arn:aws:sqs:{HOME_REGION}:{PROD}:agent-results"))),)),
    Role("prod-deployer", PROD, _at(2025, 7, 7, 12), account_trust(DEV),
         description="Deploys to prod from the dev account",
         inline=(("deployer-broad", document(allow(["cloudformation:*", "lambda:*", "iam:PassRole"], "*"))),),
         tags=(("team", "platform"),)),
    Role("etl-nightly", PROD, _at(2025, 5, 20), service_trust("glue.amazonaws.com"),
         description="Nightly Glue ETL", managed=("AmazonS3ReadOnlyAccess",),
         inline=(("etl-write", document(
             allow("s3:PutObject", "arn:aws:s3:::analytics-curated/*"),
             allow(["glue:GetTable", "glue:GetPartitions"], "*"))),),
         tags=(("team", "data-engineering"),)),
    Role("AWSServiceRoleForOrganizations", PROD, _at(2025, 3, 1, 9), service_trust("organizations.amazonaws.com"),
         description="Service-linked role for AWS Organizations",
         path="/aws-service-role/organizations.amazonaws.com/", managed=("AWSOrganizationsServiceTrustPolicy",)),
    Role("dev-agent", DEV, _at(2026, 5, 12, 10), service_trust("bedrock.amazonaws.com"),
         description="Bedrock agent in dev",
         inline=(("dev-agent-access", document(
             allow("sts:AssumeRole", role_arn(PROD, "prod-deployer")),
             allow("bedrock:InvokeModel", "*"),
             allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::dev-agent-workspace/*"))),),
         tags=AI_TAG + (("team", "platform"),)),
    Role("dev-ci", DEV, _at(2025, 9, 1, 8), service_trust("codebuild.amazonaws.com"),
         description="CI builds in dev", managed=("dev-ci-build",)),
)


# --- the authorization-details export -------------------------------------------------------


def _policy_index(account: str) -> dict[str, ManagedPolicy]:
    return {**AWS_MANAGED, **{p.name: p for p in CUSTOMER_MANAGED.get(account, ())}}


def _attached(names: Sequence[str], index: dict[str, ManagedPolicy]) -> list[dict]:
    return [{"PolicyName": name, "PolicyArn": index[name].arn} for name in names]


def _tags(tags: Sequence[tuple[str, str]]) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in tags]


def _role_core(role: Role) -> dict:
    return {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": fmt.cli_timestamp(role.created),
        "AssumeRolePolicyDocument": role.trust,
    }


def _instance_profiles(role: Role) -> list[dict]:
    if not role.has_instance_profile:
        return []
    return [{
        "Path": "/",
        "InstanceProfileName": role.name,
        "InstanceProfileId": fmt.iam_unique_id("instance_profile", role.account, role.name),
        "Arn": f"arn:aws:iam::{role.account}:instance-profile/{role.name}",
        "CreateDate": fmt.cli_timestamp(role.created),
        "Roles": [_role_core(role)],
    }]


def _role_detail(role: Role, index: dict[str, ManagedPolicy], last_used: dict[str, tuple[datetime, str]]) -> dict:
    detail = _role_core(role)
    if role.description:
        detail["Description"] = role.description
    detail["MaxSessionDuration"] = role.max_session_seconds
    detail["InstanceProfileList"] = _instance_profiles(role)
    detail["RolePolicyList"] = [{"PolicyName": n, "PolicyDocument": d} for n, d in role.inline]
    detail["AttachedManagedPolicies"] = _attached(role.managed, index)
    if role.boundary:
        detail["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": index[role.boundary].arn,
        }
    detail["Tags"] = _tags(role.tags)
    used = last_used.get(role.arn)
    if used is None and role.last_used_before_trail:
        used = (role.last_used_before_trail, HOME_REGION)
    detail["RoleLastUsed"] = {"LastUsedDate": fmt.cli_timestamp(used[0]), "Region": used[1]} if used else {}
    return detail


def _user_detail(user: User, index: dict[str, ManagedPolicy]) -> dict:
    detail = {
        "Path": "/",
        "UserName": user.name,
        "UserId": fmt.iam_unique_id("user", user.account, user.name),
        "Arn": user.arn,
        "CreateDate": fmt.cli_timestamp(user.created),
    }
    if user.inline:  # the API leaves UserPolicyList out when a user has no inline policy
        detail["UserPolicyList"] = [{"PolicyName": n, "PolicyDocument": d} for n, d in user.inline]
    detail["GroupList"] = list(user.groups)
    detail["AttachedManagedPolicies"] = _attached(user.managed, index)
    detail["Tags"] = _tags(user.tags)
    return detail


def _group_detail(group: Group, index: dict[str, ManagedPolicy]) -> dict:
    return {
        "Path": "/",
        "GroupName": group.name,
        "GroupId": fmt.iam_unique_id("group", group.account, group.name),
        "Arn": f"arn:aws:iam::{group.account}:group/{group.name}",
        "CreateDate": fmt.cli_timestamp(group.created),
        "GroupPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in group.inline],
        "AttachedManagedPolicies": _attached(group.managed, index),
    }


def _policy_detail(policy: ManagedPolicy, attachments: int, boundary_uses: int) -> dict:
    default_version = policy.versions[0][0]
    return {
        "PolicyName": policy.name,
        "PolicyId": fmt.iam_unique_id("policy", policy.arn),
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": default_version,
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundary_uses,
        "IsAttachable": True,
        "CreateDate": fmt.cli_timestamp(policy.created),
        "UpdateDate": fmt.cli_timestamp(policy.versions[0][1]),
        "PolicyVersionList": [
            {"Document": doc, "VersionId": vid, "IsDefaultVersion": vid == default_version,
             "CreateDate": fmt.cli_timestamp(created)}
            for vid, created, doc in policy.versions
        ],
    }


def authorization_details(account: str, last_used: dict[str, tuple[datetime, str]]) -> dict:
    """One account's ``get-account-authorization-details`` output, every page merged.

    last_used: role ARN -> (last event time, region), for ``RoleLastUsed``."""
    index = _policy_index(account)
    users = [u for u in USERS if u.account == account]
    groups = [g for g in GROUPS if g.account == account]
    roles = [r for r in ROLES if r.account == account]
    attachments = Counter(name for entity in (*users, *groups, *roles) for name in entity.managed)
    boundaries = Counter(r.boundary for r in roles if r.boundary)
    listed = [index[name] for name in sorted(set(attachments) | set(boundaries), key=lambda n: index[n].arn)]
    return {
        "UserDetailList": [_user_detail(u, index) for u in users],
        "GroupDetailList": [_group_detail(g, index) for g in groups],
        "RoleDetailList": [_role_detail(r, index, last_used) for r in roles],
        "Policies": [_policy_detail(p, attachments[p.name], boundaries[p.name]) for p in listed],
    }


# --- model-serving certificates ----------------------------------------------------------------


@dataclass(frozen=True)
class ServingCertificate:
    """A TLS certificate of a model-serving job, imported into ACM by cert-rotator."""

    common_name: str
    serving_job: str
    not_before: date
    not_after: date

    @property
    def acm_arn(self) -> str:
        return f"arn:aws:acm:{HOME_REGION}:{PROD}:certificate/{fmt.stable_uuid('acm', self.common_name)}"


CERTIFICATES = (
    ServingCertificate("inference-gateway.models.internal", "inference-gateway", date(2026, 9, 1), date(2027, 8, 31)),
    ServingCertificate("embeddings.models.internal", "embeddings-server", date(2025, 12, 5), date(2026, 12, 4)),
    ServingCertificate("reranker.models.internal", "reranker-server", date(2025, 12, 20), date(2026, 12, 19)),
    ServingCertificate("summarizer.models.internal", "summarizer-batch", date(2025, 11, 21), date(2026, 11, 20)),
)
ROTATED = CERTIFICATES[0]
ROTATION_DAYS = frozenset({(ROTATED.not_before - FIRST_TRAIL_DAY).days})
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"


def acm_import(c: fmt.CallContext, cert: ServingCertificate) -> fmt.ApiCall:
    return fmt.ApiCall("acm.amazonaws.com", "ImportCertificate", False,
                       params={"certificateArn": cert.acm_arn, "certificate": HIDDEN, "privateKey": HIDDEN},
                       response={"certificateArn": cert.acm_arn})


def acm_describe(cert: ServingCertificate) -> Callable[[fmt.CallContext], fmt.ApiCall]:
    return fmt.fixed_call("acm.amazonaws.com", "DescribeCertificate", True, {"certificateArn": cert.acm_arn})


def put_secret(c: fmt.CallContext, name: str) -> fmt.ApiCall:
    arn = f"arn:aws:secretsmanager:{c.region}:{c.account}:secret:model-serving/{name}-{fmt.alnum_token(6, name)}"
    return fmt.ApiCall("secretsmanager.amazonaws.com", "PutSecretValue", False,
                       params={"secretId": f"model-serving/{name}", "clientRequestToken": fmt.random_uuid(c.rng)},
                       response={"arn": arn, "versionId": fmt.random_uuid(c.rng), "versionStages": ["AWSCURRENT"]})


def upload_server_certificate(c: fmt.CallContext, cert: ServingCertificate) -> fmt.ApiCall:
    metadata = {
        "path": "/model-serving/", "serverCertificateName": cert.serving_job,
        "serverCertificateId": fmt.iam_unique_id("server_certificate", cert.common_name),
        "arn": f"arn:aws:iam::{c.account}:server-certificate/model-serving/{cert.serving_job}",
        "expiration": fmt.cloudtrail_text_time(_midnight(cert.not_after)),
    }
    return fmt.ApiCall("iam.amazonaws.com", "UploadServerCertificate", False,
                       params={"path": "/model-serving/", "serverCertificateName": cert.serving_job,
                               "certificateBody": HIDDEN, "privateKey": HIDDEN},
                       response={"serverCertificateMetadata": metadata})


# --- deploy-agent's functions ----------------------------------------------------------------

PASSED_ROLE_ARN = role_arn(PROD, "lambda-basic-exec")
# Functions deploy-agent owns: name -> trail day it creates it (None: made before the trail).
DEPLOYED_FUNCTIONS = {"ticket-router": None, "invoice-renderer": 20, "slack-notifier": 61}
ARTIFACTS = "deploy-agent-artifacts"
CREATE_DAYS = frozenset(d for d in DEPLOYED_FUNCTIONS.values() if d is not None)
CROSS_ACCOUNT_DAYS = frozenset({9, 17, 30, 44, 58, 71, 85, 97})


def trail_day_index(day: date) -> int:
    """Days since the trail's first day (negative in the Lake export's days)."""
    return (day - FIRST_TRAIL_DAY).days


def functions_on(day: date) -> list[str]:
    index = trail_day_index(day)
    return [name for name, made in DEPLOYED_FUNCTIONS.items() if made is None or made <= index]


def created_on(day: date) -> str:
    return next(name for name, made in DEPLOYED_FUNCTIONS.items() if made == trail_day_index(day))


def any_function(c: fmt.CallContext) -> str:
    return c.rng.choice(functions_on(c.day))


# --- actors and what they do -----------------------------------------------------------------------


BOTO3 = ("Boto3/1.35.57 md/Botocore#1.35.57 ua/2.0 os/linux#5.10.227-219.884.amzn2.x86_64 md/arch#x86_64 "
         "lang/python#3.12.7 md/pyimpl#CPython{env} cfg/retry-mode#legacy Botocore/1.35.57")
LAMBDA_BOTO3 = BOTO3.format(env=" exec-env/AWS_Lambda_python3.12")
PLAIN_BOTO3 = BOTO3.format(env="")
GLUE_SDK = ("aws-sdk-java/1.12.770 Linux/5.10.227-219.884.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.13+11-LTS "
            "java/17.0.13 scala/2.12.18 vendor/Amazon.com_Inc. cfg/retry-mode/standard")
CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@dataclass(frozen=True)
class Actor:
    """An identity as the trail shows it.

    kind: ``role`` (sessions of a role), ``access_key`` (an IAM user's long-lived
        key) or ``console`` (an IAM user signed in to the console).
    hours: first and last UTC hour it works in.
    session_pattern: role session names; ``{n}`` counts its sessions, ``{function}``
        names one of deploy-agent's functions.
    uses_mfa: whether its console sign-ins use MFA.
    started_by: who opens each role session with ``sts:AssumeRole``: an AWS
        service principal (an AWSService event) or another actor's key (a
        cross-account assume, logged in both accounts' trails).
    active_chance: the chance it does anything on a given day.
    days: if set, the only trail days it is active.
    """

    key: str
    account: str
    kind: str
    name: str
    user_agent: str
    source_ip: str
    hours: tuple[int, int] = (8, 19)
    session_pattern: str = ""
    sessions_per_day: int = 1
    started_by: str | None = None
    is_ec2_instance: bool = False
    uses_mfa: bool = True
    active_chance: float = 1.0
    weekdays_only: bool = False
    days: frozenset[int] | None = None


ACTORS = {a.key: a for a in (
    Actor("support-agent", PROD, "role", "support-agent", LAMBDA_BOTO3, "198.51.100.10", hours=(6, 21),
          session_pattern="support-triage-{n}", sessions_per_day=2, started_by="lambda.amazonaws.com"),
    Actor("codegen-agent", PROD, "access_key", "codegen-agent", PLAIN_BOTO3, "192.0.2.40", hours=(7, 18),
          active_chance=0.6, weekdays_only=True),
    Actor("data-analysis-agent", PROD, "role", "data-analysis-agent", PLAIN_BOTO3, "198.51.100.20", hours=(9, 18),
          session_pattern="SageMaker", started_by="sagemaker.amazonaws.com", active_chance=0.8),
    Actor("cert-rotator", PROD, "role", "cert-rotator", LAMBDA_BOTO3, "198.51.100.12", hours=(3, 3),
          session_pattern="cert-rotator"),
    Actor("deploy-agent", PROD, "role", "deploy-agent", LAMBDA_BOTO3, "198.51.100.11", hours=(9, 17),
          session_pattern="deploy-run-{n}", active_chance=0.75),
    Actor("lambda-basic-exec", PROD, "role", "lambda-basic-exec", LAMBDA_BOTO3, "198.51.100.13", hours=(9, 17),
          session_pattern="{function}", active_chance=0.75),
    Actor("ownerless-agent", PROD, "role", "ownerless-agent", PLAIN_BOTO3, "198.51.100.30", hours=(0, 23),
          session_pattern="i-0a7f3c9e51d2b8460", started_by="ec2.amazonaws.com", is_ec2_instance=True,
          active_chance=0.4),
    Actor("etl-nightly", PROD, "role", "etl-nightly", GLUE_SDK, "198.51.100.21", hours=(2, 2),
          session_pattern="GlueJobRunnerSession", started_by="glue.amazonaws.com"),
    Actor("reporting-bot", PROD, "access_key", "reporting-bot", PLAIN_BOTO3, "192.0.2.50", hours=(6, 7),
          weekdays_only=True),
    Actor("reporting-bot-console", PROD, "console", "reporting-bot", CHROME, "203.0.113.21", hours=(13, 16),
          uses_mfa=False, active_chance=0.3, weekdays_only=True),
    Actor("alice", PROD, "console", "alice", CHROME, "203.0.113.7", hours=(8, 17), active_chance=0.7,
          weekdays_only=True),
    Actor("bob", PROD, "console", "bob", FIREFOX, "203.0.113.8", hours=(9, 18), active_chance=0.5,
          weekdays_only=True),
    Actor("prod-deployer", PROD, "role", "prod-deployer", PLAIN_BOTO3, "198.51.100.60", hours=(10, 15),
          session_pattern="dev-agent-{n}", started_by="dev-agent", days=CROSS_ACCOUNT_DAYS),
    Actor("dev-agent", DEV, "role", "dev-agent", PLAIN_BOTO3, "198.51.100.60", hours=(8, 20),
          session_pattern="bedrock-agent-{n}", active_chance=0.6),
    Actor("dev-ci", DEV, "role", "dev-ci", PLAIN_BOTO3, "198.51.100.61", hours=(9, 18),
          session_pattern="AWSCodeBuild-{n}", weekdays_only=True),
)}


@dataclass(frozen=True)
class Denial:
    """A planted failure: the error CloudTrail records and the IAM action it names."""

    error_code: str
    action: str
    resource: str
    because: str = "no identity-based policy allows the {action} action"


@dataclass(frozen=True)
class Activity:
    """One kind of call an actor makes.

    per_day: the range of calls on a day it happens; chance: the probability
    it happens on an active day; days: if set, the only trail days it happens;
    denial: set when every such call fails.
    """

    actor: str
    call: Callable[[fmt.CallContext], fmt.ApiCall]
    per_day: tuple[int, int] = (1, 1)
    chance: float = 1.0
    region: str = HOME_REGION
    days: frozenset[int] | None = None
    denial: Denial | None = None


def athena_metrics(c: fmt.CallContext) -> fmt.ApiCall:
    return fmt.cloudwatch_metric_data_call(c, "AWS/Athena", "ProcessedBytes")


def ticket_call(name: str) -> Callable[[fmt.CallContext], fmt.ApiCall]:
    return lambda c: fmt.dynamodb_item_call(c, name, "tickets", "ticket_id")


def object_call(name: str, bucket: str, key: Callable[[random.Random], str], size: int | None = None):
    return lambda c: fmt.s3_object_call(c, name, bucket, key(c.rng), size)


def day_key(pattern: str) -> Callable[[random.Random], str]:
    """An object key with a random day of month in it."""
    return lambda rng: pattern.format(rng.randint(1, 28))


SALES_PART = day_key("sales/day={:02d}/part-0.parquet")
FINANCE_DENIAL = Denial("AccessDenied", "s3:GetObject", "arn:aws:s3:::finance-restricted/payroll/2026-10.csv")
BOUNDARY_DENIAL = Denial("AccessDeniedException", "redshift-data:ExecuteStatement",
                         f"arn:aws:redshift:{HOME_REGION}:{PROD}:cluster:finance",
                         because="no permissions boundary allows the {action} action")
STACK = {"stackName": "agent-services", "capabilities": ["CAPABILITY_IAM"]}

ACTIVITIES = (
    # support-agent: nearly every granted action, every day.
    Activity("support-agent", ticket_call("Query"), (1, 3)),
    Activity("support-agent", ticket_call("GetItem"), (2, 4)),
    Activity("support-agent", ticket_call("PutItem"), (1, 3)),
    Activity("support-agent", object_call("GetObject", "support-attachments",
                                          lambda rng: f"tickets/{rng.randint(40000, 99999)}/attachment-1.png"), (1, 2)),
    Activity("support-agent", lambda c: fmt.bedrock_invoke_call(c, SUPPORT_MODEL), (2, 4)),
    Activity("support-agent", lambda c: fmt.logs_create_stream_call(c, "/aws/lambda/support-agent")),
    # codegen-agent: a little git, builds and artifacts, with its never-rotated key.
    Activity("codegen-agent", lambda c: fmt.codecommit_git_call(c, "GitPull", "platform-services"), (1, 3)),
    Activity("codegen-agent", lambda c: fmt.codecommit_git_call(c, "GitPush", "platform-services"), chance=0.4),
    Activity("codegen-agent", fmt.fixed_call("codebuild.amazonaws.com", "StartBuild", False,
                                             {"projectName": "codegen-validate"}), chance=0.4),
    Activity("codegen-agent", fmt.fixed_call("codebuild.amazonaws.com", "BatchGetBuilds", True,
                                             {"ids": ["codegen-validate:build"]}), (1, 2), chance=0.4),
    Activity("codegen-agent", object_call("PutObject", "codegen-artifacts",
                                          lambda rng: f"patches/{rng.getrandbits(32):08x}.diff"), (1, 2), chance=0.5),
    # data-analysis-agent: a handful of its huge grant, and some refusals.
    Activity("data-analysis-agent", object_call("GetObject", "analytics-curated", SALES_PART), (1, 3)),
    Activity("data-analysis-agent", lambda c: fmt.s3_list_call(c, "analytics-curated", "sales/"), (1, 2)),
    Activity("data-analysis-agent", object_call("HeadObject", "analytics-curated", lambda rng: "sales/_SUCCESS"),
             chance=0.3),
    Activity("data-analysis-agent", lambda c: fmt.athena_start_call(
        c, "analytics", "analytics", "SELECT region, sum(amount) FROM sales GROUP BY 1"), (1, 2)),
    Activity("data-analysis-agent", lambda c: fmt.athena_query_call(c, "GetQueryResults"), (1, 2)),
    Activity("data-analysis-agent", lambda c: fmt.glue_get_table_call(c, "analytics", "sales", via_athena=True),
             (1, 2)),
    Activity("data-analysis-agent", lambda c: fmt.athena_start_call(
        c, "analytics", "analytics", "SELECT count(*) FROM eu_sales"), (1, 2), chance=0.15, region=SECOND_REGION),
    Activity("data-analysis-agent", lambda c: fmt.athena_query_call(c, "GetQueryResults"), (1, 2), chance=0.15,
             region=SECOND_REGION),
    Activity("data-analysis-agent", fmt.fixed_call(
        "redshift-data.amazonaws.com", "ExecuteStatement", False,
        {"clusterIdentifier": "finance", "database": "ledger", "sql": "SELECT * FROM payouts LIMIT 100"}),
             chance=0.08, denial=BOUNDARY_DENIAL),
    Activity("data-analysis-agent", object_call("GetObject", "finance-restricted", lambda rng: "payroll/2026-10.csv",
                                                size=0), chance=0.05, denial=FINANCE_DENIAL),
    # cert-rotator: daily checks, one rotation, a weekly CA bundle refresh.
    Activity("cert-rotator", fmt.fixed_call("acm.amazonaws.com", "ListCertificates", True,
                                            {"certificateStatuses": ["ISSUED", "EXPIRED"]})),
    *(Activity("cert-rotator", acm_describe(cert), chance=0.3) for cert in CERTIFICATES),
    Activity("cert-rotator", lambda c: put_secret(c, "ca-bundle"), days=frozenset(range(2, TRAIL_DAYS, 7))),
    Activity("cert-rotator", lambda c: acm_import(c, ROTATED), days=ROTATION_DAYS),
    Activity("cert-rotator", lambda c: put_secret(c, ROTATED.serving_job), days=ROTATION_DAYS),
    Activity("cert-rotator", lambda c: upload_server_certificate(c, ROTATED), days=ROTATION_DAYS),
    # deploy-agent: creates, updates and invokes its own functions, passing lambda-basic-exec.
    Activity("deploy-agent", lambda c: fmt.lambda_create_call(c, created_on(c.day), PASSED_ROLE_ARN, ARTIFACTS),
             days=CREATE_DAYS),
    Activity("deploy-agent", lambda c: fmt.lambda_update_code_call(c, any_function(c), ARTIFACTS), chance=0.2),
    Activity("deploy-agent", lambda c: fmt.lambda_get_call(c, any_function(c)), chance=0.5),
    Activity("deploy-agent", lambda c: fmt.lambda_invoke_call(c, any_function(c)), (1, 3)),
    Activity("deploy-agent", fmt.fixed_call("lambda.amazonaws.com", "DeleteFunction20150331", False,
                                            {"functionName": "ticket-router-old"}), chance=0.05,
             denial=Denial("AccessDeniedException", "lambda:DeleteFunction",
                           fmt.function_arn("ticket-router-old", PROD, HOME_REGION))),
    Activity("deploy-agent", fmt.fixed_call("iam.amazonaws.com", "AttachRolePolicy", False,
                                            {"roleName": "lambda-basic-exec",
                                             "policyArn": AWS_MANAGED["AdministratorAccess"].arn}),
             chance=0.03, denial=Denial("AccessDenied", "iam:AttachRolePolicy", PASSED_ROLE_ARN)),
    Activity("lambda-basic-exec", lambda c: fmt.logs_create_stream_call(c, f"/aws/lambda/{c.session}")),
    # ownerless-agent: scratch bucket and a queue, from an EC2 instance.
    Activity("ownerless-agent", lambda c: fmt.s3_list_call(c, "shared-scratch", "runs/"), (1, 2)),
    Activity("ownerless-agent", object_call("GetObject", "shared-scratch",
                                            lambda rng: f"runs/{rng.randint(1, 400)}/input.json"), (1, 3)),
    Activity("ownerless-agent", lambda c: fmt.sqs_send_call(c, "agent-results"), (1, 3)),
    # etl-nightly: an ordinary service role.
    Activity("etl-nightly", object_call("GetObject", "analytics-raw", day_key("orders/{:02d}.json.gz")), (1, 3)),
    Activity("etl-nightly", object_call("PutObject", "analytics-curated", SALES_PART), (1, 2)),
    Activity("etl-nightly", lambda c: fmt.glue_get_table_call(c, "analytics", "orders")),
    # reporting-bot: the agent's key in the morning, people in the console in the afternoon.
    Activity("reporting-bot", lambda c: fmt.athena_start_call(
        c, "reporting", "reporting", "SELECT * FROM weekly_kpis")),
    Activity("reporting-bot", lambda c: fmt.athena_query_call(c, "GetQueryResults"), (1, 2)),
    Activity("reporting-bot", object_call("GetObject", "company-reports", lambda rng: "kpi/latest.csv")),
    Activity("reporting-bot", athena_metrics),
    Activity("reporting-bot", lambda c: fmt.s3_list_call(c, "company-reports", "kpi/", "ListObjectsV2", None),
             chance=0.15),
    Activity("reporting-bot-console", lambda c: fmt.athena_query_call(c, "GetQueryExecution"), (1, 3)),
    Activity("reporting-bot-console", lambda c: fmt.s3_list_call(c, "company-reports", "kpi/", list_type=None)),
    # people.
    Activity("alice", fmt.fixed_call("iam.amazonaws.com", "ListRoles", True, {"maxItems": 100}), (1, 2)),
    Activity("alice", fmt.fixed_call("iam.amazonaws.com", "GetRole", True, {"roleName": "deploy-agent"}), (1, 2),
             chance=0.4),
    Activity("alice", fmt.fixed_call("ec2.amazonaws.com", "DescribeInstances", True,
                                     {"instancesSet": {}, "filterSet": {}}), (1, 2)),
    Activity("alice", fmt.fixed_call("cloudtrail.amazonaws.com", "LookupEvents", True, {"maxResults": 50}),
             chance=0.3),
    Activity("alice", fmt.fixed_call("ec2.amazonaws.com", "DescribeInstances", True,
                                     {"instancesSet": {}, "filterSet": {}}), chance=0.12, region=SECOND_REGION),
    Activity("bob", fmt.fixed_call("lambda.amazonaws.com", "ListFunctions20150331", True), (1, 2)),
    Activity("bob", fmt.fixed_call("logs.amazonaws.com", "FilterLogEvents", True,
                                   {"logGroupName": "/aws/lambda/support-agent", "limit": 100}), (1, 3)),
    Activity("bob", athena_metrics, (1, 2), chance=0.5),
    # dev-agent, and what it does in prod as prod-deployer.
    Activity("prod-deployer", fmt.fixed_call("cloudformation.amazonaws.com", "DescribeStacks", True,
                                             {"stackName": "agent-services"}), (1, 2)),
    Activity("prod-deployer", fmt.fixed_call("cloudformation.amazonaws.com", "CreateStack", False, STACK),
             days=frozenset({min(CROSS_ACCOUNT_DAYS)})),
    Activity("prod-deployer", fmt.fixed_call("cloudformation.amazonaws.com", "UpdateStack", False, STACK), chance=0.6),
    Activity("prod-deployer", lambda c: fmt.lambda_update_code_call(c, "ticket-router", ARTIFACTS), chance=0.4),
    Activity("dev-agent", lambda c: fmt.bedrock_invoke_call(c, DEV_MODEL), (1, 3)),
    Activity("dev-agent", object_call("GetObject", "dev-agent-workspace", day_key("plans/{}.md")), (1, 2)),
    Activity("dev-agent", object_call("PutObject", "dev-agent-workspace", day_key("plans/{}.md")), chance=0.5),
    Activity("dev-ci", object_call("PutObject", "dev-build-artifacts",
                                   lambda rng: f"builds/{rng.getrandbits(32):08x}.zip"), (1, 2)),
    Activity("dev-ci", lambda c: fmt.logs_create_stream_call(c, "/aws/codebuild/dev-ci")),
)


# --- turning the plan into records -------------------------------------------------------------------


@dataclass
class TrailState:
    """What carries over from day to day: how many sessions each actor has opened."""

    sessions_opened: Counter = field(default_factory=Counter)


def _role(name: str, account: str) -> Role:
    return next(r for r in ROLES if r.name == name and r.account == account)


def _user(name: str, account: str) -> User:
    return next(u for u in USERS if u.name == name and u.account == account)


def _open_session(actor: Actor, started: datetime, rng: random.Random, state: TrailState) -> tuple[dict, str]:
    """A new session of the actor's role: its ``userIdentity`` and its name."""
    state.sessions_opened[actor.key] += 1
    name = actor.session_pattern.format(n=state.sessions_opened[actor.key],
                                        function=rng.choice(functions_on(started.date())))
    role = _role(actor.name, actor.account)
    identity = fmt.assumed_role_identity(
        account=actor.account, role_name=role.name, role_id=role.role_id, session_name=name,
        access_key_id=fmt.iam_unique_id("session_key", actor.key, name, started.isoformat()),
        session_started_at=started, role_path=role.path, ec2_role_delivery=actor.is_ec2_instance)
    return identity, name


def _assume_role_records(actor: Actor, identity: dict, session: str, started: datetime, rng: random.Random,
                         state: TrailState) -> list[dict]:
    """The ``sts:AssumeRole`` that opened a session: by an AWS service, or
    cross-account by another actor (then one record in each account's trail,
    with the same ``sharedEventID``)."""
    role = _role(actor.name, actor.account)
    credentials = {"accessKeyId": identity["accessKeyId"],
                   "sessionToken": "IQoJb3JpZ2luX2VjE" + fmt.alnum_token(48, "token", session, started.isoformat()),
                   "expiration": fmt.cloudtrail_text_time(started + timedelta(hours=1))}
    common = dict(
        event_time=started, event_source="sts.amazonaws.com", event_name="AssumeRole", region=HOME_REGION,
        request_parameters={"roleArn": role.arn, "roleSessionName": session, "durationSeconds": 3600},
        response_elements={"credentials": credentials,
                           "assumedRoleUser": {"assumedRoleId": identity["principalId"], "arn": identity["arn"]}},
        request_id=fmt.random_uuid(rng), read_only=True, shared_event_id=fmt.random_uuid(rng),
        resources=[fmt.resource(role.arn, "AWS::IAM::Role", role.account)])
    caller = ACTORS.get(actor.started_by)
    if caller is None:
        service = actor.started_by
        return [fmt.cloudtrail_record(**common, user_identity=fmt.aws_service_identity(service), source_ip=service,
                                      user_agent=service, event_id=fmt.random_uuid(rng),
                                      recipient_account=actor.account)]
    caller_identity, _ = _open_session(caller, started - timedelta(seconds=rng.randint(20, 90)), rng, state)
    seen_by_target = fmt.aws_account_identity(account=caller.account, principal_id=caller_identity["principalId"])
    return [
        fmt.cloudtrail_record(**common, user_identity=identity_seen, source_ip=caller.source_ip,
                              user_agent=caller.user_agent, event_id=fmt.random_uuid(rng), recipient_account=account,
                              tls_host="sts.amazonaws.com")
        for identity_seen, account in ((caller_identity, caller.account), (seen_by_target, actor.account))
    ]


def _console_login(actor: Actor, user: User, at: datetime, rng: random.Random) -> dict:
    identity = fmt.iam_user_identity(account=user.account, user_name=user.name,
                                     user_id=fmt.iam_unique_id("user", user.account, user.name))
    return fmt.cloudtrail_record(
        event_time=at, event_source="signin.amazonaws.com", event_name="ConsoleLogin", region=HOME_REGION,
        user_identity=identity, source_ip=actor.source_ip, user_agent=actor.user_agent, request_parameters=None,
        response_elements={"ConsoleLogin": "Success"},
        additional_event_data={"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                               "MFAUsed": "Yes" if actor.uses_mfa else "No"},
        event_id=fmt.random_uuid(rng), request_id="", read_only=False, recipient_account=user.account,
        event_type="AwsConsoleSignIn", tls_host="signin.aws.amazon.com")


def _denial_message(denial: Denial, identity_arn: str) -> str:
    if denial.error_code == "AccessDenied" and denial.action.startswith("s3:"):
        return "Access Denied"
    because = denial.because.format(action=denial.action)
    return (f"User: {identity_arn} is not authorized to perform: {denial.action} "
            f"on resource: {denial.resource} because {because}")


def _record(activity: Activity, actor: Actor, identity: dict, at: datetime, context: fmt.CallContext) -> dict:
    context.region = activity.region
    denial = activity.denial
    return fmt.call_record(
        activity.call(context), rng=context.rng, event_time=at, region=activity.region, user_identity=identity,
        source_ip=actor.source_ip, user_agent=actor.user_agent, recipient_account=actor.account,
        error_code=denial.error_code if denial else None,
        error_message=_denial_message(denial, identity["arn"]) if denial else None,
        from_console=actor.kind == "console")


def _planned_calls(actor: Actor, day: date, rng: random.Random) -> list[tuple[datetime, Activity]]:
    """When the actor makes which calls on ``day``, in time order."""
    index = trail_day_index(day)
    if actor.days is not None and index not in actor.days:
        return []
    # A call pinned to this day (a function's creation, a rotation) happens whatever the odds.
    is_pinned = any(a.actor == actor.key and a.days is not None and index in a.days for a in ACTIVITIES)
    if (actor.weekdays_only and day.weekday() >= 5) or (rng.random() >= actor.active_chance and not is_pinned):
        return []
    start = _midnight(day) + timedelta(hours=actor.hours[0])
    span_seconds = (actor.hours[1] - actor.hours[0] + 1) * 3600
    planned = []
    for activity in ACTIVITIES:
        if activity.actor != actor.key or (activity.days is not None and index not in activity.days):
            continue
        if rng.random() < activity.chance:
            for _ in range(rng.randint(*activity.per_day)):
                planned.append((start + timedelta(seconds=rng.randrange(span_seconds)), activity))
    planned.sort(key=lambda item: item[0])
    return planned


def _role_records(actor: Actor, planned: list, context: fmt.CallContext, state: TrailState) -> list[dict]:
    """A role's calls, spread over ``sessions_per_day`` sessions by time of day."""
    rng = context.rng
    day_start = _midnight(context.day) + timedelta(hours=actor.hours[0])
    slot_seconds = (actor.hours[1] - actor.hours[0] + 1) * 3600 // actor.sessions_per_day
    sessions: dict[int, tuple[dict, str]] = {}
    records: list[dict] = []
    for at, activity in planned:
        slot = min(int((at - day_start).total_seconds()) // slot_seconds, actor.sessions_per_day - 1)
        if slot not in sessions:
            started = at - timedelta(seconds=rng.randint(1, 40))
            sessions[slot] = _open_session(actor, started, rng, state)
            if actor.started_by:
                records += _assume_role_records(actor, *sessions[slot], started, rng, state)
        identity, context.session = sessions[slot]
        records.append(_record(activity, actor, identity, at, context))
    return records


def _user_records(actor: Actor, planned: list, context: fmt.CallContext) -> list[dict]:
    """An IAM user's calls: with its access key, or in a console session opened by a sign-in."""
    rng = context.rng
    user = _user(actor.name, actor.account)
    user_id = fmt.iam_unique_id("user", user.account, user.name)
    records: list[dict] = []
    if actor.kind == "access_key":
        identity = fmt.iam_user_identity(account=user.account, user_name=user.name, user_id=user_id,
                                         access_key_id=user.access_key_id)
    else:
        signed_in = planned[0][0] - timedelta(seconds=rng.randint(30, 300))
        records.append(_console_login(actor, user, signed_in, rng))
        identity = fmt.iam_user_identity(
            account=user.account, user_name=user.name, user_id=user_id,
            access_key_id=fmt.iam_unique_id("session_key", actor.key, signed_in.isoformat()),
            console_session_started_at=signed_in, mfa_authenticated=actor.uses_mfa)
    records += [_record(activity, actor, identity, at, context) for at, activity in planned]
    return records


def day_records(day: date, state: TrailState) -> list[dict]:
    """Every record of one day, both accounts and all regions. Each actor draws
    from its own seeded generator, so changing one actor leaves the others be."""
    records: list[dict] = []
    for actor in ACTORS.values():
        rng = random.Random(f"{SEED}:{day.isoformat()}:{actor.key}")
        planned = _planned_calls(actor, day, rng)
        if not planned:
            continue
        context = fmt.CallContext(rng, actor.account, HOME_REGION, day)
        if actor.kind == "role":
            records += _role_records(actor, planned, context, state)
        else:
            records += _user_records(actor, planned, context)
    return records


# --- the inventory -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ownership:
    """What the inventory knows of an identity beyond what AWS says."""

    owner: str
    team: str
    environment: str
    is_ai: bool | None
    agent_name: str = ""
    description: str = ""


OWNERSHIP = {
    "support-agent": Ownership("maria.lopez@example.com", "customer-support", "prod", True, "support-triage",
                               "Support triage agent on Lambda"),
    "codegen-agent": Ownership("sam.chen@example.com", "developer-productivity", "prod", True, "codegen-agent",
                               "Code-generation agent; CI runner outside AWS uses the access key"),
    "data-analysis-agent": Ownership("priya.natarajan@example.com", "analytics", "prod", True, "data-analyst",
                                     "Analysis agent in SageMaker notebooks"),
    "cert-rotator": Ownership("ml-platform-oncall@example.com", "ml-platform", "prod", False, "",
                              "Rotates model-serving TLS certificates"),
    "deploy-agent": Ownership("jonas.weber@example.com", "platform", "prod", True, "release-agent",
                              "Release agent that ships Lambda functions"),
    "lambda-basic-exec": Ownership("jonas.weber@example.com", "platform", "prod", False, "",
                                   "Execution role of deploy-agent's functions"),
    "ops-admin": Ownership("jonas.weber@example.com", "platform", "prod", False, "", "Break-glass automation"),
    "legacy-summarizer-agent": Ownership("li.wei@example.com", "research", "prod", True, "doc-summarizer",
                                         "Replaced by support-agent; never removed"),
    "ownerless-agent": Ownership("", "", "prod", None, "", "Found on an EC2 instance; nobody claims it"),
    "prod-deployer": Ownership("jonas.weber@example.com", "platform", "prod", False, "",
                               "Cross-account deploy role used from dev"),
    "etl-nightly": Ownership("dana.kim@example.com", "data-engineering", "prod", False, "", "Nightly Glue ETL"),
    "reporting-bot": Ownership("bi-team@example.com", "business-intelligence", "prod", True, "weekly-report-agent",
                               "Key used by the weekly report agent; analysts also sign in as this user"),
    "alice": Ownership("alice@example.com", "platform", "prod", False, "", "Administrator"),
    "bob": Ownership("bob@example.com", "platform", "prod", False, "", "Developer"),
    "dev-agent": Ownership("jonas.weber@example.com", "platform", "dev", True, "release-agent-dev",
                           "Bedrock agent in dev; may assume prod-deployer"),
    "dev-ci": Ownership("jonas.weber@example.com", "platform", "dev", False, "", "CI builds in dev"),
}


def _aws_inventory_rows(last_seen: dict[str, datetime], key_last_seen: dict[str, datetime]) -> list[dict]:
    rows = []
    for entity in (*USERS, *ROLES):
        own = OWNERSHIP.get(entity.name)
        if own is None:
            continue
        base = {"identity_id": entity.arn, "name": entity.name, "kind": "user" if isinstance(entity, User) else "role",
                "provider": "aws", "owner": own.owner, "team": own.team, "environment": own.environment,
                "is_ai": own.is_ai, "agent_name": own.agent_name, "status": "active", "description": own.description}
        if isinstance(entity, User) and entity.access_key_created:
            rows.append(base | {"credential_id": entity.access_key_id, "credential_type": "access_key",
                                "created_at": entity.access_key_created,
                                "last_used_at": key_last_seen.get(entity.access_key_id)})
            continue
        last_used = last_seen.get(entity.arn)
        if last_used is None and isinstance(entity, Role):
            last_used = entity.last_used_before_trail
        rows.append(base | {"created_at": entity.created.date(), "last_used_at": last_used})
    return rows


def _other_inventory_rows() -> list[dict]:
    rows = [
        {"identity_id": "openai:key/support-triage", "name": "support-triage", "kind": "api_key", "provider": "openai",
         "owner": "maria.lopez@example.com", "team": "customer-support", "environment": "prod", "is_ai": True,
         "agent_name": "support-triage", "credential_id": "key_7Qm2vXbN4cT9", "credential_type": "api_key",
         "created_at": date(2026, 3, 2), "last_used_at": datetime(2026, 11, 27, 18, 2, 11, tzinfo=UTC),
         "status": "active", "description": "OpenAI key used by support-agent as a fallback model; no expiry"},
        {"identity_id": "github:app/codegen-agent", "name": "codegen-agent", "kind": "app", "provider": "github",
         "owner": "sam.chen@example.com", "team": "developer-productivity", "environment": "prod", "is_ai": True,
         "agent_name": "codegen-agent", "credential_id": "installation/48213977", "credential_type": "token",
         "created_at": date(2026, 10, 13), "last_rotated_at": date(2026, 10, 13),
         "expires_at": SAMPLE_AS_OF + timedelta(days=45), "last_used_at": datetime(2026, 11, 26, 16, 40, 3, tzinfo=UTC),
         "status": "active", "description": "GitHub App installation token for codegen-agent's pull requests"},
    ]
    for cert in CERTIFICATES:
        rows.append({
            "identity_id": f"tls:cert/{cert.common_name}", "name": cert.common_name, "kind": "certificate",
            "provider": "tls", "owner": "ml-platform-oncall@example.com", "team": "ml-platform", "environment": "prod",
            "is_ai": True, "agent_name": cert.serving_job, "credential_id": cert.acm_arn,
            "credential_type": "certificate", "created_at": cert.not_before, "last_rotated_at": cert.not_before,
            "expires_at": cert.not_after, "status": "expired" if cert.not_after < SAMPLE_AS_OF else "active",
            "description": f"Serving certificate of {cert.serving_job}, rotated by cert-rotator"})
    return rows


# --- writing it all -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleSummary:
    """What was written: counts a test or a report can check."""

    files: int
    trail_records: int
    lake_records: int
    redelivered_event_ids: tuple[str, ...]
    records_by_identity: dict[str, int]


def _identity_arn(record: dict) -> str:
    identity = record["userIdentity"]
    if identity["type"] == "AssumedRole":
        return identity["sessionContext"]["sessionIssuer"]["arn"]
    return identity.get("arn") or identity.get("invokedBy") or f"{identity['type']}:{identity.get('accountId', '')}"


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _last_seen(records: Sequence[dict]) -> tuple[dict[str, tuple[datetime, str]], dict[str, datetime]]:
    """Last use per identity ARN (with its region), and per long-lived access key."""
    by_identity: dict[str, tuple[datetime, str]] = {}
    by_key: dict[str, datetime] = {}
    for record in records:
        if record["userIdentity"]["type"] not in ("AssumedRole", "IAMUser"):
            continue
        at = _parse_time(record["eventTime"])
        arn = _identity_arn(record)
        if arn not in by_identity or at > by_identity[arn][0]:
            by_identity[arn] = (at, record["awsRegion"])
        key = record["userIdentity"].get("accessKeyId", "")
        if key.startswith("AKIA") and (key not in by_key or at > by_key[key]):
            by_key[key] = at
    return by_identity, by_key


def _pick_redelivered(records: list[dict], day: date) -> frozenset[str]:
    """One prod us-east-1 event of ``day`` that CloudTrail will deliver twice."""
    candidates = [r for r in records if r["recipientAccountId"] == PROD and r["awsRegion"] == HOME_REGION]
    return frozenset({random.Random(f"{SEED}:redeliver:{day.isoformat()}").choice(candidates)["eventID"]})


def _write_trail_day(out_dir: Path, day: date, records: list[dict], redelivered: frozenset[str]) -> list[Path]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        groups[(record["recipientAccountId"], record["awsRegion"])].append(record)
    paths: list[Path] = []
    for (account, region), group in sorted(groups.items()):
        again = redelivered if (account, region) == (PROD, HOME_REGION) else frozenset()
        files_per_day = FILES_PER_DAY[(account, region)]
        paths += fmt.write_cloudtrail_day(out_dir, account, region, day, group, files_per_day, again)
    return paths


def _write_iam(out_dir: Path, last_used: dict[str, tuple[datetime, str]]) -> list[Path]:
    paths = []
    for account in (PROD, DEV):
        export = authorization_details(account, last_used)
        stem = out_dir / "iam" / f"{account}-authorization-details"
        if account != PAGED_ACCOUNT:
            paths.append(fmt.write_authorization_details(stem.with_suffix(".json"), export))
            continue
        for number, page in enumerate(fmt.paginate_authorization_details(export, PAGE_MAX_ITEMS), start=1):
            paths.append(fmt.write_authorization_details(stem.with_name(f"{stem.name}.page-{number}.json"), page))
    return paths


def generate(out_dir: Path) -> SampleSummary:
    """Write the whole sample under ``out_dir``, replacing what an earlier run wrote there."""
    out_dir = Path(out_dir)
    for name in GENERATED_DIRS:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    state = TrailState()  # one count of sessions through the export's days and the trail's
    lake_records = [r for offset in range(-LAKE_EXPORT_DAYS, 0)
                    for r in day_records(FIRST_TRAIL_DAY + timedelta(days=offset), state)]
    lake_records.sort(key=lambda r: (r["eventTime"], r["eventID"]))
    paths = [fmt.write_json_lines(out_dir / LAKE_EXPORT_PATH, lake_records)]
    trail_records: list[dict] = []
    redelivered: list[str] = []
    for offset in range(TRAIL_DAYS):
        day = FIRST_TRAIL_DAY + timedelta(days=offset)
        records = day_records(day, state)
        again = _pick_redelivered(records, day) if offset in REDELIVERY_DAYS else frozenset()
        paths += _write_trail_day(out_dir, day, records, again)
        trail_records += records
        redelivered += sorted(again)
    last_used, key_last_used = _last_seen(trail_records)
    paths += _write_iam(out_dir, last_used)
    last_seen = {arn: at for arn, (at, _) in last_used.items()}
    inventory_rows = _aws_inventory_rows(last_seen, key_last_used) + _other_inventory_rows()
    paths.append(fmt.write_inventory_csv(out_dir / INVENTORY_PATH, inventory_rows))
    return SampleSummary(
        files=len(paths),
        trail_records=len(trail_records),
        lake_records=len(lake_records),
        redelivered_event_ids=tuple(redelivered),
        records_by_identity=dict(sorted(Counter(_identity_arn(r) for r in trail_records).items())),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the Overreach sample organisation.")
    parser.add_argument("out_dir", type=Path, help="where to write it (data/sample)")
    args = parser.parse_args(argv)
    summary = generate(args.out_dir)
    print(f"wrote {summary.files} files to {args.out_dir}: {summary.trail_records} trail records "
          f"({len(summary.redelivered_event_ids)} delivered twice), {summary.lake_records} in the Lake export")
    for identity, count in summary.records_by_identity.items():
        print(f"  {count:6d}  {identity}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
