"""Land CloudTrail records as Parquet, parsed by DuckDB (``json_transform``) with explicit columns.

Native log files (``{"Records": [...]}``, gzipped or not) are unwrapped to their
record array before DuckDB sees them: DuckDB reads one huge wrapper object an
order of magnitude slower than the same records as an array. JSON Lines exports
(CloudTrail Lake, Athena, Logstash) are read as lines. DuckDB parses the arrays
where the gunzip left them, through an Arrow table over Python's memory. Python
parses records only for a file DuckDB rejects, to find and quarantine the bad
records.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from array import array
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.sources.detect import CLOUDTRAIL_JSONL, CLOUDTRAIL_RECORDS
from pipelines.sources.files import SourceFile, UnreadableFile, read_content
from pipelines.sources.ledger import FileOutcome, Rejected, excerpt
from pipelines.sql import sql_text

_WRAPPER_START = re.compile(rb'^\s*\{\s*"Records"\s*:\s*')
# Bumped when what a records directory holds changes: files landed in another layout are landed again.
LANDING_LAYOUT = 2
ARRAY, LINES = "array", "newline_delimited"
# a batch's records as DuckDB reads them (``_pack``)
Packed = pa.Table


@dataclass(frozen=True)
class ReadPlan:
    """How one source file is read: its records (held in memory once unwrapped or gunzipped, read from
    ``read_path`` otherwise), as which JSON format, and how to name positions."""

    source: SourceFile
    read_path: Path
    json_format: str
    position_prefix: str
    content: bytes | memoryview | None = None

    def records(self) -> bytes | memoryview:
        return self.content if self.content is not None else self.read_path.read_bytes()


def land_cloudtrail(
    con: duckdb.DuckDBPyConnection, sources: list[tuple[SourceFile, str]], landing_dir: Path, scratch_dir: Path
) -> list[FileOutcome]:
    """Land the records of every file not landed before; reuse what earlier runs landed.

    Landing is keyed by content hash: ``outcomes/batch-<digest>.jsonl`` holds, a line per
    file of one night's new files, what the file gave and in which
    ``records/batch-<digest>-<n>/`` its records are: attributed events, rows tagged with their
    file's ``source_key``, one Parquet per UTC day (``landing_part=<day>/``). A night reads only
    new files; files no longer among the sources leave the landing area. Every record is either
    landed or quarantined; the outcomes say which, file by file.
    """
    records_dir, outcomes_dir = landing_dir / "records", landing_dir / "outcomes"
    records_dir.mkdir(parents=True, exist_ok=True)
    outcomes_dir.mkdir(parents=True, exist_ok=True)
    landed = _forget_absent_files(landing_dir, {s.key for s, _ in sources})
    outcomes: dict[str, FileOutcome] = {}
    new: list[tuple[SourceFile, str]] = []
    for source, fmt in sources:
        document = landed.get(source.key)
        if document is None:
            new.append((source, fmt))
            outcomes[source.file] = FileOutcome(source=source, format=fmt)
        else:
            outcomes[source.file] = outcome_from_document(source, document)
    if new:
        scratch_dir.mkdir(parents=True, exist_ok=True)
        batch = f"batch-{hashlib.sha256(','.join(sorted(s.key for s, _ in new)).encode()).hexdigest()[:20]}"
        _Lander(con, outcomes, records_dir, batch, scratch_dir).land(sorted(new, key=lambda n: delivery_day(n[0].path)))
        write_landed_outcomes(outcomes_dir / f"{batch}.jsonl", [outcomes[source.file] for source, _ in new])
        shutil.rmtree(scratch_dir, ignore_errors=True)
    return list(outcomes.values())


_DELIVERY_DAY = re.compile(r"_(\d{8})T\d{4}Z_|/(\d{4})/(\d{2})/(\d{2})/")


def delivery_day(path: Path) -> str:
    """The day a CloudTrail file was delivered, from its name or its S3 layout (``""`` when neither says):
    new files are read in order of it, so that a read's landed Parquet holds a few whole days, not a slice of
    every day (a file per day and read, which a day taken as landed keeps)."""
    found = _DELIVERY_DAY.search(path.as_posix())
    return "".join(part for part in found.groups() if part) if found else ""


# New files are read in chunks, so that memory holds a few chunks' records, not a night's: up to this many bytes
# on disk (gzip level 1: about 140 MB of JSON, 90k CloudTrail events) or this many files, whichever comes first.
# A chunk is read while the next is gunzipped, and up to two reads' records wait for their day files
# (``WRITES_WAITING``): the bytes bound the memory (at 10k identities on 3M events, chunks of 1,000 files or 32 MB
# took landing to 1.67 GiB, 500 or 16 MB to 1.37 GiB, in the same time; M's files of 30 KB fill 16 MB at about
# 570). A read costs the same to plan and start however few records it holds: S's 9,300 files of 22 KB took 19
# reads of 500 files, 14 now (landing 4% faster).
CHUNK_FILES = 2000
CHUNK_BYTES = 16 * 2**20


# The first chunks are smaller, a quarter then a half of ``CHUNK_BYTES``: nothing else runs while the first is
# gunzipped (S: 0.15-0.19 s for a whole one), and each is gunzipped while DuckDB reads the one before.
RAMP_UP = (4, 2)


def chunks_of(new: list[tuple[SourceFile, str]]) -> list[list[tuple[SourceFile, str]]]:
    """``new`` in order, cut into runs of at most ``CHUNK_FILES`` files and ``CHUNK_BYTES`` (the first ones less,
    ``RAMP_UP``; one file more than that is a chunk of its own)."""
    chunks: list[list[tuple[SourceFile, str]]] = []
    size = 0
    for item in new:
        if not chunks or len(chunks[-1]) >= CHUNK_FILES or size + item[0].size_bytes > _chunk_bytes(len(chunks) - 1):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += item[0].size_bytes
    return chunks


def _chunk_bytes(number: int) -> int:
    return CHUNK_BYTES // RAMP_UP[number] if number < len(RAMP_UP) else CHUNK_BYTES


class _Lander:
    """Reads a night's new files into landing Parquet: each DuckDB read's loadable records go to a directory of
    their own (``<batch>-<n>/``, a Parquet per day) and what every file gave is counted into ``outcomes``."""

    def __init__(self, con, outcomes: dict, records_dir: Path, batch: str, scratch_dir: Path):
        self.con, self.outcomes, self.records_dir, self.batch, self.scratch_dir = (
            con, outcomes, records_dir, batch, scratch_dir
        )
        self.reads = 0
        self.day_files: _DayFileWriter | None = None

    def land(self, new: list[tuple[SourceFile, str]]) -> None:
        chunks = chunks_of(new)
        # gunzip releases the GIL, DuckDB and the Parquet writer too: a chunk is gunzipped and packed in a thread
        # of its own, and a read's day files are written in another while DuckDB reads the next chunk
        with ThreadPoolExecutor(max_workers=1) as packer, _DayFileWriter() as self.day_files:
            def prepare(chunk):
                return packer.submit(self.packed_chunk, [partial(_try_plan, source, fmt, self.scratch_dir)
                                                         for source, fmt in chunk])

            pending = prepare(chunks[0]) if chunks else None
            for number, chunk in enumerate(chunks):
                current = pending
                # the next chunk is gunzipped and packed while DuckDB reads this one
                pending = prepare(chunks[number + 1]) if number + 1 < len(chunks) else None
                self.land_chunk(chunk, *current.result())

    def packed_chunk(self, results) -> tuple[list[ReadPlan | UnreadableFile], list[tuple[list[ReadPlan], Packed]]]:
        """A chunk's plans (``results``: calls that wait for each), and its readable plans by JSON format, each
        group packed."""
        plans = [result() for result in results]
        groups = []
        for json_format in (ARRAY, LINES):
            formatted = [p for p in plans if isinstance(p, ReadPlan) and p.json_format == json_format]
            if formatted:
                groups.append((formatted, _pack(formatted)))
        return plans, groups

    def land_chunk(self, chunk: list[tuple[SourceFile, str]], plans: list[ReadPlan | UnreadableFile],
                   groups: list[tuple[list[ReadPlan], Packed]]) -> None:
        for (source, _), plan in zip(chunk, plans):
            if isinstance(plan, UnreadableFile):
                self.outcomes[source.file].rejected.append(Rejected(None, str(plan)))
        for formatted, packed in groups:
            self.read_batch(formatted, packed)

    def read_batch(self, batch: list[ReadPlan], packed: Packed | None = None) -> None:
        """Read a batch whole (from ``packed`` when it is packed already); when DuckDB rejects it, halve it until
        the files at fault are read carefully."""
        try:
            self.read_into_landing(batch, packed)
            return
        except duckdb.Error:
            if len(batch) == 1:
                self.read_carefully(batch[0])
                return
        half = len(batch) // 2
        self.read_batch(batch[:half])
        self.read_batch(batch[half:])

    def read_into_landing(self, batch: list[ReadPlan], packed: Packed | None = None) -> None:
        loaded = _counted(_landed_read(self.con, batch, packed), self.outcomes)
        if not loaded.num_rows:
            return
        records_file = self.records_dir / f"{self.batch}-{self.reads:04d}"
        self.reads += 1
        self.day_files.write(loaded, records_file)
        for plan in batch:
            outcome = self.outcomes[plan.source.file]
            if outcome.records_loaded and outcome.records_file is None:
                outcome.records_file = records_file.name

    def read_carefully(self, plan: ReadPlan) -> None:
        """Parse a file DuckDB rejected record by record; quarantine what is broken, land the rest."""
        outcome = self.outcomes[plan.source.file]
        good = _parsed_records(plan, outcome)
        if not good:
            return
        try:
            self.read_into_landing([self.cleaned(plan, good)])
        except duckdb.Error as error:
            # a kind of record the checks do not know: find each one DuckDB cannot read, land the rest
            kept = self.without_unreadable(plan, good, outcome, error)
            if kept:
                self.read_into_landing([self.cleaned(plan, kept)])

    def loadable(self, plan: ReadPlan, records: list[tuple[str, bytes]], outcome) -> list[tuple[str, bytes]]:
        """``records`` without those DuckDB cannot read, each quarantined with DuckDB's reason; tried without
        writing, so that what lands afterwards is one read."""
        try:
            _landed_read(self.con, [self.cleaned(plan, records)])
            return records
        except duckdb.Error as error:
            return self.without_unreadable(plan, records, outcome, error)

    def without_unreadable(self, plan: ReadPlan, records: list[tuple[str, bytes]], outcome,
                           error: duckdb.Error) -> list[tuple[str, bytes]]:
        """``records``, which DuckDB just failed to read with ``error``, halved until the records at fault stand
        alone."""
        if len(records) == 1:
            position, record = records[0]
            outcome.rejected.append(Rejected(position, f"not loadable: {_first_line(error)}", excerpt(record)))
            return []
        half = len(records) // 2
        return self.loadable(plan, records[:half], outcome) + self.loadable(plan, records[half:], outcome)

    def cleaned(self, plan: ReadPlan, records: list[tuple[str, bytes]]) -> ReadPlan:
        """The plan of ``records`` (position, tagged JSON) as JSON Lines in the scratch directory."""
        cleaned = self.scratch_dir / f"{plan.source.key}.cleaned.jsonl"
        cleaned.write_bytes(b"\n".join(record for _, record in records))
        return ReadPlan(plan.source, cleaned, LINES, plan.position_prefix)


# DuckDB's echo of the text it failed on: the quarantine keeps an excerpt of the record itself
_ECHOED_INPUT = re.compile(r'\s+Input: ".*$')


def _first_line(error: Exception) -> str:
    """DuckDB's reason, without its echo of the packed text it read (the quarantine names the source file)."""
    text = str(error).strip()
    return _ECHOED_INPUT.sub("", text.splitlines()[0]) if text else type(error).__name__


