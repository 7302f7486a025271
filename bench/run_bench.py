"""``make bench``: how Overreach scales on this machine. A script, not a test.

    .venv/bin/python bench/run_bench.py [--sizes S,M,L] [--keep] [--no-blast-radius]

For each size (``SIZES``): write a 90-day synthetic organisation and one more day
(``pipelines.synth.scale``), then measure

- generation: seconds and events written per second;
- the history night (``overreach run`` as a child process): wall seconds, the
  child's peak RSS, and ingest events/s = events / (``landing/cloudtrail`` +
  ``core/access_events`` seconds, read from the CLI's progress lines);
- right after it, the floor for the same input: gunzip of the same files, then DuckDB reading the
  same records as JSON Lines with the pipeline's columns (``sql/landing/cloudtrail_read.sql``)
  grouped by identity and action (the JSON Lines are written outside the timed
  region, a chunk of days at a time to bound the disk used), and our ratio to it;
  beside it, the records kept whole (every one of those columns written once as
  Parquet from the same JSON Lines); night and floor as a pair, ``ingest_pairs`` of them
  (``--ingest-pairs``), the median pair reported;
- a 1-new-day night over the history (history + day into the history's
  warehouse) against that day alone (IAM, inventory and the day into a fresh one).

Once per invocation: expansion of 1,000 distinct policies
(``models.iam.policy.expand_policies``) and the blast radius of every principal of
a 50,000-identity organisation (``models.graph``: ``build_graph`` and
``blast_radius`` on the graph's inputs, which the pipeline's steps up to them build).

Every pipeline run is watched: past ``--memory-limit-gib`` of RSS it is killed and
reported as such, so a run that would exhaust the machine says so instead.
Results are printed and appended to ``docs/benchmarks.md`` with the date and the
machine. Generated data goes under ``bench-data/`` (git-ignored) and is deleted
after each size unless ``--keep``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# The environment a pipeline run is given: the shell's, taken before Polars is imported here. Polars sets its
# allocator's settings in os.environ when imported; a run inheriting them kept freed pages for a second instead
# of handing them back (pipelines/__init__.py), and peaked 0.2-0.35 GiB higher than the same run from a shell.
LAUNCH_ENVIRONMENT = dict(os.environ)

import duckdb  # noqa: E402
import orjson  # noqa: E402
import polars as pl  # noqa: E402

from pipelines.synth import scale  # noqa: E402
from pipelines.synth.scale_org import build_organisation, policy_documents  # noqa: E402

BENCH_DATA = REPO / "bench-data"
RESULTS = REPO / "docs" / "benchmarks.md"
HISTORY_DAYS = 90
END = date(2026, 11, 27)
NEXT_DAY = END + timedelta(days=1)
CLOUDTRAIL_READ_SQL = REPO / "sql" / "landing" / "cloudtrail_read.sql"
INGEST_STEPS = ("landing/cloudtrail", "core/access_events")
FLOOR_CHUNK_BYTES = 4 * 2**30  # JSON Lines written (and deleted) this much at a time for the floor
POLICY_COUNT = 1_000
BLAST_IDENTITIES = 50_000
PROGRESS_LINE = re.compile(r"^  (?P<asset>\S+)\s+(?P<rows>\d*) rows(?:\s+(?P<seconds>[\d.]+) s)?\s*$")


@dataclass(frozen=True)
class BenchSize:
    """One row of the size table: events over the 90-day history, and the organisation's size."""

    name: str
    events: int
    identities: int
    accounts: int
    policies: int
    files_per_day: int
    # history nights, each followed at once by the floor: the ratio is their median pair's. A night of S takes
    # half a minute and the machine's speed drifts by up to 30% within minutes, so one pair moved S's ratio
    # 1.42-1.69x between runs of the same code; M's nights take minutes, one pair each.
    ingest_pairs: int = 1

    @property
    def events_per_day(self) -> int:
        return math.ceil(self.events / HISTORY_DAYS)


