"""Nights that read only new CloudTrail files and rebuild only the days they touch."""

import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from pipelines.sources import events, landing
from pipelines.sources.cloudtrail import DAY_FILE_STATISTICS, rows_by_day
from tests.conftest import write_json
from tests.factories import assumed_role_identity, authorization_details, event, role

BOT = assumed_role_identity("triage-bot", "triage-1")


def trail_file(root: Path, day: str, name: str, *event_ids: str) -> Path:
    yyyy, mm, dd = day.split("-")
    records = [event(e, identity=BOT, time=f"{day}T10:00:00Z", name="GetObject") for e in event_ids]
    return write_json(root / f"AWSLogs/111122223333/CloudTrail/us-east-1/{yyyy}/{mm}/{dd}/{name}.json.gz",
                      {"Records": records}, gz=True)


class Night:
    """One warehouse database and landing area, refreshed night after night from a source tree."""

    def __init__(self, tmp_path: Path, sources: Path) -> None:
        self.sources = sources
        self.landing_dir = tmp_path / "landing"
        self.events_dir = tmp_path / "events"
        self.scratch = tmp_path / "scratch"
        self.con = duckdb.connect(str(tmp_path / "db.duckdb"))
        for schema in ("core", "ops"):
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")

    def run(self):
        detected = landing.discover([self.sources])
        outcomes = landing.land_cloudtrail_files(self.con, detected, self.landing_dir, self.scratch)
        summary = events.refresh_events(
            self.con, outcomes, self.landing_dir / "cloudtrail", self.events_dir
        )
        return outcomes, summary

    def days(self) -> list[tuple]:
        return self.con.execute(
            "SELECT day::VARCHAR, sum(event_count) FROM core.usage_daily GROUP BY ALL ORDER BY 1"
        ).fetchall()


@pytest.fixture
def night(tmp_path) -> Night:
    sources = tmp_path / "inputs"
    trail_file(sources, "2026-11-01", "a", "e1", "e2")
    trail_file(sources, "2026-11-02", "b", "e3")
    return Night(tmp_path, sources)


def test_a_new_night_reads_only_its_new_file_and_rebuilds_only_its_day(night):
    _, first = night.run()
    assert (first.days_total, first.days_rebuilt, first.events) == (2, 2, 3)
    trail_file(night.sources, "2026-11-03", "c", "e4", "e5")
    outcomes, second = night.run()
    assert sorted((o.source.path.name, o.was_landed_before) for o in outcomes) == [
        ("a.json.gz", True), ("b.json.gz", True), ("c.json.gz", False)
    ]
    assert (second.days_total, second.days_rebuilt, second.days_removed, second.events) == (3, 1, 0, 5)
    assert night.days() == [("2026-11-01", 2), ("2026-11-02", 1), ("2026-11-03", 2)]


def test_back_filling_a_past_day_rebuilds_it_once(night):
    night.run()
    trail_file(night.sources, "2026-11-01", "late", "e1", "e9")  # e1 redelivered, e9 new
    _, backfill = night.run()
    assert (backfill.days_rebuilt, backfill.events) == (1, 4)
    assert night.days() == [("2026-11-01", 3), ("2026-11-02", 1)]
    assert night.con.execute("SELECT sum(duplicates) FROM ops.event_day_files").fetchall() == [(1,)]
    _, again = night.run()
    assert (again.days_rebuilt, again.events) == (0, 4)


def test_a_file_that_disappears_takes_its_events_with_it(night):
    night.run()
    next(night.sources.rglob("b.json.gz")).unlink()
    _, after = night.run()
    assert (after.days_removed, after.events) == (1, 2)
    assert night.days() == [("2026-11-01", 2)]
    assert night.con.execute("SELECT count(*) FROM core.access_events").fetchall() == [(2,)]