# A records directory holds a directory per UTC day of its loadable records, ``landing_part=<day>/``.
LANDING_PART = "landing_part"
# Rows in a day file's row group: DuckDB's own default, so that its scans of the day files split as they did.
DAY_FILE_ROW_GROUP = 122_880
# Columns whose minimum and maximum a day file records, for readers that skip files and row groups by them: when,
# who, which call and how it went. Long free text (request parameters, user agents, messages) is never filtered
# by range, and its statistics cost a tenth of writing the day files (S: 0.75 -> 0.67 s of CPU).
DAY_FILE_STATISTICS = [
    "event_time", "event_day", "identity_id", "identity_type", "principal_arn", "access_key_id", "account",
    "event_source", "event_name", "event_type", "event_category", "aws_region", "error_code", "is_success",
    "is_read_only", "is_console", "source_key",
]


def _landed_read(con, batch: list[ReadPlan], packed: Packed | None = None) -> pa.Table:
    """Every record of the batch, numbered, checked and attributed, as one Arrow table; rejected records carry
    their reason. Written by DuckDB in the same statement as a Parquet per day (``PARTITION_BY``), the day files
    cost more CPU than the whole read into Arrow (S's statements and day files: 5.8 against 5.4 s of CPU)."""
    with _packed_view(con, packed if packed is not None else _pack(batch)):
        try:
            # row order in a read means nothing (a day's rebuild reads days, not rows)
            con.execute("SET preserve_insertion_order = false")
            return _as_json(con.sql(_landing_query()).to_arrow_table(), "request_parameters")
        finally:
            con.execute("RESET preserve_insertion_order")


