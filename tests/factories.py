"""Named factories for hand-built inputs in the real formats."""

from __future__ import annotations

import csv
import io

ACCOUNT = "111122223333"


def policy_document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions, resources="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def trust(service: str | None = None, aws: str | None = None) -> dict:
    principal = {"Service": service} if service else {"AWS": aws}
    return policy_document({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def role(name: str, *, account: str = ACCOUNT, trust_policy: dict | None = None, managed: list[str] = (),
         inline: dict[str, dict] | None = None, tags: dict[str, str] | None = None, boundary: str | None = None,
         path: str = "/", last_used: str | None = None) -> dict:
    entry = {
        "Path": path,
        "RoleName": name,
        "RoleId": f"AROA{name.upper()[:12]:X<12}",
        "Arn": f"arn:aws:iam::{account}:role{path}{name}",
        "CreateDate": "2025-01-02T03:04:05+00:00",
        "AssumeRolePolicyDocument": trust_policy or trust(service="lambda.amazonaws.com"),
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "RoleLastUsed": {"LastUsedDate": last_used, "Region": "us-east-1"} if last_used else {},
    }
    if boundary:
        entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return entry


def user(name: str, *, account: str = ACCOUNT, groups: list[str] = (), managed: list[str] = (),
         inline: dict[str, dict] | None = None, tags: dict[str, str] | None = None) -> dict:
    return {
        "Path": "/",
        "UserName": name,
        "UserId": f"AIDA{name.upper()[:12]:X<12}",
        "Arn": f"arn:aws:iam::{account}:user/{name}",
        "CreateDate": "2024-06-01 10:00:00+00:00",
        "GroupList": list(groups),
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
        "UserPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }


def group(name: str, *, account: str = ACCOUNT, managed: list[str] = (), inline: dict[str, dict] | None = None) -> dict:
    return {
        "Path": "/",
        "GroupName": name,
        "GroupId": f"AGPA{name.upper()[:12]:X<12}",
        "Arn": f"arn:aws:iam::{account}:group/{name}",
        "CreateDate": "2024-01-01T00:00:00Z",
        "GroupPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
    }


def managed_policy(name: str, document: dict, *, account: str = ACCOUNT, older_versions: list[dict] = ()) -> dict:
    arn = f"arn:aws:iam::{account}:policy/{name}"
    versions = [{"Document": document, "VersionId": f"v{len(older_versions) + 1}", "IsDefaultVersion": True}]
    versions += [
        {"Document": d, "VersionId": f"v{i + 1}", "IsDefaultVersion": False} for i, d in enumerate(older_versions)
    ]
    return {
        "PolicyName": name,
        "PolicyId": f"ANPA{name.upper()[:12]:X<12}",
        "Arn": arn,
        "Path": "/",
        "DefaultVersionId": f"v{len(older_versions) + 1}",
        "AttachmentCount": 1,
        "IsAttachable": True,
        "CreateDate": "2024-01-01T00:00:00Z",
        "UpdateDate": "2024-01-01T00:00:00Z",
        "PolicyVersionList": versions,
    }


def authorization_details(*, users=(), groups=(), roles=(), policies=(), page: dict | None = None) -> dict:
    export = {
        "UserDetailList": list(users),
        "GroupDetailList": list(groups),
        "RoleDetailList": list(roles),
        "Policies": list(policies),
    }
    return export | (page or {})


def event(event_id: str, *, time: str = "2026-11-20T10:00:00Z", source: str = "s3.amazonaws.com",
          name: str = "ListBuckets", identity: dict | None = None, error: str | None = None,
          resources: list[str] = (), request: dict | None = None, event_type: str = "AwsApiCall") -> dict:
    record = {
        "eventVersion": "1.09",
        "userIdentity": identity or iam_user_identity("alice"),
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "Boto3/1.34.0 Python/3.11",
        "requestParameters": request,
        "responseElements": None,
        "requestID": f"req-{event_id}",
        "eventID": event_id,
        "readOnly": True,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if resources:
        record["resources"] = [{"ARN": r, "accountId": ACCOUNT, "type": "AWS::S3::Object"} for r in resources]
    if error:
        record["errorCode"] = error
        record["errorMessage"] = "denied"
    return record


def iam_user_identity(name: str, account: str = ACCOUNT, key: str = "AKIAEXAMPLEKEY000001") -> dict:
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{name.upper()}",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": key,
        "userName": name,
    }


def assumed_role_identity(role_name: str, session: str, account: str = ACCOUNT) -> dict:
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLE",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLE",
                "arn": f"arn:aws:iam::{account}:role/{role_name}",
                "accountId": account,
                "userName": role_name,
            },
            "attributes": {"creationDate": "2026-11-20T09:59:00Z", "mfaAuthenticated": "false"},
        },
    }


INVENTORY_HEADER = (
    "identity_id,name,kind,provider,owner,team,environment,is_ai,agent_name,credential_id,credential_type,"
    "created_at,last_rotated_at,expires_at,last_used_at,status,description"
)


def inventory_row(identity_id: str, **fields) -> str:
    """One CSV line, quoted as spreadsheet exports quote (fields with commas or quotes)."""
    columns = INVENTORY_HEADER.split(",")
    values = {"identity_id": identity_id, **fields}
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow([str(values.get(c, "")) for c in columns])
    return line.getvalue()
