"""Read identity inventories (CSV or JSON) into landing rows; values are validated in SQL.

Inventories are small (one row per identity and credential), so the rows are read
with the standard csv / json modules, which give exact line numbers for the
quarantine; dates and flags are checked by ``sql/landing/inventory_checked.sql``.
"""

from __future__ import annotations

import csv
import io
import json

from pipelines.sources.files import SourceFile, UnreadableFile, read_content
from pipelines.sources.ledger import FileOutcome, Rejected, excerpt

INVENTORY_COLUMNS = (
    "identity_id",
    "name",
    "kind",
    "provider",
    "owner",
    "team",
    "environment",
    "is_ai",
    "agent_name",
    "credential_id",
    "credential_type",
    "created_at",
    "last_rotated_at",
    "expires_at",
    "last_used_at",
    "status",
    "description",
)


def read_inventory_csv(source: SourceFile, rows: list[dict]) -> FileOutcome:
    """Append the file's rows (all values as text) to ``rows``; broken rows go to the outcome's quarantine."""
    outcome = FileOutcome(source=source, format="inventory_csv")
    try:
        text = read_content(source).decode("utf-8-sig")
    except (UnreadableFile, UnicodeDecodeError) as error:
        outcome.rejected.append(Rejected(None, f"unreadable file: {error}"))
        return outcome
    reader = csv.reader(io.StringIO(text))
    header = [column.strip().lower() for column in next(reader, [])]
    for record in reader:
        if not any(value.strip() for value in record):
            continue
        position = f"line {reader.line_num}"
        if len(record) != len(header):
            reason = f"expected {len(header)} columns, found {len(record)}"
            outcome.rejected.append(Rejected(position, reason, excerpt(",".join(record))))
            continue
        rows.append(_landing_row(dict(zip(header, record)), source, position))
    return outcome


def read_inventory_json(source: SourceFile, rows: list[dict]) -> FileOutcome:
    """Like ``read_inventory_csv`` for a JSON array of objects or ``{"identities": [...]}``."""
    outcome = FileOutcome(source=source, format="inventory_json")
    try:
        document = json.loads(read_content(source))
    except (UnreadableFile, ValueError) as error:
        outcome.rejected.append(Rejected(None, f"unreadable JSON: {error}"))
        return outcome
    records = document.get("identities") if isinstance(document, dict) else document
    if not isinstance(records, list):
        outcome.rejected.append(Rejected(None, "no list of identities in the file"))
        return outcome
    for index, record in enumerate(records, start=1):
        position = f"record {index}"
        if not isinstance(record, dict):
            outcome.rejected.append(Rejected(position, "record is not a JSON object", excerpt(json.dumps(record))))
            continue
        rows.append(_landing_row(record, source, position))
    return outcome


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def _landing_row(record: dict, source: SourceFile, position: str) -> dict:
    normalised = {str(k).strip().lower(): v for k, v in record.items()}
    row = {column: _as_text(normalised.get(column)) for column in INVENTORY_COLUMNS}
    return row | {"source_file": source.file, "source_format": None, "record_position": position}
