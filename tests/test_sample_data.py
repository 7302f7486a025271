"""The committed sample organisation (data/sample) and the format writers behind it.

The sample is what ``python -m pipelines.synth.sample data/sample`` writes; the
invariants below pin what it plants, with the exact values other tests and the
docs (docs/sample.md) rely on.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from pipelines.synth import formats as fmt
from pipelines.synth import sample

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
PROD, DEV = "111122223333", "444455556666"

# Redelivered events, in trail order (2026-08-26, 09-12, 09-30, 10-25, 11-16).
PLANTED_DUPLICATES = (
    "c81c1513-3734-45be-a731-6ff74af0fabe",
    "13113c56-ebfa-43f6-8afd-20f9ce2559bd",
    "f0590526-8e9b-4cc5-805d-b337306ed1c9",
    "738aaebf-911d-4f32-9331-077844d00d1f",
    "4d240ca4-e343-4fe7-9226-6680a5cb4506",
)
TRAIL_FILES = {(PROD, "us-east-1"): 300, (PROD, "eu-west-1"): 30, (DEV, "us-east-1"): 93}
TRAIL_RECORDS_UNIQUE = 5131
LAKE_RECORDS = 154
FILE_NAME = re.compile(
    r"AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=account)_CloudTrail_(?P=region)_(?P=y)(?P=m)(?P=d)T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz"
)


# --- reading the committed sample ------------------------------------------------------


@cache
def trail_files() -> dict[str, list[dict]]:
    """Every CloudTrail delivery file, by path relative to the sample, with its records."""
    files = {}
    for path in sorted(SAMPLE_DIR.glob("AWSLogs/**/*.json.gz")):
        files[path.relative_to(SAMPLE_DIR).as_posix()] = json.loads(gzip.decompress(path.read_bytes()))["Records"]
    return files


@cache
def trail_records() -> list[dict]:
    """Unique records of the trail (one copy of each redelivered event)."""
    unique = {}
    for records in trail_files().values():
        for record in records:
            unique.setdefault(record["eventID"], record)
    return list(unique.values())


@cache
def inventory() -> list[dict]:
    with (SAMPLE_DIR / "inventory" / "identities.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def authorization_pages() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((SAMPLE_DIR / "iam").glob("*.json"))}


def merged_export(account: str) -> dict:
    merged: dict[str, list] = defaultdict(list)
    for name, page in authorization_pages().items():
        if name.startswith(account):
            for key in fmt.AUTHORIZATION_DETAILS_KEYS:
                merged[key] += page[key]
    return merged


def role_detail(name: str, account: str = PROD) -> dict:
    return next(r for r in merged_export(account)["RoleDetailList"] if r["RoleName"] == name)


def policy_detail(name: str, account: str = PROD) -> dict:
    return next(p for p in merged_export(account)["Policies"] if p["PolicyName"] == name)


def actor_name(record: dict) -> str:
    """The role of a session, the user, or the service that made a call."""
    identity = record["userIdentity"]
    if identity["type"] == "AssumedRole":
        return identity["sessionContext"]["sessionIssuer"]["userName"]
    return identity.get("userName") or identity.get("invokedBy") or identity["type"]


def successful_calls(name: str) -> set[tuple[str, str]]:
    return {(r["eventSource"], r["eventName"]) for r in trail_records()
            if actor_name(r) == name and not r.get("errorCode")}


def inventory_row(identity_id: str) -> dict:
    return next(row for row in inventory() if row["identity_id"] == identity_id)


def gzip_payload(data: bytes) -> bytes:
    return gzip.decompress(data)


# --- the committed files are the generator's output ---------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("sample")
    return out_dir, sample.generate(out_dir)


def test_committed_sample_is_exactly_what_the_generator_writes(generated):
    out_dir, _ = generated
    committed = sorted(p.relative_to(SAMPLE_DIR).as_posix() for p in SAMPLE_DIR.rglob("*") if p.is_file())
    fresh = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    assert committed == fresh
    for relative in fresh:
        expected, actual = (out_dir / relative).read_bytes(), (SAMPLE_DIR / relative).read_bytes()
        if relative.endswith(".gz"):
            # Compressed bytes depend on the zlib build; the payload and the header may not.
            assert actual[:10] == expected[:10], relative
            assert gzip_payload(actual) == gzip_payload(expected), relative
        else:
            assert actual == expected, relative


def test_generator_reports_what_it_planted(generated):
    _, summary = generated
    assert summary.files == 428
    assert summary.trail_records == TRAIL_RECORDS_UNIQUE
    assert summary.lake_records == LAKE_RECORDS
    assert summary.redelivered_event_ids == PLANTED_DUPLICATES


def test_generator_output_does_not_depend_on_the_run(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    sample.generate(first)
    sample.generate(second)
    for path in sorted(first.rglob("*.json*")):
        assert path.read_bytes() == (second / path.relative_to(first)).read_bytes()


def test_sample_stays_small():
    assert sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file()) < 2_000_000


# --- CloudTrail ------------------------------------------------------------------------------


def test_trail_files_follow_the_s3_layout_per_account_and_region():
    counts = Counter()
    for relative in trail_files():
        match = FILE_NAME.fullmatch(relative)
        assert match, relative
        counts[(match["account"], match["region"])] += 1
    assert dict(counts) == TRAIL_FILES


def test_prod_trail_covers_one_hundred_days_ending_on_the_as_of_date():
    days = {tuple(r.split("/")[4:7]) for r in trail_files() if r.startswith(f"AWSLogs/{PROD}/CloudTrail/us-east-1/")}
    assert len(days) == 100
    assert min(days) == ("2026", "08", "20")
    assert max(days) == ("2026", "11", "27")
    assert sample.SAMPLE_AS_OF == date(2026, 11, 27)


def test_every_trail_file_holds_records_of_its_own_account_region_and_day():
    for relative, records in trail_files().items():
        account, region, year, month, day = relative.split("/")[1:2] + relative.split("/")[3:7]
        assert records, relative
        for record in records:
            assert record["recipientAccountId"] == account
            assert record["awsRegion"] == region
            assert record["eventTime"][:10] == f"{year}-{month}-{day}"
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", record["eventTime"])


def test_trail_files_are_gzip_with_a_zero_mtime_and_a_records_list():
    for path in sorted(SAMPLE_DIR.glob("AWSLogs/**/*.json.gz"))[:20]:
        data = path.read_bytes()
        assert data[:2] == b"\x1f\x8b"
        assert data[4:8] == b"\x00\x00\x00\x00"
        assert list(json.loads(gzip.decompress(data))) == ["Records"]


def test_five_events_are_delivered_twice_in_two_files_of_the_same_day():
    seen = defaultdict(list)
    for relative, records in trail_files().items():
        for record in records:
            seen[record["eventID"]].append((relative, record))
    duplicates = {event_id: copies for event_id, copies in seen.items() if len(copies) > 1}
    assert sorted(duplicates) == sorted(PLANTED_DUPLICATES)
    for copies in duplicates.values():
        (first_file, first), (second_file, second) = copies
        assert first == second
        assert first_file != second_file
        assert first_file.split("/")[4:7] == second_file.split("/")[4:7]
    assert sum(len(records) for records in trail_files().values()) == TRAIL_RECORDS_UNIQUE + 5


def test_lake_export_holds_single_records_for_the_three_days_before_the_trail():
    path = SAMPLE_DIR / "exports" / "lake-export-2026-08-17.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == LAKE_RECORDS
    assert {r["eventTime"][:10] for r in records} == {"2026-08-17", "2026-08-18", "2026-08-19"}
    assert not {r["eventID"] for r in records} & {r["eventID"] for r in trail_records()}


def test_record_shapes_follow_cloudtrail():
    by_type = Counter(r["userIdentity"]["type"] for r in trail_records())
    assert by_type == {"AssumedRole": 3702, "IAMUser": 999, "AWSService": 422, "AWSAccount": 8}
    for record in trail_records():
        assert record["eventVersion"] in ("1.08", "1.09")
        assert record["eventCategory"] == ("Data" if record["managementEvent"] is False else "Management")
        if record["eventCategory"] == "Data":
            assert record["resources"]
        identity = record["userIdentity"]
        if identity["type"] == "AssumedRole":
            role, session = identity["arn"].split("/")[1:]
            assert identity["arn"] == f"arn:aws:sts::{identity['accountId']}:assumed-role/{role}/{session}"
            assert identity["principalId"] == f"{identity['sessionContext']['sessionIssuer']['principalId']}:{session}"
            assert identity["accessKeyId"].startswith("ASIA")
            assert identity["sessionContext"]["sessionIssuer"]["type"] == "Role"


def test_quirky_event_names_are_the_ones_cloudtrail_uses():
    names = Counter((r["eventSource"], r["eventName"]) for r in trail_records())
    for expected in (
        ("lambda.amazonaws.com", "CreateFunction20150331"),
        ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
        ("lambda.amazonaws.com", "Invoke"),
        ("monitoring.amazonaws.com", "GetMetricData"),
        ("bedrock.amazonaws.com", "InvokeModel"),
        ("s3.amazonaws.com", "ListObjects"),
        ("s3.amazonaws.com", "ListObjectsV2"),
        ("s3.amazonaws.com", "HeadObject"),
        ("signin.amazonaws.com", "ConsoleLogin"),
    ):
        assert names[expected] > 0, expected


# --- planted behaviour -------------------------------------------------------------------


def test_support_agent_uses_every_granted_action_it_can_be_seen_using_every_day():
    expected = {
        ("bedrock.amazonaws.com", "InvokeModel"),
        ("dynamodb.amazonaws.com", "GetItem"),
        ("dynamodb.amazonaws.com", "PutItem"),
        ("dynamodb.amazonaws.com", "Query"),
        ("logs.amazonaws.com", "CreateLogStream"),
        ("s3.amazonaws.com", "GetObject"),
    }
    assert successful_calls("support-agent") == expected
    by_day = defaultdict(set)
    for record in trail_records():
        if actor_name(record) == "support-agent":
            by_day[record["eventTime"][:10]].add((record["eventSource"], record["eventName"]))
    assert len(by_day) == 100
    assert all(calls == expected for calls in by_day.values())
    sessions = {r["userIdentity"]["arn"].rsplit("/", 1)[1] for r in trail_records() if actor_name(r) == "support-agent"}
    assert all(re.fullmatch(r"support-triage-\d+", s) for s in sessions)


@pytest.mark.parametrize(("name", "expected"), [
    ("data-analysis-agent", {("athena.amazonaws.com", "GetQueryResults"), ("athena.amazonaws.com", "StartQueryExecution"),
                             ("glue.amazonaws.com", "GetTable"), ("s3.amazonaws.com", "GetObject"),
                             ("s3.amazonaws.com", "HeadObject"), ("s3.amazonaws.com", "ListObjects")}),
    ("deploy-agent", {("lambda.amazonaws.com", "CreateFunction20150331"), ("lambda.amazonaws.com", "GetFunction20150331v2"),
                      ("lambda.amazonaws.com", "Invoke"), ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2")}),
    ("codegen-agent", {("codebuild.amazonaws.com", "BatchGetBuilds"), ("codebuild.amazonaws.com", "StartBuild"),
                       ("codecommit.amazonaws.com", "GitPull"), ("codecommit.amazonaws.com", "GitPush"),
                       ("s3.amazonaws.com", "PutObject")}),
    ("cert-rotator", {("acm.amazonaws.com", "DescribeCertificate"), ("acm.amazonaws.com", "ImportCertificate"),
                      ("acm.amazonaws.com", "ListCertificates"), ("iam.amazonaws.com", "UploadServerCertificate"),
                      ("secretsmanager.amazonaws.com", "PutSecretValue")}),
    ("ownerless-agent", {("s3.amazonaws.com", "GetObject"), ("s3.amazonaws.com", "ListObjects"),
                         ("sqs.amazonaws.com", "SendMessage")}),
    ("prod-deployer", {("cloudformation.amazonaws.com", "CreateStack"), ("cloudformation.amazonaws.com", "DescribeStacks"),
                       ("cloudformation.amazonaws.com", "UpdateStack"),
                       ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2")}),
    ("dev-agent", {("bedrock.amazonaws.com", "InvokeModel"), ("s3.amazonaws.com", "GetObject"),
                   ("s3.amazonaws.com", "PutObject"), ("sts.amazonaws.com", "AssumeRole")}),
])
def test_planted_identities_make_exactly_their_calls(name, expected):
    assert successful_calls(name) == expected


def test_denied_calls_belong_to_data_analysis_agent_and_deploy_agent():
    denials = Counter((actor_name(r), r["eventName"], r["errorCode"]) for r in trail_records() if r.get("errorCode"))
    assert denials == {
        ("data-analysis-agent", "ExecuteStatement", "AccessDeniedException"): 13,
        ("data-analysis-agent", "GetObject", "AccessDenied"): 6,
        ("deploy-agent", "DeleteFunction20150331", "AccessDeniedException"): 5,
        ("deploy-agent", "AttachRolePolicy", "AccessDenied"): 2,
    }
    assert all(r["responseElements"] is None for r in trail_records() if r.get("errorCode"))


def test_deploy_agent_passes_only_lambda_basic_exec_and_ops_admin_never_appears():
    passed = {r["requestParameters"]["role"] for r in trail_records() if r["eventName"] == "CreateFunction20150331"}
    assert passed == {f"arn:aws:iam::{PROD}:role/lambda-basic-exec"}
    assert not any("role/ops-admin" in json.dumps(r) for r in trail_records())


def test_legacy_summarizer_is_dormant_for_two_hundred_days():
    assert not any("legacy-summarizer-agent" in json.dumps(r) for r in trail_records())
    last_used = role_detail("legacy-summarizer-agent")["RoleLastUsed"]["LastUsedDate"]
    assert last_used == "2026-05-11T14:22:51+00:00"
    assert inventory_row(f"arn:aws:iam::{PROD}:role/legacy-summarizer-agent")["last_used_at"] == "2026-05-11T14:22:51Z"


def test_dev_agent_assumes_prod_deployer_logged_in_both_accounts():
    assume = [r for r in trail_records() if r["eventName"] == "AssumeRole"
              and r["requestParameters"]["roleArn"] == f"arn:aws:iam::{PROD}:role/prod-deployer"]
    in_dev = [r for r in assume if r["recipientAccountId"] == DEV]
    in_prod = [r for r in assume if r["recipientAccountId"] == PROD]
    assert len(in_dev) == len(in_prod) == 8
    assert {actor_name(r) for r in in_dev} == {"dev-agent"}
    assert {r["userIdentity"]["type"] for r in in_prod} == {"AWSAccount"}
    assert {r["sharedEventID"] for r in in_dev} == {r["sharedEventID"] for r in in_prod}
    sessions = {r["userIdentity"]["arn"].rsplit("/", 1)[1] for r in trail_records() if actor_name(r) == "prod-deployer"}
    assert sessions == {f"dev-agent-{n}" for n in range(1, 9)}


def test_reporting_bot_is_used_by_its_agent_key_and_by_people_in_the_console():
    key_id = inventory_row(f"arn:aws:iam::{PROD}:user/reporting-bot")["credential_id"]
    records = [r for r in trail_records() if actor_name(r) == "reporting-bot"]
    with_key = [r for r in records if r["userIdentity"].get("accessKeyId") == key_id]
    in_console = [r for r in records if r.get("sessionCredentialFromConsole") == "true"]
    sign_ins = [r for r in records if r["eventType"] == "AwsConsoleSignIn"]
    assert (len(with_key), len(in_console), len(sign_ins)) == (336, 57, 21)
    assert {r["userAgent"].split("/")[0] for r in with_key} == {"Boto3"}
    assert {r["additionalEventData"]["MFAUsed"] for r in sign_ins} == {"No"}


def test_aws_services_open_sessions_for_their_roles():
    services = Counter(r["userIdentity"]["invokedBy"] for r in trail_records() if r["userIdentity"]["type"] == "AWSService")
    assert services == {"lambda.amazonaws.com": 200, "glue.amazonaws.com": 100, "sagemaker.amazonaws.com": 84,
                        "ec2.amazonaws.com": 38}


# --- IAM authorization details --------------------------------------------------------


def test_prod_export_comes_in_two_pages_and_dev_in_one_file():
    pages = authorization_pages()
    assert sorted(pages) == [f"{PROD}-authorization-details.page-1.json", f"{PROD}-authorization-details.page-2.json",
                             f"{DEV}-authorization-details.json"]
    first, second = pages[f"{PROD}-authorization-details.page-1.json"], pages[f"{PROD}-authorization-details.page-2.json"]
    assert first["IsTruncated"] is True and first["Marker"]
    assert second["IsTruncated"] is False and "Marker" not in second
    assert "IsTruncated" not in pages[f"{DEV}-authorization-details.json"]
    assert {k: len(v) for k, v in merged_export(PROD).items()} == {
        "UserDetailList": 4, "GroupDetailList": 2, "RoleDetailList": 11, "Policies": 9}
    assert {k: len(v) for k, v in merged_export(DEV).items()} == {
        "UserDetailList": 0, "GroupDetailList": 0, "RoleDetailList": 2, "Policies": 1}
    assert first["RoleDetailList"] and second["RoleDetailList"]  # the roles list is split across pages


def test_only_the_default_policy_version_is_narrow():
    policy = policy_detail("support-agent-access")
    versions = {v["VersionId"]: v for v in policy["PolicyVersionList"]}
    assert policy["DefaultVersionId"] == "v2"
    assert (versions["v2"]["IsDefaultVersion"], versions["v1"]["IsDefaultVersion"]) == (True, False)
    assert "dynamodb:*" in json.dumps(versions["v1"]["Document"])
    assert "*" not in json.dumps([s["Action"] for s in versions["v2"]["Document"]["Statement"]])


def test_aws_managed_policies_carry_their_published_documents():
    admin = policy_detail("AdministratorAccess")
    assert admin["Arn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert admin["PolicyVersionList"][0]["Document"] == {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert policy_detail("AWSLambdaBasicExecutionRole")["Arn"] == (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")


def trust_principals(role: dict) -> list:
    return [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]


def test_planted_roles_have_their_trust_tags_and_grants():
    tags = {r["RoleName"]: {t["Key"]: t["Value"] for t in r["Tags"]} for r in merged_export(PROD)["RoleDetailList"]}
    assert tags["support-agent"]["ai-agent"] == "true"
    assert tags["deploy-agent"]["ai-agent"] == "true"
    assert tags["ownerless-agent"] == {}
    assert trust_principals(role_detail("support-agent")) == [{"Service": "lambda.amazonaws.com"}]
    assert trust_principals(role_detail("data-analysis-agent")) == [{"Service": "sagemaker.amazonaws.com"}]
    assert trust_principals(role_detail("ops-admin")) == [{"Service": "lambda.amazonaws.com"}]
    assert trust_principals(role_detail("prod-deployer")) == [{"AWS": f"arn:aws:iam::{DEV}:root"}]
    assert trust_principals(role_detail("dev-agent", DEV)) == [{"Service": "bedrock.amazonaws.com"}]
    assert role_detail("data-analysis-agent")["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": f"arn:aws:iam::{PROD}:policy/analytics-boundary"}
    assert [p["PolicyName"] for p in role_detail("ops-admin")["AttachedManagedPolicies"]] == ["AdministratorAccess"]
    deploy = role_detail("deploy-agent")["RolePolicyList"][0]["PolicyDocument"]["Statement"]
    assert {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"} in deploy
    assert role_detail("AWSServiceRoleForOrganizations")["Path"] == "/aws-service-role/organizations.amazonaws.com/"
    codegen = next(u for u in merged_export(PROD)["UserDetailList"] if u["UserName"] == "codegen-agent")
    assert {"Key": "workload-type", "Value": "ai-agent"} in codegen["Tags"]


# --- the inventory -----------------------------------------------------------------------


def test_inventory_has_exactly_the_documented_columns():
    with (SAMPLE_DIR / "inventory" / "identities.csv").open(newline="") as handle:
        assert tuple(next(csv.reader(handle))) == fmt.INVENTORY_COLUMNS
    assert fmt.INVENTORY_COLUMNS == (
        "identity_id", "name", "kind", "provider", "owner", "team", "environment", "is_ai", "agent_name",
        "credential_id", "credential_type", "created_at", "last_rotated_at", "expires_at", "last_used_at", "status",
        "description")
    assert len(inventory()) == 22


def test_inventory_lists_every_planted_identity():
    ids = {row["identity_id"] for row in inventory()}
    for name in ("support-agent", "data-analysis-agent", "cert-rotator", "deploy-agent", "ops-admin",
                 "legacy-summarizer-agent", "ownerless-agent", "prod-deployer", "etl-nightly"):
        assert f"arn:aws:iam::{PROD}:role/{name}" in ids
    for name in ("alice", "bob", "codegen-agent", "reporting-bot"):
        assert f"arn:aws:iam::{PROD}:user/{name}" in ids
    assert f"arn:aws:iam::{DEV}:role/dev-agent" in ids
    assert {"openai:key/support-triage", "github:app/codegen-agent"} <= ids


def test_codegen_agent_key_is_four_hundred_days_old_never_rotated_and_the_one_in_the_trail():
    row = inventory_row(f"arn:aws:iam::{PROD}:user/codegen-agent")
    assert (row["credential_type"], row["created_at"], row["last_rotated_at"]) == ("access_key", "2025-10-23", "")
    assert date.fromisoformat(row["created_at"]) == sample.SAMPLE_AS_OF - timedelta(days=400)
    keys = {r["userIdentity"]["accessKeyId"] for r in trail_records() if actor_name(r) == "codegen-agent"}
    assert keys == {row["credential_id"]}


def test_ownerless_agent_has_no_owner_and_no_ai_flag():
    row = inventory_row(f"arn:aws:iam::{PROD}:role/ownerless-agent")
    assert (row["owner"], row["team"], row["is_ai"]) == ("", "", "")


def test_model_serving_certificates_expire_soon_or_have_expired():
    certificates = [row for row in inventory() if row["credential_type"] == "certificate"]
    assert len(certificates) == 4
    assert {row["team"] for row in certificates} == {"ml-platform"}
    as_of = sample.SAMPLE_AS_OF
    days_left = sorted((date.fromisoformat(row["expires_at"]) - as_of).days for row in certificates)
    assert days_left == [-7, 7, 22, 277]


def test_other_platform_credentials():
    openai = inventory_row("openai:key/support-triage")
    assert (openai["credential_type"], openai["expires_at"], openai["agent_name"]) == ("api_key", "", "support-triage")
    github = inventory_row("github:app/codegen-agent")
    assert github["credential_type"] == "token"
    assert date.fromisoformat(github["expires_at"]) == sample.SAMPLE_AS_OF + timedelta(days=45)


# --- the format writers on small inputs ---------------------------------------------------------


def tiny_export() -> dict:
    return {
        "UserDetailList": [{"UserName": "u1"}, {"UserName": "u2"}],
        "GroupDetailList": [],
        "RoleDetailList": [{"RoleName": "r1"}, {"RoleName": "r2"}],
        "Policies": [{"PolicyName": "p1"}],
    }


def test_paginate_authorization_details_splits_in_api_order():
    pages = fmt.paginate_authorization_details(tiny_export(), max_items=3)
    assert [{k: [next(iter(item.values())) for item in page[k]] for k in fmt.AUTHORIZATION_DETAILS_KEYS}
            for page in pages] == [
        {"UserDetailList": ["u1", "u2"], "GroupDetailList": [], "RoleDetailList": ["r1"], "Policies": []},
        {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": ["r2"], "Policies": ["p1"]},
    ]
    assert [page["IsTruncated"] for page in pages] == [True, False]
    assert "Marker" in pages[0] and "Marker" not in pages[1]


def record_at(event_id: str, moment: str) -> dict:
    return {"eventID": event_id, "eventTime": moment}


def test_write_cloudtrail_day_splits_by_time_window_and_redelivers(tmp_path):
    records = [record_at("a", "2026-11-27T01:00:00Z"), record_at("b", "2026-11-27T13:00:00Z"),
               record_at("c", "2026-11-27T23:59:59Z")]
    paths = fmt.write_cloudtrail_day(tmp_path, PROD, "us-east-1", date(2026, 11, 27), records, files_per_day=4,
                                     redelivered_event_ids=frozenset({"c"}))
    assert [p.name.split("_")[3] for p in paths] == ["20261127T0555Z", "20261127T1755Z", "20261127T2355Z"]
    contents = [[r["eventID"] for r in json.loads(gzip.decompress(p.read_bytes()))["Records"]] for p in paths]
    assert contents == [["a"], ["b", "c"], ["c"]]


def test_cloudtrail_object_key_is_the_s3_delivery_key():
    key = fmt.cloudtrail_object_key(PROD, "us-east-1", datetime(2026, 11, 27, 23, 55, tzinfo=UTC), "0")
    assert key == ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/"
                   "111122223333_CloudTrail_us-east-1_20261127T2355Z_UaXMH83aLm2KsNxw.json.gz")


def test_cloudtrail_file_bytes_do_not_depend_on_the_time_of_writing():
    data = fmt.cloudtrail_file_bytes([record_at("a", "2026-11-27T01:00:00Z")])
    assert data[4:8] == b"\x00\x00\x00\x00"
    assert gzip.decompress(data) == b'{"Records":[{"eventID":"a","eventTime":"2026-11-27T01:00:00Z"}]}'


def test_json_bytes_match_compact_standard_json():
    record = trail_records()[0]
    assert fmt.json_bytes(record) == json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


def test_iam_unique_ids_have_aws_prefixes_and_lengths():
    assert fmt.iam_unique_id("role", PROD, "support-agent") == "AROA52ZT3HLJ2TMMQPGBC"
    assert fmt.iam_unique_id("access_key", PROD, "codegen-agent") == "AKIAVQKZHU5B2ONCGNV6"


def test_inventory_writer_fills_missing_columns_and_refuses_unknown_ones(tmp_path):
    path = fmt.write_inventory_csv(tmp_path / "inv.csv", [
        {"identity_id": "tls:cert/a", "is_ai": True, "expires_at": date(2026, 12, 1)}])
    assert path.read_text().splitlines()[1] == "tls:cert/a,,,,,,,true,,,,,,2026-12-01,,,"
    with pytest.raises(ValueError, match="unknown inventory columns"):
        fmt.write_inventory_csv(tmp_path / "bad.csv", [{"identity_id": "x", "owner_email": "y"}])