def test_incremental_nights_give_the_warehouse_a_fresh_run_gives(tmp_path):
    sources = tmp_path / "inputs"
    write_json(sources / "iam.json", authorization_details(roles=[role("triage-bot")]))
    trail_file(sources, "2026-11-01", "a", "e1", "e2")
    assert main(["run", str(sources), "--warehouse", str(tmp_path / "nightly"), "--as-of", "2026-11-02"]) == 0
    redelivered = event("e1", identity=BOT, time="2026-11-01T10:00:00Z", name="GetObject")
    write_json(sources / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/b.json.gz",
               {"Records": [event("e3", identity=BOT, time="2026-11-02T09:00:00Z"), redelivered]}, gz=True)
    assert main(["run", str(sources), "--warehouse", str(tmp_path / "nightly"), "--as-of", "2026-11-02"]) == 0
    assert main(["run", str(sources), "--warehouse", str(tmp_path / "fresh"), "--as-of", "2026-11-02"]) == 0

    def content(warehouse: str) -> dict:
        with duckdb.connect(str(tmp_path / warehouse / "overreach.duckdb"), read_only=True) as con:
            tables = ["core.usage_daily", "core.resource_usage_daily", "marts.identity_privilege",
                      "marts.identity_action_usage", "ops.event_day_files"]
            result = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
            result["events"] = con.execute("SELECT event_id FROM core.access_events ORDER BY 1").fetchall()
            return result

    nightly, fresh = content("nightly"), content("fresh")
    assert nightly == fresh
    assert nightly["events"] == [("e1",), ("e2",), ("e3",)]
    day_files = sorted(p.parent.name for p in (tmp_path / "nightly" / "events").rglob("*.parquet"))
    assert day_files == ["event_day=2026-11-01", "event_day=2026-11-02"]  # the replaced day file is gone