SIZES = {s.name: s for s in (
    BenchSize("XS", events=20_000, identities=100, accounts=2, policies=30, files_per_day=4),  # a smoke check
    BenchSize("S", events=1_000_000, identities=1_000, accounts=3, policies=300, files_per_day=12, ingest_pairs=3),
    BenchSize("M", events=10_000_000, identities=10_000, accounts=10, policies=2_000, files_per_day=24),
    BenchSize("L", events=30_000_000, identities=50_000, accounts=20, policies=5_000, files_per_day=24),
)}


# --- running the pipeline as a child, watched ------------------------------------------------


@dataclass
class PipelineRun:
    """One ``overreach run``: wall time, the child's peak RSS, and the seconds and rows each asset printed."""

    wall_seconds: float
    peak_rss_bytes: int
    exit_code: int
    steps: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    stopped_for: str = ""  # "memory" or "time" when the watcher killed it, "signal" when something else stopped it
    last_step: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.stopped_for

    def seconds_of(self, steps: tuple[str, ...]) -> float:
        return sum(self.steps.get(step, 0.0) for step in steps)

    def slowest(self, count: int = 5) -> list[tuple[str, float]]:
        return sorted(self.steps.items(), key=lambda item: -item[1])[:count]

    def outcome(self) -> str:
        after = f"after {self.last_step or 'start'}"
        if self.stopped_for == "memory":
            return f"killed above the memory guard {after}"
        if self.stopped_for == "time":
            return f"stopped at the time limit {after}"
        if self.stopped_for == "signal":
            return f"interrupted from outside the bench (SIGINT/SIGTERM) {after}"
        return "ok" if self.exit_code == 0 else f"failed (exit {self.exit_code}) {after}"


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


@dataclass(frozen=True)
class Limits:
    """When the bench stops a pipeline run: past this RSS, or after this many seconds."""

    memory_bytes: int
    seconds: float


def _watch(pid: int, limits: Limits, started: float, stopped: list[str], done: threading.Event) -> None:
    while not done.wait(0.5):
        reason = ("memory" if _rss_bytes(pid) > limits.memory_bytes
                  else "time" if time.perf_counter() - started > limits.seconds else "")
        if reason:
            stopped.append(reason)
            os.kill(pid, signal.SIGKILL)  # the child, by its own id; SIGTERM waits for DuckDB to yield
            return