_JSON = pa.json_(pa.string())


def _as_json(table: pa.Table, column: str) -> pa.Table:
    """``table`` with ``column`` (JSON text) typed as JSON, so that its Parquet says JSON as DuckDB's would.
    DuckDB's own lossless Arrow export does that too, but turns every BOOLEAN into an 8-bit integer."""
    index = table.schema.get_field_index(column)
    typed = pa.chunked_array([pa.ExtensionArray.from_storage(_JSON, chunk) for chunk in table[column].chunks], _JSON)
    return table.set_column(index, column, typed)


def _counted(read: pa.Table, outcomes: dict) -> pa.Table:
    """Count what each file gave to ``read`` into its outcome and quarantine its rejected records; return the
    loadable records."""
    has_rejects = read["reject_reason"].null_count < read.num_rows
    loaded = read.filter(pc.is_null(read["reject_reason"])) if has_rejects else read
    if has_rejects:
        _quarantine(read.filter(pc.is_valid(read["reject_reason"])), outcomes)
    by_file_and_day = loaded.group_by(["source_file", "event_day"]).aggregate([([], "count_all")]).sort_by(
        [("source_file", "ascending"), ("event_day", "ascending")])
    for source_file, day, count in zip(*(by_file_and_day.column(i).to_pylist() for i in range(3))):
        outcome = outcomes[source_file]
        outcome.records_loaded += count
        outcome.records_by_day[day.isoformat()] = outcome.records_by_day.get(day.isoformat(), 0) + count
    return loaded


