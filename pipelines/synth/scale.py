"""A synthetic organisation of any size, in the real input formats, for benchmarks.

    python -m pipelines.synth.scale OUT_DIR --accounts 3 --identities 1000 --policies 400 \\
        --days 90 --events-per-day 11112 [--seed S] [--end-date YYYY-MM-DD | --start-date YYYY-MM-DD]

writes what ``data/sample/`` holds, at scale: per account the IAM authorization
details (paged like the CLI's output), gzipped CloudTrail delivery files in the S3
layout (``--files-per-day`` per account and region), and the identity inventory CSV.

The organisation (accounts, identities, workloads, policies, groups) is a pure
function of the seed and the three sizes, never of the dates: a 90-day history
and one more day written later with ``--start-date`` (and ``--cloudtrail-only``)
describe the same identities (``scale_org`` builds it). Each day is a pure
function of the organisation, the seed and that day, so days are written in
parallel and in any order.

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
import multiprocessing
import random
import shutil
import sys
import time as clock
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from models.collector import gc_paused
from pipelines.synth import formats as fmt
from pipelines.synth.scale_org import (
    CALLS,
    DENIALS,
    Identity,
    Organisation,
    Workload,
    build_organisation,
    inventory_rows,
    write_iam,
)

DEFAULT_SEED = "overreach-scale-1"
DEFAULT_END_DATE = date(2026, 11, 27)
DEFAULT_FILES_PER_DAY = 24
DEFAULT_GZIP_LEVEL = 1
STS_REGION = "us-east-1"  # sts:AssumeRole and sign-ins are logged in us-east-1, as in the sample
GENERATED_DIRS = ("AWSLogs", "iam", "inventory")
INVENTORY_PATH = Path("inventory") / "identities.csv"
DENIED_SHARE = 0.02
THROTTLED_SHARE = 0.005
# Share of events per UTC hour: busier in working hours, never silent.
HOUR_WEIGHTS = (3, 2, 2, 2, 2, 3, 4, 6, 9, 11, 12, 12, 11, 12, 12, 11, 10, 8, 6, 5, 5, 4, 4, 3)
OFFICE_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 1, 4, 10, 12, 12, 10, 8, 11, 12, 11, 9, 5, 2, 1, 0, 0, 0, 0)


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
    """What a worker needs to write days: set in this process, or once in each worker as it starts."""

    org: Organisation
    out_dir: Path
    events_per_day: int
    files_per_day: int
    gzip_level: int


_JOB: _Job | None = None
_TEMPLATES: dict[tuple, tuple[dict, int]] = {}  # per process, kept across days: a template depends only on its key
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
    hour_tables = {False: _cumulative(HOUR_WEIGHTS), True: _cumulative(OFFICE_HOUR_WEIGHTS)}
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
        with gc_paused():
            for second, index in _plan_day(self.org, self.rng, self.job.events_per_day):
                identity = identities[index]
                opening, caller = self.session_record(identity, second)
                record = opening or self.call_record(identity, caller, second)
                add(second, record["recipientAccountId"], record["awsRegion"], record)
            self.writer.flush()
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
    """Write every day, in parallel when ``processes`` > 1.

    Workers start from a fork server, not a fork of this process: a process that has run Polars or DuckDB
    holds their threads' locks, and a child forked from it can wait on one forever (seen in the test suite).
    Each worker receives the job once, as it starts.
    """
    try:
        if processes <= 1 or len(days) == 1:
            _start_worker(job)
            return [_write_day(day) for day in days]
        context = multiprocessing.get_context("forkserver")
        with context.Pool(processes, initializer=_start_worker, initargs=(job,)) as pool:
            return sorted(pool.imap_unordered(_write_day, days), key=lambda r: r.day)
    finally:
        _start_worker(None)


def _start_worker(job: _Job | None) -> None:
    global _JOB
    _JOB = job
    _TEMPLATES.clear()
    _KEY_USERS.clear()


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
        if self.days < 1 or self.events_per_day < 0 or not 1 <= self.files_per_day <= 1440:
            raise ValueError("days must be at least 1, events per day at least 0, files per day 1 to 1440")
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
        paths += write_iam(org, out_dir, last_used)
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
          f"{summary.identities} identities in {summary.accounts} accounts, "
          f"{summary.policies} customer managed policies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
