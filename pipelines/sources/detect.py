"""Recognise an input file's format from its content, never from its name."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pipelines.sources.files import HEAD_BYTES, SourceFile, read_head

AWS_AUTHORIZATION_DETAILS = "aws_authorization_details"
CLOUDTRAIL_RECORDS = "cloudtrail_records"
CLOUDTRAIL_JSONL = "cloudtrail_jsonl"
INVENTORY_CSV = "inventory_csv"
INVENTORY_JSON = "inventory_json"

FORMATS = (AWS_AUTHORIZATION_DETAILS, CLOUDTRAIL_RECORDS, CLOUDTRAIL_JSONL, INVENTORY_CSV, INVENTORY_JSON)

_AUTHORIZATION_KEYS = re.compile(rb'^\{\s*"(UserDetailList|GroupDetailList|RoleDetailList|Policies|IsTruncated|Marker)"\s*:')
_RECORDS_WRAPPER = re.compile(rb'^\{\s*"Records"\s*:\s*\[')
_INVENTORY_ARRAY = re.compile(rb'^\[\s*\{[^{}]*"identity_id"\s*:')
_INVENTORY_OBJECT = re.compile(rb'^\{\s*"identities"\s*:\s*\[')
_CLOUDTRAIL_KEYS = {"eventSource", "eventName"}


@dataclass(frozen=True)
class Detection:
    """format: one of FORMATS, or None when the file is skipped; reason: why, in words."""

    format: str | None
    reason: str


# Enough of a file's start for the binary check and the wrappers that name a format in their first key: most
# files (CloudTrail log files) are recognised from it, without decompressing the whole head.
PREFIX_BYTES = 8 * 1024
_BINARY_CHECK_BYTES = 4096


def detect_format(source: SourceFile) -> Detection:
    head = read_head(source, PREFIX_BYTES)
    whole = len(head) < PREFIX_BYTES
    text = _text_of(head)
    if whole or len(text) >= _BINARY_CHECK_BYTES:  # the binary check sees what it would see in the whole head
        by_prefix = _detect_by_prefix(text)
        if by_prefix is not None:
            return by_prefix
    return _detect_by_head(text if whole else _text_of(read_head(source)))


def _text_of(head: bytes) -> bytes:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")


def _detect_by_prefix(text: bytes) -> Detection | None:
    """The detection a file's first bytes settle, or None when it takes more of the head to tell."""
    if b"\x00" in text[:_BINARY_CHECK_BYTES]:
        return Detection(None, "binary content, not a supported format")
    if _RECORDS_WRAPPER.match(text):
        return Detection(CLOUDTRAIL_RECORDS, 'CloudTrail log file ({"Records": [...]})')
    if _AUTHORIZATION_KEYS.match(text):
        return Detection(AWS_AUTHORIZATION_DETAILS, "aws iam get-account-authorization-details output")
    if _INVENTORY_OBJECT.match(text):
        return Detection(INVENTORY_JSON, "identity inventory (JSON with identity_id)")
    return None


def _detect_by_head(text: bytes) -> Detection:
    """What a file's first ``HEAD_BYTES`` show (its prefix may have settled it already)."""
    if not text:
        return Detection(None, "empty file")
    by_prefix = _detect_by_prefix(text)
    if by_prefix is not None:
        return by_prefix
    if _INVENTORY_ARRAY.match(text):
        return Detection(INVENTORY_JSON, "identity inventory (JSON with identity_id)")
    first_line = text.split(b"\n", 1)[0].strip()
    if first_line.startswith(b"{"):
        return _detect_json_lines(first_line)
    if _is_inventory_header(first_line):
        return Detection(INVENTORY_CSV, "identity inventory (CSV with an identity_id column)")
    return Detection(None, "not a recognised format (no CloudTrail, IAM authorization details or inventory content)")


def _detect_json_lines(first_line: bytes) -> Detection:
    try:
        record = json.loads(first_line)
    except ValueError:
        return Detection(None, "JSON object of an unrecognised shape")
    if isinstance(record, dict) and _CLOUDTRAIL_KEYS <= record.keys():
        return Detection(CLOUDTRAIL_JSONL, "CloudTrail records as JSON Lines")
    return Detection(None, "JSON object of an unrecognised shape")


def _is_inventory_header(line: bytes) -> bool:
    columns = [c.strip().strip('"').lower() for c in line.decode("utf-8", "replace").split(",")]
    return "identity_id" in columns