def _quarantine(rejected: pa.Table, outcomes: dict) -> None:
    """The rejected records into their files' outcomes, in file and position order (``record 9`` before
    ``record 10``)."""
    number = pc.struct_field(pc.extract_regex(rejected["record_position"], r"(?P<n>[0-9]+)$"), "n")
    ordered = rejected.append_column("_number", pc.cast(number, pa.int64())).sort_by(
        [("source_file", "ascending"), ("_number", "ascending", "at_end")])
    columns = ("source_file", "record_position", "reject_reason", "rejected_record")
    for source_file, position, reason, record in zip(*(ordered[c].to_pylist() for c in columns)):
        outcomes[source_file].rejected.append(Rejected(position, reason, excerpt(record)))


def _write_day_files(loaded: pa.Table, target: Path) -> None:
    """A read's loadable records under the directory ``target``, a Parquet per UTC day
    (``landing_part=<day>/data_0.parquet``)."""
    # a failed run's leftovers are unlinked, never overwritten in place: a day file may be a hard link to them
    shutil.rmtree(target, ignore_errors=True)
    for day, rows in rows_by_day(loaded).items():
        part = target / f"{LANDING_PART}={day.isoformat()}"
        part.mkdir(parents=True)
        pq.write_table(rows, part / "data_0.parquet", compression="snappy", row_group_size=DAY_FILE_ROW_GROUP,
                       write_statistics=DAY_FILE_STATISTICS)


def rows_by_day(loaded: pa.Table) -> dict[date, pa.Table]:
    """``loaded``'s rows of each ``event_day``, in the order they come, as slices of its runs of one day: no row
    is copied. A read's files are a few consecutive delivery days, so its rows come in about two runs per day
    (S: 8 days in 17-20 runs); a filter per day copied every row once more and cost 0.03-0.05 s per read."""
    slices: dict[date, list[pa.RecordBatch]] = {}
    for batch in loaded.to_batches():
        runs = pc.run_end_encode(batch.column("event_day"))
        start = 0
        for end, day in zip(runs.run_ends.to_pylist(), runs.values.to_pylist()):
            slices.setdefault(day, []).append(batch.slice(start, end - start))
            start = end
    return {day: pa.Table.from_batches(batches, loaded.schema) for day, batches in slices.items()}


