"""Read ``aws iam get-account-authorization-details`` output into landing tables.

One or many files, one or several accounts, paged output (``IsTruncated`` /
``Marker``) merged: each entry is self-contained, so pages are simply read one
after another and duplicates are resolved in SQL by ARN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import unquote

import polars as pl

from pipelines.sources.files import SourceFile, UnreadableFile, read_content
from pipelines.sources.ledger import FileOutcome, Rejected, excerpt

LIST_KINDS = {"UserDetailList": "user", "GroupDetailList": "group", "RoleDetailList": "role"}


LANDING_SCHEMAS = {
    "principals": {
        "principal_arn": pl.String,
        "principal_id": pl.String,
        "kind": pl.String,
        "name": pl.String,
        "path": pl.String,
        "account": pl.String,
        "created_at": pl.String,
        "tags": pl.String,
        "trust_policy": pl.String,
        "description": pl.String,
        "max_session_duration_s": pl.Int64,
        "permissions_boundary_arn": pl.String,
        "last_used_at": pl.String,
        "last_used_region": pl.String,
        "instance_profile_arns": pl.List(pl.String),
        "source_file": pl.String,
    },
    "policies": {
        "policy_id": pl.String,
        "name": pl.String,
        "policy_kind": pl.String,
        "account": pl.String,
        "is_aws_managed": pl.Boolean,
        "default_version_id": pl.String,
        "document": pl.String,
        "created_at": pl.String,
        "updated_at": pl.String,
        "attachment_count": pl.Int64,
        "source_file": pl.String,
    },
    "policy_versions": {
        "policy_id": pl.String,
        "version_id": pl.String,
        "is_default": pl.Boolean,
        "document": pl.String,
        "created_at": pl.String,
        "source_file": pl.String,
    },
    "attachments": {"principal_arn": pl.String, "policy_id": pl.String, "via": pl.String, "source_file": pl.String},
    "group_memberships": {
        "user_arn": pl.String,
        "group_name": pl.String,
        "account": pl.String,
        "source_file": pl.String,
    },
}


@dataclass
class AuthorizationTables:
    """Landing rows, one list per table; each row names its source file."""

    principals: list[dict] = field(default_factory=list)
    policies: list[dict] = field(default_factory=list)
    policy_versions: list[dict] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    group_memberships: list[dict] = field(default_factory=list)

    def frames(self) -> dict[str, pl.DataFrame]:
        """Each table as a frame with its landing schema, empty tables included."""
        return {
            name: pl.DataFrame([{k: row.get(k) for k in schema} for row in getattr(self, name)], schema=schema)
            for name, schema in LANDING_SCHEMAS.items()
        }


class BadEntry(ValueError):
    """An entry of the export that cannot be used; the message is the quarantine reason."""


def read_authorization_details(source: SourceFile, tables: AuthorizationTables) -> FileOutcome:
    """Append the file's entries to ``tables``; every entry is loaded or quarantined."""
    outcome = FileOutcome(source=source, format="aws_authorization_details")
    try:
        export = json.loads(read_content(source))
    except (UnreadableFile, ValueError) as error:
        outcome.rejected.append(Rejected(None, f"unreadable JSON: {error}", ""))
        return outcome
    if not isinstance(export, dict):
        outcome.rejected.append(Rejected(None, "top level is not a JSON object", ""))
        return outcome
    for list_name, kind in LIST_KINDS.items():
        for index, entry in enumerate(export.get(list_name) or []):
            _load_entry(outcome, f"{list_name}[{index}]", entry, lambda e, k=kind: _add_principal(tables, e, k, source))
    for index, entry in enumerate(export.get("Policies") or []):
        _load_entry(outcome, f"Policies[{index}]", entry, lambda e: _add_managed_policy(tables, e, source))
    return outcome


def _load_entry(outcome: FileOutcome, position: str, entry, add) -> None:
    try:
        if not isinstance(entry, dict):
            raise BadEntry("entry is not a JSON object")
        add(entry)
        outcome.records_loaded += 1
    except BadEntry as error:
        outcome.rejected.append(Rejected(position, str(error), excerpt(json.dumps(entry, default=str))))


def parse_document(document) -> dict:
    """A policy document as a dict; raw API output URL-encodes documents as strings."""
    if isinstance(document, dict):
        return document
    if isinstance(document, str):
        text = unquote(document) if document.lstrip().startswith("%") else document
        try:
            parsed = json.loads(text)
        except ValueError as error:
            raise BadEntry(f"policy document is not valid JSON: {error}") from error
        if isinstance(parsed, dict):
            return parsed
    raise BadEntry("policy document is missing or not an object")


