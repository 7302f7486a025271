"""What each input gave: the load log and the quarantine, written beside the landing Parquet."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.sources.files import SourceFile

EXCERPT_CHARS = 240

LOAD_LOG_SCHEMA = {
    "source_file": pl.String,
    "file_sha256": pl.String,
    "file_size_bytes": pl.Int64,
    "format": pl.String,
    "status": pl.String,
    "records_read": pl.Int64,
    "records_loaded": pl.Int64,
    "records_quarantined": pl.Int64,
    "reason": pl.String,
}
QUARANTINE_SCHEMA = {
    "source_file": pl.String,
    "format": pl.String,
    "record_position": pl.String,
    "reason": pl.String,
    "excerpt": pl.String,
}


@dataclass(frozen=True)
class Rejected:
    """One record that was not loaded. position: where in the file (``line 12``, ``Records[3]``,
    ``RoleDetailList[4]``), or None when the whole file is unreadable."""

    position: str | None
    reason: str
    excerpt: str = ""


@dataclass
class FileOutcome:
    """What one input file gave. records_read always equals loaded + quarantined."""

    source: SourceFile
    format: str | None
    records_loaded: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    reason: str = ""
    records_by_day: dict[str, int] = field(default_factory=dict)
    was_landed_before: bool = False
    records_file: str | None = None

    def reject(self, position: str | None, reason: str, text: str | bytes = "") -> None:
        self.rejected.append(Rejected(position, reason, excerpt(text)))

    @property
    def records_quarantined(self) -> int:
        return len(self.rejected)

    @property
    def status(self) -> str:
        if self.format is None:
            return "skipped"
        if self.records_loaded == 0 and self.rejected:
            return "failed"
        return "partial" if self.rejected else "loaded"

    def load_log_row(self) -> dict:
        return {
            "source_file": self.source.file,
            "file_sha256": self.source.sha256,
            "file_size_bytes": self.source.size_bytes,
            "format": self.format,
            "status": self.status,
            "records_read": self.records_loaded + self.records_quarantined,
            "records_loaded": self.records_loaded,
            "records_quarantined": self.records_quarantined,
            "reason": self.reason or None,
        }

    def quarantine_rows(self) -> list[dict]:
        return [
            {
                "source_file": self.source.file,
                "format": self.format,
                "record_position": r.position,
                "reason": r.reason,
                "excerpt": r.excerpt[:EXCERPT_CHARS],
            }
            for r in self.rejected
        ]


def excerpt(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    return " ".join(text.split())[:EXCERPT_CHARS]


def write_ledger(outcomes: list[FileOutcome], directory: Path, name: str) -> None:
    """Write ``<directory>/load_log/<name>.parquet`` and ``<directory>/quarantine/<name>.parquet``."""
    load_log = pl.DataFrame([o.load_log_row() for o in outcomes], schema=LOAD_LOG_SCHEMA)
    quarantine_rows = [row for o in outcomes for row in o.quarantine_rows()]
    quarantine = pl.DataFrame(quarantine_rows, schema=QUARANTINE_SCHEMA)
    for table, frame in (("load_log", load_log), ("quarantine", quarantine)):
        (directory / table).mkdir(parents=True, exist_ok=True)
        frame.write_parquet(directory / table / f"{name}.parquet")