# Reads whose day files may wait to be written while DuckDB reads on: one absorbed most of the writes, two absorb
# the reads that span more days than most (M: the reads waited 0.68 s in all for the writer with one).
WRITES_WAITING = 2


class _DayFileWriter:
    """Writes reads' day files in threads of their own: while they are written, DuckDB reads the next chunks, and
    no more than ``WRITES_WAITING`` reads wait in memory. A thread per waiting read: the last ones are written side
    by side once nothing is left to read."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=WRITES_WAITING)
        self.pending: deque = deque()

    def write(self, loaded: pa.Table, target: Path) -> None:
        self._wait_until(WRITES_WAITING - 1)
        self.pending.append(self.pool.submit(_write_day_files, loaded, target))

    def wait(self) -> None:
        self._wait_until(0)

    def _wait_until(self, waiting: int) -> None:
        """Wait for the oldest writes until no more than ``waiting`` are left."""
        while len(self.pending) > waiting:
            self.pending.popleft().result()

    def __enter__(self) -> "_DayFileWriter":
        return self

    def __exit__(self, *failure) -> None:
        try:
            if failure[0] is None:
                self.wait()
        finally:
            self.pool.shutdown(wait=True)


@contextmanager
def _packed_view(con, packed: Packed) -> Iterator[None]:
    """``packed`` readable as ``PACKED_VIEW`` for the statements run meanwhile."""
    con.register(PACKED_VIEW, packed)
    try:
        yield
    finally:
        con.unregister(PACKED_VIEW)


def _forget_absent_files(landing_dir: Path, present_keys: set[str]) -> dict[str, dict]:
    """Drop what files no longer among the sources gave (a records file goes when no present file uses it);
    return the landed documents of the files that stay, by source key."""
    kept: dict[str, dict] = {}
    for path, documents in _documents_by_file(landing_dir / "outcomes").items():
        staying = [d for d in documents if d["key"] in present_keys and d.get("layout") == LANDING_LAYOUT]
        if not staying:
            path.unlink()
        elif len(staying) < len(documents):
            _write_documents(path, staying)
        kept.update((d["key"], d) for d in staying)
    in_use = {d.get("records_file") for d in kept.values()}
    for records in (landing_dir / "records").iterdir():
        if records.name in in_use:
            continue
        if records.is_dir():  # earlier layouts (a Parquet per read, source_key=*/) go too
            shutil.rmtree(records)
        else:
            records.unlink()
    return kept


def write_landed_outcomes(path: Path, outcomes: list[FileOutcome]) -> None:
    _write_documents(path, [
        {
            "key": outcome.source.key,
            "layout": LANDING_LAYOUT,
            "format": outcome.format,
            "records_loaded": outcome.records_loaded,
            "records_by_day": outcome.records_by_day,
            "records_file": outcome.records_file,
            "rejected": [[r.position, r.reason, r.excerpt] for r in outcome.rejected],
        }
        for outcome in outcomes
    ])


def _write_documents(path: Path, documents: list[dict]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_bytes(b"".join(_document_line(d) for d in documents))
    partial.replace(path)


# A night reads the outcomes of every file of the history, twice (landing and the events refresh): with the json
# module that was 1.2 s at 64,000 files, with orjson 0.2 s.
def _document_line(document: dict) -> bytes:
    try:
        return orjson.dumps(document) + b"\n"
    except orjson.JSONEncodeError:  # a lone surrogate in an excerpt: the json module escapes it
        return json.dumps(document).encode() + b"\n"


def _parsed_document(line: bytes) -> dict:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:  # an escaped lone surrogate, which orjson refuses
        return json.loads(line)


def _parsed_documents(text: bytes) -> list[dict]:
    """The documents of an outcomes file, its lines parsed as one array (a call per line cost a third more at
    64,000 files); line by line when one of them needs the json module."""
    lines = [line for line in text.splitlines() if line]
    try:
        return orjson.loads(b"[" + b",".join(lines) + b"]")
    except orjson.JSONDecodeError:
        return [_parsed_document(line) for line in lines]


def read_landed_documents(outcomes_dir: Path) -> dict[str, dict]:
    """What earlier runs landed, by source key (content hash)."""
    return {d["key"]: d for documents in _documents_by_file(outcomes_dir).values() for d in documents}


def _documents_by_file(outcomes_dir: Path) -> dict[Path, list[dict]]:
    """Every outcomes file with the landed documents it holds, each with its source ``key``. A file per source,
    as an earlier version wrote, holds one document, or none where that version kept no records file."""
    found: dict[Path, list[dict]] = {}
    for path in sorted(outcomes_dir.glob("*.jsonl")):
        found[path] = _parsed_documents(path.read_bytes())
    for path in sorted(outcomes_dir.glob("*.json")):
        document = json.loads(path.read_text())
        found[path] = [document | {"key": path.stem}] if "records_file" in document else []
    return found


def outcome_from_document(source: SourceFile, document: dict) -> FileOutcome:
    """What an earlier run landed from the same content, as this run's outcome."""
    rejected = document["rejected"]
    return FileOutcome(
        source=source,
        format=document["format"],
        records_loaded=document["records_loaded"],
        records_by_day=document["records_by_day"],
        records_file=document.get("records_file"),
        was_landed_before=True,
        # most files reject nothing: an empty comprehension per file cost 0.1 s at 64,000 files
        rejected=[Rejected(*r) for r in rejected] if rejected else [],
    )