def account_of(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise BadEntry(f"not an ARN: {arn!r}")
    return parts[4] or "aws"


def _required(entry: dict, key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise BadEntry(f"missing required field {key}")
    return value


def _tags(entry: dict) -> str:
    tags = {t.get("Key"): t.get("Value") for t in entry.get("Tags") or [] if isinstance(t, dict)}
    return json.dumps(tags, sort_keys=True)


def _add_principal(tables: AuthorizationTables, entry: dict, kind: str, source: SourceFile) -> None:
    name_key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
    arn = _required(entry, "Arn")
    name = _required(entry, name_key)
    account = account_of(arn)
    trust = parse_document(entry["AssumeRolePolicyDocument"]) if kind == "role" else None
    boundary = (entry.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    last_used = entry.get("RoleLastUsed") or {}
    inline_key = {"user": "UserPolicyList", "group": "GroupPolicyList", "role": "RolePolicyList"}[kind]
    inline = [(p.get("PolicyName"), parse_document(p.get("PolicyDocument"))) for p in entry.get(inline_key) or []]
    tables.principals.append(
        {
            "principal_arn": arn,
            "principal_id": entry.get(f"{kind.capitalize()}Id"),
            "kind": kind,
            "name": name,
            "path": entry.get("Path"),
            "account": account,
            "created_at": entry.get("CreateDate"),
            "tags": _tags(entry),
            "trust_policy": json.dumps(trust, sort_keys=True) if trust is not None else None,
            "description": entry.get("Description"),
            "max_session_duration_s": entry.get("MaxSessionDuration"),
            "permissions_boundary_arn": boundary,
            "last_used_at": last_used.get("LastUsedDate"),
            "last_used_region": last_used.get("Region"),
            "instance_profile_arns": [p.get("Arn") for p in entry.get("InstanceProfileList") or [] if p.get("Arn")],
            "source_file": source.file,
        }
    )
    for policy_name, document in inline:
        policy_id = f"{arn}#inline/{policy_name}"
        tables.policies.append(_policy_row(policy_id, policy_name, "inline", account, document, source))
        tables.attachments.append(_attachment(arn, policy_id, "inline", source))
    for attached in entry.get("AttachedManagedPolicies") or []:
        tables.attachments.append(_attachment(arn, _required(attached, "PolicyArn"), "managed", source))
    if boundary:
        tables.attachments.append(_attachment(arn, boundary, "boundary", source))
    group_names = entry.get("GroupList") or [] if kind == "user" else []
    for group_name in group_names:
        tables.group_memberships.append(
            {"user_arn": arn, "group_name": group_name, "account": account, "source_file": source.file}
        )


def _add_managed_policy(tables: AuthorizationTables, entry: dict, source: SourceFile) -> None:
    arn = _required(entry, "Arn")
    name = _required(entry, "PolicyName")
    versions = entry.get("PolicyVersionList") or []
    default = next((v for v in versions if v.get("IsDefaultVersion")), None)
    if default is None:
        raise BadEntry("managed policy has no default version in PolicyVersionList")
    for version in versions:
        tables.policy_versions.append(
            {
                "policy_id": arn,
                "version_id": version.get("VersionId"),
                "is_default": bool(version.get("IsDefaultVersion")),
                "document": json.dumps(parse_document(version.get("Document")), sort_keys=True),
                "created_at": version.get("CreateDate"),
                "source_file": source.file,
            }
        )
    row = _policy_row(arn, name, "managed", account_of(arn), parse_document(default.get("Document")), source)
    row |= {
        "default_version_id": default.get("VersionId"),
        "created_at": entry.get("CreateDate"),
        "updated_at": entry.get("UpdateDate"),
        "attachment_count": entry.get("AttachmentCount"),
    }
    tables.policies.append(row)


def _policy_row(policy_id: str, name: str, kind: str, account: str, document: dict, source: SourceFile) -> dict:
    return {
        "policy_id": policy_id,
        "name": name,
        "policy_kind": kind,
        "account": account,
        "is_aws_managed": account == "aws",
        "default_version_id": None,
        "document": json.dumps(document, sort_keys=True),
        "created_at": None,
        "updated_at": None,
        "attachment_count": None,
        "source_file": source.file,
    }


def _attachment(principal_arn: str, policy_id: str, via: str, source: SourceFile) -> dict:
    return {"principal_arn": principal_arn, "policy_id": policy_id, "via": via, "source_file": source.file}