def test_a_moved_warehouse_keeps_its_events(tmp_path):
    sources = tmp_path / "inputs"
    write_json(sources / "iam.json", authorization_details(roles=[role("triage-bot")]))
    trail_file(sources, "2026-11-01", "a", "e1", "e2")
    assert main(["run", str(sources), "--warehouse", str(tmp_path / "old"), "--as-of", "2026-11-02"]) == 0
    (tmp_path / "old").rename(tmp_path / "new")
    assert main(["run", str(sources), "--warehouse", str(tmp_path / "new"), "--as-of", "2026-11-02"]) == 0
    with duckdb.connect(str(tmp_path / "new" / "overreach.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.access_events").fetchall() == [(2,)]
        view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'access_events'").fetchall()[0][0]
    assert str(tmp_path / "new" / "events") in view


def test_a_night_in_chunks_lands_each_file_in_the_records_file_its_outcome_names(tmp_path, monkeypatch):
    monkeypatch.setattr("pipelines.sources.cloudtrail.CHUNK_FILES", 2)
    sources = tmp_path / "inputs"
    for number in range(5):
        trail_file(sources, f"2026-11-0{number + 1}", f"f{number}", f"e{number}a", f"e{number}b")
    night = Night(tmp_path, sources)
    outcomes, summary = night.run()
    records_dir = night.landing_dir / "cloudtrail" / "records"
    assert len({o.records_file for o in outcomes}) == 3 == len([p for p in records_dir.iterdir() if p.is_dir()])
    for outcome in outcomes:
        landed = night.con.execute(
            "SELECT list(event_id ORDER BY event_id) FROM read_parquet($f, hive_partitioning = false) "
            "WHERE source_key = $k",
            {"f": str(records_dir / outcome.records_file / "*" / "*.parquet"), "k": outcome.source.key},
        ).fetchall()
        number = outcome.source.path.name[1]
        assert landed == [([f"e{number}a", f"e{number}b"],)]
    assert summary.events == 10
    assert [p.name for p in (night.landing_dir / "cloudtrail" / "outcomes").iterdir()] == [
        outcomes[0].records_file.rsplit("-", 1)[0] + ".jsonl"
    ]


def test_a_removed_file_leaves_the_nights_outcomes_and_its_records_file(tmp_path, monkeypatch):
    monkeypatch.setattr("pipelines.sources.cloudtrail.CHUNK_FILES", 1)
    sources = tmp_path / "inputs"
    trail_file(sources, "2026-11-01", "a", "e1")
    trail_file(sources, "2026-11-02", "b", "e2")
    night = Night(tmp_path, sources)
    first, _ = night.run()
    gone = next(o for o in first if o.source.path.name == "b.json.gz")
    gone.source.path.unlink()
    second, summary = night.run()
    records = sorted(p.name for p in (night.landing_dir / "cloudtrail" / "records").iterdir())
    assert records == [second[0].records_file] and gone.records_file not in records
    outcome_lines = next((night.landing_dir / "cloudtrail" / "outcomes").glob("*.jsonl")).read_text().splitlines()
    assert len(outcome_lines) == 1 and second[0].was_landed_before
    assert summary.events == 1


def test_an_event_delivered_three_times_is_kept_once_from_the_first_file(tmp_path):
    sources = tmp_path / "inputs"
    for name in ("c", "a", "b"):
        trail_file(sources, "2026-11-01", name, "e1", f"only-{name}")
    night = Night(tmp_path, sources)
    _, summary = night.run()
    assert summary.events == 4
    kept = night.con.execute("SELECT source_file FROM core.access_events WHERE event_id = 'e1'").fetchall()
    assert [Path(k[0]).name for k in kept] == ["a.json.gz"]
    assert night.con.execute(
        "SELECT sum(records), sum(duplicates) FROM ops.event_day_files"
    ).fetchall() == [(6, 2)]


def _day_files(night: Night, day: str) -> list[Path]:
    pattern = night.con.execute(
        "SELECT events_file FROM ops.event_days WHERE event_day = $d::DATE", {"d": day}
    ).fetchall()[0][0]
    return sorted(night.events_dir.glob(pattern))


def test_a_day_without_copies_takes_its_landed_parquet_by_a_hard_link(night):
    night.run()
    (linked,) = _day_files(night, "2026-11-01")
    (landed,) = (night.landing_dir / "cloudtrail" / "records").glob("*/landing_part=2026-11-01/*.parquet")
    assert linked.stat().st_ino == landed.stat().st_ino and linked.stat().st_nlink == 2
    assert night.con.execute("SELECT list(event_id ORDER BY event_id) FROM core.access_events").fetchall() == [
        (["e1", "e2", "e3"],)
    ]
    assert "reject_reason" not in [c[0] for c in night.con.execute("DESCRIBE core.access_events").fetchall()]


def test_a_quarantined_record_leaves_no_rejected_parquet_and_no_event(tmp_path):
    sources = tmp_path / "inputs"
    path = trail_file(sources, "2026-11-01", "a", "e1", "e2")
    write_json(path, {"Records": [event("e1", identity=BOT, time="2026-11-01T10:00:00Z"),
                                  event("e2", identity=BOT, time="not a time")]}, gz=True)
    night = Night(tmp_path, sources)
    (outcome,), summary = night.run()
    assert [r.reason for r in outcome.rejected] == ["eventTime is not a timestamp: not a time"]
    assert summary.events == 1
    records = night.landing_dir / "cloudtrail" / "records" / outcome.records_file
    assert sorted(p.name for p in records.iterdir()) == ["landing_part=2026-11-01"]


def test_a_removed_file_that_shared_a_records_directory_leaves_its_day_written_without_it(tmp_path):
    sources = tmp_path / "inputs"
    trail_file(sources, "2026-11-01", "a", "e1")
    gone = trail_file(sources, "2026-11-01", "b", "e2")
    night = Night(tmp_path, sources)
    first, _ = night.run()
    assert len({o.records_file for o in first}) == 1
    gone.unlink()
    _, summary = night.run()
    assert (summary.days_rebuilt, summary.events) == (1, 1)
    assert [p.name for p in _day_files(night, "2026-11-01")] == ["data_0.parquet"]
    assert night.con.execute("SELECT list(event_id) FROM core.access_events").fetchall() == [(["e1"],)]
    assert night.days() == [("2026-11-01", 1)]


def test_a_day_with_copies_of_an_event_is_written_and_the_others_are_linked(tmp_path):
    sources = tmp_path / "inputs"
    trail_file(sources, "2026-11-01", "a", "e1")
    trail_file(sources, "2026-11-01", "b", "e1", "e2")
    trail_file(sources, "2026-11-02", "c", "e3")
    night = Night(tmp_path, sources)
    _, summary = night.run()
    assert summary.events == 3
    assert [p.name for p in _day_files(night, "2026-11-01")] == ["data_0.parquet"]
    assert _day_files(night, "2026-11-02")[0].stat().st_nlink == 2


def test_a_day_taken_as_landed_and_a_day_written_again_hold_the_same_columns_and_types(tmp_path):
    sources = tmp_path / "inputs"
    trail_file(sources, "2026-11-01", "a", "e1")
    trail_file(sources, "2026-11-01", "b", "e1", "e2")
    write_json(trail_file(sources, "2026-11-02", "c", "e3"), {"Records": [
        event("e3", identity=BOT, time="2026-11-02T10:00:00Z", name="GetObject", request={"bucketName": "reports"})
    ]}, gz=True)
    night = Night(tmp_path, sources)
    night.run()
    (written,), (linked,) = _day_files(night, "2026-11-01"), _day_files(night, "2026-11-02")

    def columns(path: Path) -> list[tuple]:
        return [row[:2] for row in night.con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]

    assert columns(linked) == columns(written)
    types = dict(columns(linked))
    assert (types["event_time"], types["is_success"], types["request_parameters"], types["resources"]) == (
        "TIMESTAMP WITH TIME ZONE", "BOOLEAN", "JSON", "VARCHAR[]"
    )
    assert night.con.execute("SELECT request_parameters->>'$.bucketName' FROM core.access_events "
                             "WHERE event_id = 'e3'").fetchall() == [("reports",)]


def test_a_landed_day_file_records_the_range_of_the_columns_readers_filter_by(tmp_path):
    sources = tmp_path / "inputs"
    trail_file(sources, "2026-11-01", "a", "e1", "e2")
    night = Night(tmp_path, sources)
    night.run()
    (day_file,) = _day_files(night, "2026-11-01")
    row_group = pq.ParquetFile(day_file).metadata.row_group(0)
    with_statistics = {row_group.column(i).path_in_schema for i in range(row_group.num_columns)
                       if row_group.column(i).is_stats_set}
    assert with_statistics == set(DAY_FILE_STATISTICS)  # every name a landed column
    by_name = {row_group.column(i).path_in_schema: row_group.column(i).statistics for i in range(row_group.num_columns)}
    assert (by_name["event_name"].min, by_name["event_name"].max) == ("GetObject", "GetObject")


def test_an_event_belongs_to_the_utc_day_of_its_instant_whatever_offset_its_time_is_written_with(tmp_path):
    times = {"late-west": "2026-11-01T23:30:00-02:00", "early-east": "2026-11-02T00:30:00+05:00",
             "midnight": "2026-11-02T00:00:00Z", "last-micro": "2026-11-01T23:59:59.999999Z",
             "before-1970": "1969-12-31T23:00:00Z"}
    records = [event(e, identity=BOT, time=t, name="GetObject") for e, t in times.items()]
    write_json(tmp_path / "in/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/t.json.gz",
               {"Records": records}, gz=True)
    night = Night(tmp_path, tmp_path / "in")
    night.run()
    days = dict(night.con.execute("SELECT event_id, event_day::VARCHAR FROM core.access_events").fetchall())
    assert days == {"late-west": "2026-11-02", "early-east": "2026-11-01", "midnight": "2026-11-02",
                    "last-micro": "2026-11-01", "before-1970": "1969-12-31"}


@pytest.mark.parametrize(("records", "batches"), [
    ([40, 40, 40, 40], [[0, 1], [2, 3]]),
    ([50, 50, 9], [[0, 1, 2]]),  # a remainder under a tenth of the bound joins the batch before
    ([50, 50, 10], [[0, 1], [2]]),
    ([150, 20], [[0], [1]]),  # a day over the bound is a batch of its own
    ([5], [[0]]),
    ([], []),
])
def test_days_are_rebuilt_in_batches_of_bounded_records_without_a_small_remainder(monkeypatch, records, batches):
    monkeypatch.setattr(events, "BATCH_RECORDS", 100)
    plans = [events.DayPlan(f"2026-11-{day + 1:02d}", ()) for day in range(len(records))]
    by_day = {plan.day: count for plan, count in zip(plans, records)}
    assert [[plans.index(p) for p in batch] for batch in events._batches(plans, by_day)] == batches


def test_a_reads_rows_are_split_by_day_in_the_order_they_come_without_copying_them():
    first, second, third = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
    batches = [
        pa.record_batch({"event_day": [first, first, second, first], "event_id": ["a", "b", "c", "d"]}),
        pa.record_batch({"event_day": [second, third], "event_id": ["e", "f"]}),
    ]
    read = pa.Table.from_batches(batches)
    split = rows_by_day(read)
    assert {day: rows["event_id"].to_pylist() for day, rows in split.items()} == {
        first: ["a", "b", "d"], second: ["c", "e"], third: ["f"],
    }
    assert all(rows.schema == read.schema for rows in split.values())
    # slices of the read's own buffers: the first day's ids are views of the first batch's data
    assert split[first]["event_id"].chunks[0].buffers()[2].address == batches[0].column(1).buffers()[2].address


def test_the_rollups_run_in_two_groups_that_hold_each_rollup_once_and_fill_every_rollup(tmp_path):
    grouped = [table for group in events.ROLLUP_GROUPS for table in group]
    assert sorted(grouped) == sorted(events.ROLLUPS)
    bucket, target = "arn:aws:s3:::reports", "arn:aws:iam::111122223333:role/writer"
    records = [
        event("g1", identity=BOT, name="GetObject", resources=[bucket]),
        event("g2", identity=BOT, name="GetObject", resources=[bucket]),
        event("a1", identity=BOT, source="sts.amazonaws.com", name="AssumeRole", request={"roleArn": target}),
    ]
    write_json(tmp_path / "in/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/t.json.gz",
               {"Records": records}, gz=True)
    night = Night(tmp_path, tmp_path / "in")
    night.run()
    rows = {table: night.con.execute(f"SELECT * EXCLUDE (day) FROM {table} ORDER BY ALL").fetchall()
            for table in events.ROLLUPS}
    role = BOT["sessionContext"]["sessionIssuer"]["arn"]
    assert sorted((r[4], r[-3]) for r in rows["core.usage_daily"]) == [("AssumeRole", 1), ("GetObject", 2)]
    assert rows["core.resource_usage_daily"] == [  # the role named in the request is a resource touched too
        (role, "s3.amazonaws.com", "GetObject", "AwsApiCall", bucket, 2),
        (role, "sts.amazonaws.com", "AssumeRole", "AwsApiCall", target, 1),
    ]
    assert [r[:3] for r in rows["core.credential_usage_daily"]] == [("ASIAEXAMPLE", role, 3)]
    assert [r[:5] + r[-1:] for r in rows["core.delegation_usage_daily"]] == [
        (role, "sts.amazonaws.com", "AssumeRole", "assumed", target, 1)
    ]


def test_files_landed_in_an_earlier_layout_are_landed_again(night):
    night.run()
    outcomes_dir = night.landing_dir / "cloudtrail" / "outcomes"
    nightly = next(outcomes_dir.glob("*.jsonl"))
    earlier = [json.loads(line) for line in nightly.read_text().splitlines()]
    nightly.write_text("".join(json.dumps({k: v for k, v in d.items() if k != "layout"}) + "\n" for d in earlier))
    outcomes, summary = night.run()
    assert not any(o.was_landed_before for o in outcomes) and summary.events == 3
    assert night.days() == [("2026-11-01", 2), ("2026-11-02", 1)]
    assert len(list((night.landing_dir / "cloudtrail" / "outcomes").glob("*.jsonl"))) == 1


def test_delivery_day_comes_from_the_file_name_or_the_s3_layout():
    from pipelines.sources.cloudtrail import delivery_day

    named = "AWSLogs/1/CloudTrail/us-east-1/2026/11/02/1_CloudTrail_us-east-1_20261102T0105Z_x.json.gz"
    assert delivery_day(Path(named)) == "20261102"
    assert delivery_day(Path("AWSLogs/1/CloudTrail/us-east-1/2026/11/02/export.json.gz")) == "20261102"
    assert delivery_day(Path("exports/lake.jsonl")) == ""


def test_new_files_are_read_in_order_of_delivery_day_so_each_read_holds_whole_days(tmp_path, monkeypatch):
    monkeypatch.setattr("pipelines.sources.cloudtrail.CHUNK_FILES", 2)
    sources = tmp_path / "inputs"
    for account in ("111122223333", "444455556666"):  # in path order: an account's days, then the next account's
        for day in ("01", "02"):
            records = [event(f"{account}-{day}", identity=BOT, time=f"2026-11-{day}T10:00:00Z")]
            write_json(sources / f"AWSLogs/{account}/CloudTrail/us-east-1/2026/11/{day}/f.json.gz",
                       {"Records": records}, gz=True)
    night = Night(tmp_path, sources)
    _, summary = night.run()
    assert summary.events == 4
    records_dir = night.landing_dir / "cloudtrail" / "records"
    assert sorted(len(list(d.iterdir())) for d in records_dir.iterdir()) == [1, 1]
    assert [len(_day_files(night, day)) for day in ("2026-11-01", "2026-11-02")] == [1, 1]


def test_outcomes_an_earlier_version_wrote_per_file_are_still_reused(night):
    night.run()
    outcomes_dir = night.landing_dir / "cloudtrail" / "outcomes"
    nightly = next(outcomes_dir.glob("*.jsonl"))
    for line in nightly.read_text().splitlines():
        document = json.loads(line)
        (outcomes_dir / f"{document.pop('key')}.json").write_text(json.dumps(document))
    nightly.unlink()
    outcomes, summary = night.run()
    assert all(o.was_landed_before for o in outcomes) and summary.days_rebuilt == 0
    assert night.days() == [("2026-11-01", 2), ("2026-11-02", 1)]


def test_landed_outcomes_keep_every_excerpt_as_it_was_quarantined(tmp_path):
    from pipelines.sources.cloudtrail import read_landed_documents, write_landed_outcomes
    from pipelines.sources.files import SourceFile
    from pipelines.sources.ledger import FileOutcome, Rejected

    source = SourceFile("/t/a.json.gz", 10, "ab" * 32, True)
    rejected = [Rejected("record 1", "missing required field eventID", "caf\u00e9 \u2603"),
                Rejected("record 2", "malformed", "lone \udc80 surrogate"), Rejected(None, "unreadable file")]
    outcome = FileOutcome(source, "cloudtrail_records", records_loaded=3, rejected=rejected,
                          records_by_day={"2026-11-01": 3}, records_file="batch-x-0000")
    plain = FileOutcome(SourceFile("/t/b.json.gz", 10, "cd" * 32, True), "cloudtrail_records", records_loaded=1,
                        records_by_day={"2026-11-02": 1}, records_file="batch-x-0000")
    # the file's lines are read as one array, line by line when one of them needs the json module
    for outcomes in ([outcome, plain], [plain]):
        write_landed_outcomes(tmp_path / "batch-x.jsonl", outcomes)
        documents = read_landed_documents(tmp_path)
        assert documents[plain.source.key]["records_by_day"] == {"2026-11-02": 1}
        assert sorted(documents) == sorted(o.source.key for o in outcomes)
    write_landed_outcomes(tmp_path / "batch-x.jsonl", [outcome, plain])
    document = read_landed_documents(tmp_path)[source.key]
    assert document["rejected"] == [[r.position, r.reason, r.excerpt] for r in rejected]
    assert (document["records_loaded"], document["records_by_day"], document["records_file"]) == (
        3, {"2026-11-01": 3}, "batch-x-0000")


def test_chunks_are_cut_by_files_and_by_bytes_on_disk(monkeypatch):
    from pipelines.sources.cloudtrail import chunks_of
    from pipelines.sources.files import SourceFile

    monkeypatch.setattr("pipelines.sources.cloudtrail.CHUNK_FILES", 3)
    monkeypatch.setattr("pipelines.sources.cloudtrail.CHUNK_BYTES", 100)
    monkeypatch.setattr("pipelines.sources.cloudtrail.RAMP_UP", ())
    files = [(SourceFile(f"/t/{i}", size, str(i), True), "cloudtrail")
             for i, size in enumerate([10, 10, 10, 10, 60, 50, 500, 1])]
    sizes = [[item[0].size_bytes for item in chunk] for chunk in chunks_of(files)]
    # three files at most; a file that would pass 100 bytes starts a chunk; one over 100 is a chunk of its own
    assert sizes == [[10, 10, 10], [10, 60], [50], [500], [1]]
    assert chunks_of([]) == []


def test_the_first_chunks_are_a_quarter_then_a_half_of_the_bytes(monkeypatch):
    from pipelines.sources.cloudtrail import chunks_of
    from pipelines.sources.files import SourceFile

    monkeypatch.setattr("pipelines.sources.cloudtrail.CHUNK_BYTES", 100)
    files = [(SourceFile(f"/t/{i}", 10, str(i), True), "cloudtrail") for i in range(30)]
    assert [len(chunk) for chunk in chunks_of(files)] == [2, 5, 10, 10, 3]


def test_the_delegation_rollup_counts_each_role_assumed_or_passed_once_per_call(tmp_path):
    role_arn = "arn:aws:iam::111122223333:role/{}".format
    records = [
        event("a1", identity=BOT, source="sts.amazonaws.com", name="AssumeRole",
              request={"roleArn": role_arn("reader"), "roleSessionName": "s"}),
        event("a2", identity=BOT, source="sts.amazonaws.com", name="AssumeRole",
              request={"roleArn": role_arn("reader"), "roleSessionName": "s"}),
        event("p1", identity=BOT, source="lambda.amazonaws.com", name="CreateFunction20150331",
              request={"functionName": "triage", "role": role_arn("lambda-exec")}),
        event("p2", identity=BOT, source="ecs.amazonaws.com", name="RegisterTaskDefinition",
              request={"taskRoleArn": role_arn("task"), "executionRoleArn": role_arn("exec"),
                       "family": "arn:aws:iam::111122223333:role/not-a-role-key"}),
        event("f1", identity=BOT, source="sts.amazonaws.com", name="AssumeRole", error="AccessDenied",
              request={"roleArn": role_arn("admin")}),
        event("n1", identity=BOT, source="s3.amazonaws.com", name="GetObject", request={"bucketName": "b"}),
        event("n2", identity=BOT, source="s3.amazonaws.com", name="ListBuckets"),
    ]
    write_json(tmp_path / "in/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/t.json.gz",
               {"Records": records}, gz=True)
    night = Night(tmp_path, tmp_path / "in")
    night.run()
    rows = night.con.execute(
        "SELECT event_name, move, role_arn, workload_arn, event_count FROM core.delegation_usage_daily ORDER BY ALL"
    ).fetchall()
    callers = night.con.execute("SELECT DISTINCT identity_id, day::VARCHAR FROM core.delegation_usage_daily").fetchall()
    assert callers == [(role_arn("triage-bot"), "2026-11-20")]
    assert rows == [
        ("AssumeRole", "assumed", role_arn("reader"), None, 2),
        ("CreateFunction20150331", "passed", role_arn("lambda-exec"),
         "arn:aws:lambda:us-east-1:111122223333:function:triage", 1),
        ("RegisterTaskDefinition", "passed", role_arn("exec"), None, 1),
        ("RegisterTaskDefinition", "passed", role_arn("task"), None, 1),
    ]


def test_the_resource_rollup_counts_each_arn_a_successful_call_names_once(tmp_path):
    bucket, role_arn = "arn:aws:s3:::reports", "arn:aws:iam::111122223333:role/reader"
    logs = "arn:aws:s3:::logs"
    records = [
        # named in the resources and the request: once
        event("r1", identity=BOT, name="GetObject", resources=[bucket], request={"bucket": bucket, "role": role_arn}),
        # named twice in the resources: once
        event("r2", identity=BOT, name="GetObject", resources=[bucket, bucket]),
        event("r3", identity=BOT, name="PutObject", request={"target": bucket}),
        event("n1", identity=BOT, name="ListBuckets"),
        event("f1", identity=BOT, name="GetObject", resources=[bucket], error="AccessDenied"),
        # lists of one or two taken as they are, unless a resource without an ARN or a repeat is among them
        event("c1", identity=BOT, name="CopyObject", resources=[bucket, logs]),
        event("c2", identity=BOT, name="CopyObject", resources=[None]),
        event("c3", identity=BOT, name="CopyObject", resources=[None, logs]),
        event("c4", identity=BOT, name="CopyObject", resources=[logs, None]),
        event("c5", identity=BOT, name="CopyObject", resources=[logs, bucket, logs]),
    ]
    write_json(tmp_path / "in/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/t.json.gz",
               {"Records": records}, gz=True)
    night = Night(tmp_path, tmp_path / "in")
    night.run()
    assert night.con.execute(
        "SELECT event_name, resource_arn, event_count FROM core.resource_usage_daily ORDER BY ALL"
    ).fetchall() == [("CopyObject", logs, 4), ("CopyObject", bucket, 2),
                     ("GetObject", role_arn, 1), ("GetObject", bucket, 2), ("PutObject", bucket, 1)]