def _try_plan(source: SourceFile, fmt: str, scratch_dir: Path) -> ReadPlan | UnreadableFile:
    try:
        return _plan(source, fmt, scratch_dir)
    except UnreadableFile as error:
        return error


def _plan(source: SourceFile, fmt: str, scratch_dir: Path) -> ReadPlan:
    """Read (and gunzip, and unwrap) one file into memory; small files are the rule, and a scratch file per
    source costs more in file-system calls than everything else the landing does."""
    if fmt == CLOUDTRAIL_JSONL:
        if not source.is_gzip:
            return ReadPlan(source, source.path, LINES, "line ")
        return ReadPlan(source, source.path, LINES, "line ", read_content(source))
    if fmt != CLOUDTRAIL_RECORDS:
        raise ValueError(f"not a CloudTrail format: {fmt}")
    return ReadPlan(source, source.path, ARRAY, "record ", records_array(read_content(source)))


def records_array(content: bytes) -> bytes | memoryview:
    """The ``[...]`` of a ``{"Records": [...]}`` document, without parsing it (a view of ``content``: a copy
    of every file's records cost half a second per million events).

    A document of any other shape is returned whole, so that DuckDB rejects it and
    the careful path explains why.
    """
    start = _WRAPPER_START.match(content)
    body = content.rstrip()
    if start is None or not body.endswith(b"}"):
        return content
    return memoryview(body)[start.end() : -1]


# The name sql/landing/cloudtrail_read.sql reads a batch's packed records by.
PACKED_VIEW = "cloudtrail_packed"
PACKED_SCHEMA = pa.schema([
    ("_s", pa.string()), ("_k", pa.string()), ("_p", pa.string()), ("_o", pa.int64()), ("_r", pa.large_string()),
])


def _pack(batch: list[ReadPlan]) -> Packed:
    """The batch as one Arrow table, a row per source (or per slice of a JSON Lines source): its file's name,
    key and position prefix, the records before the slice, and its records as one JSON array's text (``_r``).
    The file's own fields travel with its records: a join on the file name cost a quarter of the read.

    Bytes are neither parsed nor copied: each ``_r`` is a view of the gunzipped content. Written to a JSON Lines
    file for DuckDB's JSON reader instead, S's 1.56 GB of records cost 1.4 s more system time (writes, page
    faults) and the landing a fifth more wall time (6.4 s against 5.3 s). An array file's text goes in as it
    is; JSON Lines become an array whose blank lines are null, so that record numbers stay line numbers.
    """
    slices = [(plan, offset, records) for plan in batch for offset, records in _record_slices(plan)]
    # a column of each field at once, the text a chunk per file: a record batch per file cost twice as much
    return pa.table([
        pa.array([plan.source.file for plan, _, _ in slices], pa.string()),
        pa.array([plan.source.key for plan, _, _ in slices], pa.string()),
        pa.array([plan.position_prefix for plan, _, _ in slices], pa.string()),
        pa.array([offset for _, offset, _ in slices], pa.int64()),
        pa.chunked_array([_text(records) for _, _, records in slices], pa.large_string()),
    ], schema=PACKED_SCHEMA)