def run_pipeline(sources: list[Path], warehouse: Path, as_of: date, log: Path, limits: Limits,
                 program: tuple[str, ...] = ("-m", "pipelines.cli", "run")) -> PipelineRun:
    """``overreach run SOURCES --warehouse W --as-of D`` (or another ``program`` taking the same arguments) in a
    child process; its own rusage gives the peak RSS."""
    command = [sys.executable, *program, *map(str, sources), "--warehouse", str(warehouse), "--as-of", as_of.isoformat()]
    stopped: list[str] = []
    done = threading.Event()
    with log.open("w") as output:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                                 env=LAUNCH_ENVIRONMENT)
        watcher = threading.Thread(target=_watch, args=(child.pid, limits, started, stopped, done), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        watcher.join()
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
    run = PipelineRun(wall, usage.ru_maxrss * 1024, child.returncode, stopped_for="".join(stopped[:1]))
    for line in log.read_text().splitlines():
        if "DagsterExecutionInterruptedError" in line and not run.stopped_for:
            run.stopped_for = "signal"  # the bench only sends SIGKILL: this came from elsewhere
        match = PROGRESS_LINE.match(line)
        if match:
            run.last_step = match["asset"]
            if match["seconds"]:
                run.steps[match["asset"]] = float(match["seconds"])
            if match["rows"]:
                run.rows[match["asset"]] = int(match["rows"])
    return run


# --- the floor ---------------------------------------------------------------------------------


def _pipeline_columns() -> str:
    """The record columns the pipeline reads CloudTrail with, taken from its SQL file, as a ``columns = {...}``
    struct for plain JSON Lines (the pipeline reads them with ``json_transform`` from its packed records' ``_r``)."""
    found = re.search(r"json_transform\(_r, '(\[.*?\])'\)", CLOUDTRAIL_READ_SQL.read_text(), re.S)
    if not found:
        raise SystemExit(f"no record shape in {CLOUDTRAIL_READ_SQL}")
    (fields,) = json.loads(found[1])
    return "{" + ", ".join(f"'{name}': '{_duckdb_type(kind)}'" for name, kind in fields.items()) + "}"


def _duckdb_type(shape: str | dict) -> str:
    """A ``json_transform`` field's structure as the DuckDB type ``read_json`` takes (an object is a STRUCT)."""
    if isinstance(shape, dict):
        return "STRUCT(" + ", ".join(f'"{name}" {_duckdb_type(kind)}' for name, kind in shape.items()) + ")"
    return shape


def _floor_query(columns: str) -> str:
    # Identity as the pipeline attributes it (the role for sessions), action as event source prefix + name.
    return f"""
        SELECT coalesce(userIdentity.sessionContext.sessionIssuer.arn, userIdentity.arn) AS identity,
               split_part(eventSource, '.', 1) || ':' || eventName AS action,
               count(*) AS events
        FROM read_json($files, format = 'newline_delimited', columns = {columns})
        GROUP BY ALL
    """


def _kept_whole_query(columns: str, target: Path) -> str:
    """Every record with every pipeline column, written once as Parquet: what keeping the raw events costs at
    the least (the floor's grouped read skips the columns it does not project). Run with insertion order not
    preserved, as the pipeline's own writes are: kept in order, the same write takes about twice as long."""
    return (f"COPY (SELECT * FROM read_json($files, format = 'newline_delimited', columns = {columns})) "
            f"TO '{target}' (FORMAT parquet)")


@dataclass(frozen=True)
class Floor:
    """The fastest known way to these records in columns: gunzip, then DuckDB on JSON Lines. Beside it, for
    reference, the same gunzip and DuckDB keeping every column once as Parquet (``kept_whole_seconds``)."""

    gunzip_seconds: float
    duckdb_seconds: float
    json_bytes: int
    groups: int
    kept_whole_duckdb_seconds: float

    @property
    def seconds(self) -> float:
        return self.gunzip_seconds + self.duckdb_seconds

    @property
    def kept_whole_seconds(self) -> float:
        return self.gunzip_seconds + self.kept_whole_duckdb_seconds


def _trail_files(root: Path) -> list[Path]:
    return sorted(root.glob("AWSLogs/**/*.json.gz"))


def time_gunzip(files: list[Path]) -> tuple[float, int]:
    """Seconds to read and decompress every file (the output is dropped), and the bytes it gave."""
    total = 0
    started = time.perf_counter()
    for path in files:
        total += len(gzip.decompress(path.read_bytes()))
    return time.perf_counter() - started, total


def _write_json_lines(files: list[Path], target: Path) -> None:
    with target.open("wb") as out:
        for path in files:
            for record in orjson.loads(gzip.decompress(path.read_bytes()))["Records"]:
                out.write(orjson.dumps(record) + b"\n")


def _chunks_by_day(files: list[Path], json_bytes: int) -> list[list[Path]]:
    """The files in chunks of whole days, each about ``FLOOR_CHUNK_BYTES`` of JSON at most."""
    by_day: dict[str, list[Path]] = {}
    for path in files:
        by_day.setdefault("/".join(path.parts[-4:-1]), []).append(path)
    days_per_chunk = max(1, int(len(by_day) * FLOOR_CHUNK_BYTES / max(json_bytes, 1)))
    days = sorted(by_day)
    return [[p for d in days[i:i + days_per_chunk] for p in by_day[d]] for i in range(0, len(days), days_per_chunk)]


def measure_floor(root: Path, scratch: Path) -> Floor:
    files = _trail_files(root)
    gunzip_seconds, json_bytes = time_gunzip(files)
    columns = _pipeline_columns()
    query = _floor_query(columns)
    scratch.mkdir(parents=True, exist_ok=True)
    kept = scratch / "kept-whole.parquet"
    duckdb_seconds, kept_seconds, groups = 0.0, 0.0, 0
    with duckdb.connect(config={"memory_limit": "4GB"}) as con:  # more than the pipeline's 1 GB: a floor
        for number, chunk in enumerate(_chunks_by_day(files, json_bytes)):
            target = scratch / f"chunk-{number:03d}.jsonl"
            _write_json_lines(chunk, target)  # not timed: the floor starts from JSON Lines
            started = time.perf_counter()
            groups += len(con.execute(query, {"files": [str(target)]}).fetchall())
            duckdb_seconds += time.perf_counter() - started
            con.execute("SET preserve_insertion_order = false")
            started = time.perf_counter()
            con.execute(_kept_whole_query(columns, kept), {"files": [str(target)]}).fetchall()
            kept_seconds += time.perf_counter() - started
            con.execute("RESET preserve_insertion_order")
            target.unlink()
            kept.unlink()
    return Floor(gunzip_seconds, duckdb_seconds, json_bytes, groups, kept_seconds)


# --- one size --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestPair:
    """A history night and the floor measured right after it on the same files."""

    night: PipelineRun
    floor: Floor

    @property
    def ingest_seconds(self) -> float:
        return self.night.seconds_of(INGEST_STEPS)

    @property
    def ratio(self) -> float:
        return self.ingest_seconds / self.floor.seconds if self.floor.seconds else math.inf


def median_pair(pairs: list[IngestPair]) -> IngestPair:
    """The pair of the median ratio (of an even count, the lower of the two middle ones)."""
    ranked = sorted(pairs, key=lambda pair: pair.ratio)
    return ranked[(len(ranked) - 1) // 2]


@dataclass
class SizeResult:
    size: BenchSize
    events: int
    trail_files: int
    trail_bytes: int
    generate_seconds: float
    pairs: list[IngestPair]
    night: PipelineRun
    day_alone: PipelineRun

    @property
    def median(self) -> IngestPair:
        return median_pair(self.pairs)

    @property
    def history(self) -> PipelineRun:
        return self.median.night

    @property
    def floor(self) -> Floor:
        return self.median.floor

    @property
    def peak_rss_bytes(self) -> int:
        return max(pair.night.peak_rss_bytes for pair in self.pairs)

    @property
    def ingest_seconds(self) -> float:
        return self.median.ingest_seconds

    @property
    def ingest_events_per_second(self) -> float:
        return self.events / self.ingest_seconds if self.ingest_seconds else 0.0


def _generate(size: BenchSize, out: Path, **dates) -> scale.ScaleSummary:
    config = scale.ScaleConfig(accounts=size.accounts, identities=size.identities, policies=size.policies,
                               days=dates.pop("days", HISTORY_DAYS), events_per_day=size.events_per_day,
                               files_per_day=size.files_per_day, **dates)
    return scale.generate(config, out)


def bench_size(size: BenchSize, limits: Limits, ingest_pairs: int = 0) -> SizeResult:
    """Measure one size; ``ingest_pairs`` history nights with their floors (the size's own count when 0)."""
    root = BENCH_DATA / size.name
    shutil.rmtree(root, ignore_errors=True)
    history_dir, day_dir = root / "history", root / "day"
    print(f"[{size.name}] generating {size.events_per_day * HISTORY_DAYS:,} events over {HISTORY_DAYS} days, "
          f"{size.identities:,} identities ...", flush=True)
    history = _generate(size, history_dir, end_date=END)
    _generate(size, day_dir, days=1, start_date=NEXT_DAY, cloudtrail_only=True)
    _say(size, f"generated in {history.seconds:.1f} s ({history.events_per_second:,.0f} events/s)")
    pairs = measure_ingest_pairs(size, history_dir, root, limits, ingest_pairs or size.ingest_pairs)
    _say(size, "a 1-new-day night, then the day alone ...")
    night = run_pipeline([history_dir, day_dir], root / "warehouse", NEXT_DAY, root / "night.log", limits)
    _say(size, f"1-new-day night {night.outcome()} in {night.wall_seconds:.1f} s")
    alone = run_pipeline([history_dir / "iam", history_dir / "inventory", day_dir], root / "warehouse-day",
                         NEXT_DAY, root / "day.log", limits)
    _say(size, f"the day alone {alone.outcome()} in {alone.wall_seconds:.1f} s")
    return SizeResult(size, history.events, history.trail_files, sum(p.stat().st_size for p in
                                                                         _trail_files(history_dir)),
                      history.seconds, pairs, night, alone)


def measure_ingest_pairs(size: BenchSize, history_dir: Path, root: Path, limits: Limits, count: int) -> list[IngestPair]:
    """``count`` history nights into a fresh warehouse (the last one stays, for the 1-new-day night), each
    followed at once by the floor; fewer should a night fail."""
    pairs: list[IngestPair] = []
    for number in range(1, count + 1):
        shutil.rmtree(root / "warehouse", ignore_errors=True)
        _say(size, f"history night {number} of {count} ...")
        run = run_pipeline([history_dir], root / "warehouse", END, root / f"history-{number}.log", limits)
        _say(size, f"history night {run.outcome()} in {run.wall_seconds:.1f} s; measuring the floor ...")
        # After the night, 40 s to 3.5 min after its ingest. Measured just before the night instead, the floor's
        # JSON Lines (16 GB at M) went through the page cache ahead of the night and its landing ran 30% slower
        # (M: 37.2 against 28.6 s), likely reading the trail files from disk.
        floor = measure_floor(history_dir, root / "floor")
        pairs.append(IngestPair(run, floor))
        _say(size, f"floor {floor.seconds:.1f} s; ingest / floor {_ratio(pairs[-1].ingest_seconds, floor.seconds)}")
        if not run.ok:
            break
    return pairs


def _say(size: BenchSize, text: str) -> None:
    print(f"[{size.name}] {text}", flush=True)


# --- policies and blast radius -------------------------------------------------------------------


def bench_policy_expansion() -> tuple[float, int]:
    """Seconds to expand ``POLICY_COUNT`` distinct generated policies (narrow, wildcard, broad), and rows."""
    from models.iam.catalog import catalog_actions
    from models.iam.policy import expand_policies

    org = build_organisation(seed="bench-policies", accounts=5, identities=2 * POLICY_COUNT, policies=POLICY_COUNT)
    documents = policy_documents(org)
    frame = pl.DataFrame({"policy_id": list(documents), "document": [json.dumps(d) for d in documents.values()]})
    catalog_actions()  # the one-off catalog load is not what is measured
    started = time.perf_counter()
    expanded = expand_policies(frame)
    return time.perf_counter() - started, expanded.height


def _graph_api():
    try:
        from models.graph import blast_radius, build_graph
    except ImportError:
        return None
    return build_graph, blast_radius


@dataclass(frozen=True)
class BlastResult:
    identities: int
    outcome: str
    principals: int = 0
    build_seconds: float = 0.0
    blast_seconds: float = 0.0
    pipeline: PipelineRun | None = None


def bench_blast_radius(identities: int, limits: Limits) -> BlastResult:
    """Blast radius of every principal of an ``identities``-strong organisation: the pipeline's steps up to
    the graph's inputs (``bench/graph_inputs.py``) build its warehouse (IAM, inventory, one day of events),
    then ``build_graph`` and ``blast_radius`` are timed here on the frames the graph step reads."""
    api = _graph_api()
    if api is None:
        return BlastResult(identities, "not available yet (models.graph has no blast_radius)")
    build_graph, blast_radius = api
    root = BENCH_DATA / "blast"
    shutil.rmtree(root, ignore_errors=True)
    accounts = max(1, identities // 2_500)
    scale.generate(scale.ScaleConfig(accounts=accounts, identities=identities, policies=identities // 10, days=1,
                                     events_per_day=identities, end_date=END), root / "org")
    run = run_pipeline([root / "org"], root / "warehouse", END, root / "run.log", limits,
                       program=(str(REPO / "bench" / "graph_inputs.py"),))
    if not run.ok:
        return BlastResult(identities, f"not measured: the pipeline run for its inputs was {run.outcome()}",
                           pipeline=run)
    from pipelines.graph_io import read_graph_inputs

    with duckdb.connect(str(root / "warehouse" / "build" / "overreach.duckdb"), read_only=True) as con:
        # what the pipeline's graph step reads
        inputs = read_graph_inputs(con, {"as_of": END.isoformat(), "window_days": HISTORY_DAYS})
    started = time.perf_counter()
    graph = build_graph(**inputs)
    built = time.perf_counter()
    frame = blast_radius(graph)
    finished = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    return BlastResult(identities, "ok", frame.height, built - started, finished - built, run)


# --- the report ------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.machine(),
        "cpus": str(os.cpu_count()),
        "memory": f"{int(meminfo[1]) / 2**20:.1f} GiB",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": pl.__version__,
        "commit": commit.stdout.strip() or "unknown",
        "load": " / ".join(f"{load:.1f}" for load in os.getloadavg()),
    }


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def _ratio(ours: float, base: float, at_least: bool = False) -> str:
    """``ours`` over ``base``; ``at_least`` when ``ours`` is a lower bound (a run stopped before its end)."""
    return f"{'>' if at_least else ''}{ours / base:.2f}x" if base and ours else "n/a"


def _run_cell(run: PipelineRun) -> str:
    if run.ok:
        return f"{run.wall_seconds:.1f}"
    bound = ">" if run.stopped_for else ""
    return f"{bound}{run.wall_seconds:.1f} ({run.outcome()})"


def size_rows(results: list[SizeResult]) -> list[str]:
    header = ("| size | events | identities | trail files (MB gz) | generate s (events/s) | history night s "
              "| peak RSS | ingest s | ingest events/s | floor s (gunzip + DuckDB) | ingest / floor "
              "| end-to-end / floor | 1-new-day night s | that day alone s | night / day alone (wall; ingest) |")
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for r in results:
        lines.append(
            f"| {r.size.name} | {r.events:,} | {r.size.identities:,} | {r.trail_files:,} ({r.trail_bytes / 1e6:,.0f}) "
            f"| {r.generate_seconds:.1f} ({r.events / r.generate_seconds:,.0f}) | {_run_cell(r.history)} "
            f"| {_gib(r.peak_rss_bytes)} | {r.ingest_seconds:.1f} | {r.ingest_events_per_second:,.0f} "
            f"| {r.floor.seconds:.1f} ({r.floor.gunzip_seconds:.1f} + {r.floor.duckdb_seconds:.1f}) "
            f"| {_ratio(r.ingest_seconds, r.floor.seconds)} "
            f"| {_ratio(r.history.wall_seconds, r.floor.seconds, bool(r.history.stopped_for))} "
            f"| {_run_cell(r.night)} | {_run_cell(r.day_alone)} "
            f"| {_ratio(r.night.wall_seconds, r.day_alone.wall_seconds, bool(r.night.stopped_for))}; "
            f"{_ratio(r.night.seconds_of(INGEST_STEPS), r.day_alone.seconds_of(INGEST_STEPS))} |")
    return lines


def size_section(results: list[SizeResult]) -> list[str]:
    """The sizes' table, then each size's pairs, the records kept whole and its slowest steps."""
    return size_rows(results) + [""] + pair_rows(results) + kept_whole_rows(results) + slowest_rows(results)


def pair_rows(results: list[SizeResult]) -> list[str]:
    """Every pair's ratio where a size had more than one (the table shows the median pair's)."""
    return [
        f"- {r.size.name}, ingest / floor of each history night and the floor right after it: "
        + ", ".join(f"{_ratio(p.ingest_seconds, p.floor.seconds)} ({p.ingest_seconds:.1f} / {p.floor.seconds:.1f} s)"
                    for p in r.pairs)
        + f"; the table shows the median, {_ratio(r.ingest_seconds, r.floor.seconds)}"
        for r in results if len(r.pairs) > 1
    ]


def kept_whole_rows(results: list[SizeResult]) -> list[str]:
    return [
        f"- {r.size.name}, the records kept whole: gunzip {r.floor.gunzip_seconds:.1f} s + DuckDB reading every "
        f"column and writing it once as Parquet {r.floor.kept_whole_duckdb_seconds:.1f} s = "
        f"{r.floor.kept_whole_seconds:.1f} s ({_ratio(r.floor.kept_whole_seconds, r.floor.seconds)} the floor); "
        f"ingest / that {_ratio(r.ingest_seconds, r.floor.kept_whole_seconds)}"
        for r in results
    ]


def slowest_rows(results: list[SizeResult]) -> list[str]:
    lines = []
    for r in results:
        for label, run in (("history night", r.history), ("1-new-day night", r.night), ("day alone", r.day_alone)):
            steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.slowest())
            lines.append(f"- {r.size.name}, slowest steps of the {label}: {steps or 'none finished'}")
    return lines


INTRO = """# Benchmarks

Written by `make bench` (`bench/run_bench.py`); each run appends a section. Sizes:
S = 1M events / 1k identities, M = 10M / 10k, L = 30M / 50k, always over a 90-day
history from `pipelines/synth/scale.py` (gzip level 1).

- **history night**: `overreach run` on the history, wall seconds and the child's peak RSS.
- **ingest**: `landing/cloudtrail` + `core/access_events` seconds from the CLI's progress lines;
  events/s is events over those seconds.
- **floor**: gunzip of the same files (Python `gzip`, one core; the pipeline's own gunzip is ISA-L's,
  1.6x faster on these files) plus DuckDB reading the same
  records as JSON Lines with the pipeline's columns (`sql/landing/cloudtrail_read.sql`),
  grouped by identity and action (JSON Lines written outside the timed region, in chunks of
  days of at most 4 GiB, DuckDB's memory limit 4 GB: the floor is not held to the pipeline's
  1 GB). Target: ingest within 1.5x of the floor, measured right after the history night; at S
  three such pairs (a night takes half a minute, and the machine's speed drifts by up to 30%
  within minutes), the table showing the pair of the median ratio and a line every pair. For
  reference, the records kept whole: the same gunzip plus DuckDB reading every one of those
  columns and writing it once as Parquet, the least that keeping the raw events costs (the
  floor's grouped read parses only the three columns it projects).
- **1-new-day night**: the history plus one more day into the history's warehouse (which the
  history night just built), against that day alone (with IAM and inventory) into a fresh
  warehouse. Target: within 1.3x. Without incremental ingestion a night re-reads the whole
  history and this ratio is about the history's size over a day's; with it (landing reused by
  content hash, events rebuilt only for changed days) the ratio shows what a night still
  recomputes over the whole window.
- **policy expansion**: `models.iam.policy.expand_policies` on 1,000 distinct generated
  policies (narrow, wildcard and broad), catalog already loaded.
- **blast radius**: `models.graph.build_graph` + `blast_radius` for every principal of a
  50,000-identity organisation (20 accounts, 5,000 policies, one day of 50,000 events), on the
  frames the graph step reads, in a warehouse built by the pipeline's steps up to the graph
  (`bench/graph_inputs.py`). Reading those frames is not timed. Target: under 60 s.

Every pipeline run is killed past the bench's memory guard (8 GiB unless `--memory-limit-gib`)
or its time limit (15 min unless `--run-timeout-minutes`); such a run is reported as stopped,
with the last step it finished, and its wall time is a lower bound (`>`). Step seconds are
those the CLI printed before the stop. The load average is recorded:
above the CPU count, other jobs shared the machine and every figure is slower than on an idle one.
"""


def write_results(path: Path, info: dict[str, str], results: list[SizeResult], policy: tuple[float, int] | None,
                  blast: BlastResult | None, notes: list[str]) -> str:
    lines = [f"## {info['date']}", "",
             f"Machine: {info['machine']}, {info['cpus']} CPUs, {info['memory']}; Python {info['python']}, "
             f"DuckDB {info['duckdb']}, Polars {info['polars']}; commit {info['commit']}; "
             f"load average (1 / 5 / 15 min) at start {info['load']}, at end {machine()['load']}.", ""]
    if results:
        lines += size_section(results) + [""]
    if policy:
        lines.append(f"- Policy expansion, {POLICY_COUNT:,} distinct policies: {policy[0]:.2f} s ({policy[1]:,} rows).")
    if blast:
        if blast.outcome == "ok":
            total = blast.build_seconds + blast.blast_seconds
            lines.append(f"- Blast radius, {blast.principals:,} principals: {total:.1f} s "
                         f"(build_graph {blast.build_seconds:.1f} s, blast_radius {blast.blast_seconds:.1f} s; "
                         f"its inputs, the pipeline's steps up to the graph: {blast.pipeline.wall_seconds:.0f} s, "
                         f"peak RSS {_gib(blast.pipeline.peak_rss_bytes)}).")
        else:
            extra = ""
            if blast.pipeline is not None:
                extra = (f" (peak RSS {_gib(blast.pipeline.peak_rss_bytes)} after {blast.pipeline.wall_seconds:.0f} s; "
                         f"last step finished: {blast.pipeline.last_step})")
            lines.append(f"- Blast radius, {blast.identities:,} identities: {blast.outcome}{extra}.")
    lines += [f"- {note}" for note in notes]
    section = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text() if path.exists() else INTRO
    path.write_text(existing.rstrip() + "\n\n" + section)
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="S", help="comma-separated, from " + ",".join(SIZES) + " (default S)")
    parser.add_argument("--keep", action="store_true", help="keep bench-data/<size> after measuring")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy expansion measure")
    parser.add_argument("--no-blast-radius", action="store_true", help="skip the blast radius measure")
    parser.add_argument("--blast-identities", type=int, default=BLAST_IDENTITIES)
    parser.add_argument("--memory-limit-gib", type=float, default=8.0, help="kill a pipeline run past this RSS")
    parser.add_argument("--run-timeout-minutes", type=float, default=15.0, help="stop a pipeline run after this")
    parser.add_argument("--ingest-pairs", type=int, default=0,
                        help="history nights, each followed by the floor, per size (default: S 3, others 1)")
    parser.add_argument("--note", action="append", default=[], help="a line to add to the results section")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to append (default docs/benchmarks.md)")
    args = parser.parse_args(argv)
    names = [n.strip().upper() for n in args.sizes.split(",") if n.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {sorted(SIZES)}")
    if args.ingest_pairs < 0:
        parser.error("--ingest-pairs takes a count, 1 or more (0: each size's own)")
    limits = Limits(int(args.memory_limit_gib * 2**30), args.run_timeout_minutes * 60)
    info = machine()
    results = []
    for name in names:
        result = bench_size(SIZES[name], limits, args.ingest_pairs)
        results.append(result)
        print("\n".join(size_section([result])), flush=True)
        if not args.keep:
            shutil.rmtree(BENCH_DATA / name, ignore_errors=True)
    policy = None if args.no_policies else bench_policy_expansion()
    if policy:
        print(f"policy expansion, {POLICY_COUNT} policies: {policy[0]:.2f} s", flush=True)
    blast = None if args.no_blast_radius else bench_blast_radius(args.blast_identities, limits)
    if blast:
        print(f"blast radius: {blast.outcome}", flush=True)
    print("\n" + write_results(args.results, info, results, policy, blast, args.note))
    print(f"appended to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
