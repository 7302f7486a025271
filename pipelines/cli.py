"""``overreach``: run the nightly asset graph in process, or re-render a report.

    overreach run SOURCES... [--warehouse DIR] [--as-of YYYY-MM-DD] [--window-days N] [--risk-config FILE]
    overreach report [--warehouse DIR] [--as-of YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.sql import fetch_row
from models.risk.config import RiskConfig
from pipelines.resources import DATABASE_NAME, DEFAULT_WINDOW_DAYS, build_resources

JOB_NAME = "overreach_nightly"


class UsageError(Exception):
    """A mistake on the command line: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def _as_of(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of must be a date YYYY-MM-DD, got {text!r}") from None


def _window_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days <= 0:
        raise argparse.ArgumentTypeError(f"--window-days must be a whole number of days above 0, got {text!r}")
    return days


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="overreach", description="Granted vs used privilege for AI and other non-human identities.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="ingest SOURCES and rebuild the warehouse and reports")
    run.add_argument("sources", nargs="+", type=Path, metavar="SOURCES", help="files or directories, any layout")
    run.add_argument("--warehouse", type=Path, default=Path("warehouse"), help="output directory (default ./warehouse)")
    run.add_argument("--as-of", type=_as_of, default=None, help="last day of the window, YYYY-MM-DD (default today)")
    run.add_argument("--window-days", type=_window_days, default=DEFAULT_WINDOW_DAYS, help="window length (default 90)")
    run.add_argument("--risk-config", type=Path, default=None, metavar="FILE",
                     help="JSON of risk weights and thresholds to override (see docs/risk.md)")
    report = commands.add_parser("report", help="re-render the reports from an existing warehouse, without recomputing")
    report.add_argument("--warehouse", type=Path, default=Path("warehouse"), help="warehouse directory (default ./warehouse)")
    report.add_argument("--as-of", type=_as_of, default=None, help="which run's report (default: the latest)")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        missing = [str(p) for p in args.sources if not p.exists()]
        if missing:
            raise UsageError(f"source not found: {', '.join(missing)}")
        if args.warehouse.exists() and not args.warehouse.is_dir():
            raise UsageError(f"--warehouse must be a directory: {args.warehouse}")
        args.risk_overrides = _risk_overrides(args.risk_config)
    if args.command == "report" and not (args.warehouse / DATABASE_NAME).exists():
        raise UsageError(f"no warehouse at {args.warehouse} (expected {args.warehouse / DATABASE_NAME})")
    return args


def _risk_overrides(path: Path | None) -> str:
    """The overrides file's JSON, checked now so that a typo fails on the command line, not mid-run."""
    if path is None:
        return ""
    try:
        overrides = json.loads(path.read_text())
        RiskConfig().with_overrides(overrides)
    except OSError as error:
        raise UsageError(f"--risk-config: cannot read {path}: {error.strerror}") from None
    except (ValueError, TypeError) as error:
        raise UsageError(f"--risk-config {path}: {error}") from None
    return json.dumps(overrides)


class _ProgressHandler(logging.Handler):
    """Prints one line per materialized asset (rows, seconds) and one per failed step."""

    def __init__(self, out) -> None:
        super().__init__()
        self.out = out
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is None:
            return
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            metadata = {k: v.value for k, v in materialization.metadata.items()}
            rows = metadata.get("rows", "")
            seconds = metadata.get("seconds")
            timing = f"{seconds:8.2f} s" if isinstance(seconds, float | int) else ""
            print(f"  {materialization.asset_key.to_user_string():<34} {rows:>10} rows {timing}", file=self.out)
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            while error.cause is not None:  # the user's cause, not Dagster's wrapper
                error = error.cause
            message = error.message.strip().splitlines()[0]
            self.failures.append(f"{event.step_key}: {message}")
            print(f"  FAILED {event.step_key}: {message}", file=self.out)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            check = event.event_specific_data
            if not check.passed:
                print(f"  check {check.check_name} on {check.asset_key.to_user_string()} did not pass", file=self.out)


def _progress_logger(handler: _ProgressHandler) -> dg.LoggerDefinition:
    @dg.logger
    def progress(_init_context):
        log = logging.getLogger("overreach.progress")
        log.setLevel(logging.DEBUG)
        log.handlers = [handler]
        log.propagate = False
        return log

    return progress


def run_command(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    from pipelines.defs_loader import load_project_defs

    as_of = args.as_of or date.today().isoformat()
    resources = build_resources(
        sources=[str(p) for p in args.sources], warehouse_dir=str(args.warehouse), as_of=as_of,
        window_days=args.window_days, risk_overrides=args.risk_overrides,
    )
    handler = _ProgressHandler(out)
    defs = load_project_defs(resources=resources, loggers={"progress": _progress_logger(handler)})
    print(f"overreach: as of {as_of}, window {args.window_days} days, warehouse {args.warehouse}", file=out)
    result = defs.resolve_job_def(JOB_NAME).execute_in_process(
        run_config={"loggers": {"progress": {}}}, raise_on_error=False, instance=dg.DagsterInstance.ephemeral()
    )
    if not result.success:
        print("overreach: the run failed; the published warehouse was left as it was.", file=out)
        return 1
    print_summary(args.warehouse, as_of, out)
    return 0


def print_summary(warehouse: Path, as_of: str, out) -> None:
    import duckdb

    database = warehouse / DATABASE_NAME
    with duckdb.connect(str(database), read_only=True) as con:
        identities, ai, events, quarantined = fetch_row(con, 
            """SELECT (SELECT count(*) FROM core.identities), (SELECT count(*) FROM core.identities WHERE is_ai),
                      (SELECT count(*) FROM core.access_events), (SELECT count(*) FROM ops.quarantine)"""
        )
    print(
        f"\nidentities {identities}, AI identities {ai}, events loaded {events}, records quarantined {quarantined}\n"
        f"warehouse: {database.resolve()}\n"
        f"report:    {(warehouse / 'reports' / as_of / 'report.html').resolve()}",
        file=out,
    )


def report_command(args: argparse.Namespace, out=None) -> int:
    """Re-render ``reports/<as-of>/`` from the published warehouse, read-only."""
    import duckdb

    from pipelines.reports.render import write_reports

    out = out or sys.stdout
    with duckdb.connect(str(args.warehouse / DATABASE_NAME), read_only=True) as con:
        snapshots = dict(con.execute(
            "SELECT as_of::VARCHAR, any_value(window_days) FROM marts.run_history GROUP BY ALL"
        ).fetchall())
        as_of = args.as_of or max(snapshots, default=None)
        if as_of not in snapshots:
            known = ", ".join(sorted(snapshots)) or "none"
            print(f"overreach: error: no run for as-of {as_of} in this warehouse (runs: {known})", file=sys.stderr)
            return 2
        written = write_reports(con, args.warehouse / "reports" / as_of, as_of=date.fromisoformat(as_of),
                                window_days=snapshots[as_of])
    print(f"report: {written[0].resolve()} ({len(written)} files)", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        print(f"overreach: error: {error}", file=sys.stderr)
        return 2
    if args.command == "report":
        return report_command(args)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