def _text(records: bytes | memoryview) -> pa.LargeStringArray:
    """``records`` as a one-value string array over the same memory."""
    return pa.LargeStringArray.from_buffers(1, pa.py_buffer(array("q", [0, len(records)])), pa.py_buffer(records))


PACKED_LINES_PER_SLICE = 10_000


def _record_slices(plan: ReadPlan):
    """(records before, JSON array) pieces of a plan's file: an array file whole, JSON Lines in slices (a
    Lake export can hold millions of lines; one packed line must stay a reasonable object)."""
    body = plan.records()
    if plan.json_format != LINES:
        yield 0, body
        return
    lines = body.split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()
    for start in range(0, len(lines), PACKED_LINES_PER_SLICE):
        piece = lines[start : start + PACKED_LINES_PER_SLICE]
        yield start, b"[" + b",".join(line if line.strip() else b"null" for line in piece) + b"]"


def _landing_query() -> str:
    """A packed batch's records (``PACKED_VIEW``) as landed."""
    return (f"WITH cloudtrail_checked AS ({sql_text('landing/cloudtrail_read')}), "
            f"cloudtrail_shaped AS ({sql_text('landing/cloudtrail_landing')}) "
            f"SELECT * FROM ({sql_text('landing/cloudtrail_attributed')})")


def _parsed_records(plan: ReadPlan, outcome: FileOutcome) -> list[tuple[str, bytes]]:
    """The file's loadable records one by one, each with its position and tagged with it; what cannot be parsed
    or loaded is quarantined. Bytes that are not UTF-8 are kept as lone surrogates (``surrogateescape``), so
    that they spoil their own record, not the file's."""
    text = bytes(plan.records())
    if plan.json_format == LINES:
        parsed = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                parsed.append((f"line {number}", json.loads(_decoded(line))))
            except ValueError as error:
                outcome.rejected.append(Rejected(f"line {number}", f"malformed JSON: {error}", excerpt(line)))
    else:
        try:
            records = json.loads(_decoded(text))
        except ValueError as error:
            outcome.rejected.append(Rejected(None, f"malformed JSON, file not loaded: {error}", excerpt(text)))
            return []
        if not isinstance(records, list):
            outcome.rejected.append(Rejected(None, "no Records array in the file", excerpt(text)))
            return []
        parsed = [(f"record {i}", r) for i, r in enumerate(records, start=1)]
    tagged = [(position, _positioned(record, position, outcome)) for position, record in parsed]
    return [(position, record) for position, record in tagged if record is not None]


def _decoded(text: bytes) -> str:
    return text.decode("utf-8-sig", "surrogateescape")


# Read as JSON text and parsed again by the landing SQL: a string there is not JSON and would fail the read.
JSON_FIELDS = ("userIdentity", "requestParameters", "resources")
NOT_UNICODE = "record holds text that is not valid Unicode (bytes that are not UTF-8, or a lone surrogate escape)"


def _positioned(record, position: str, outcome: FileOutcome) -> bytes | None:
    """The record as JSON tagged with its position, or None when it is quarantined."""
    problem = _shape_problem(record)
    if problem is None:
        try:
            return json.dumps(record | {"_overreach_position": position}, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            problem = NOT_UNICODE
    shown = json.dumps(record).encode("ascii", "replace")  # escapes make the lone surrogates printable
    outcome.rejected.append(Rejected(position, problem, excerpt(shown)))
    return None


def _shape_problem(record) -> str | None:
    if not isinstance(record, dict):
        return "record is not a JSON object"
    for name in JSON_FIELDS:
        if isinstance(record.get(name), str):
            return f"{name} is a string, not a JSON object or array"
    return None


def create_landing_shape(con) -> None:
    """A zero-row temp table ``cloudtrail_landing_shape`` with the landed columns, for runs with no events."""
    with _packed_view(con, PACKED_SCHEMA.empty_table()):
        con.execute(f"CREATE OR REPLACE TEMP TABLE cloudtrail_landing_shape AS SELECT * FROM ({_landing_query()}) LIMIT 0")
