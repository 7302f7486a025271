"""The benchmark's floor reads the same record columns as the pipeline: a change to the pipeline's read
must not leave ``make bench`` measuring something else, or nothing."""

import importlib.util
import json
import sys
from pathlib import Path

import duckdb

from tests.factories import assumed_role_identity, event

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run_bench.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("run_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_floor_groups_records_by_the_identity_and_action_the_pipeline_would_give(tmp_path):
    bench = _bench_module()
    bot = assumed_role_identity("triage-bot", "triage-1")
    records = [event("e1", identity=bot, name="GetObject"), event("e2", identity=bot, name="GetObject"),
               event("e3", identity=bot, name="PutObject")]
    lines = tmp_path / "records.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in records))
    columns = bench._pipeline_columns()
    assert "'@timestamp': 'VARCHAR'" in columns
    assert """'userIdentity': 'STRUCT("type" VARCHAR, "arn" VARCHAR, "sessionContext" STRUCT("sessionIssuer" """ in columns
    rows = duckdb.execute(bench._floor_query(columns) + " ORDER BY ALL", {"files": [str(lines)]}).fetchall()
    role = bot["sessionContext"]["sessionIssuer"]["arn"]
    assert rows == [(role, "s3:GetObject", 2), (role, "s3:PutObject", 1)]


def test_the_records_kept_whole_are_every_record_with_every_column_the_pipeline_reads(tmp_path):
    bench = _bench_module()
    records = [event("e1", name="GetObject"), event("e2", name="PutObject", request={"bucketName": "b"})]
    lines = tmp_path / "records.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in records))
    target = tmp_path / "kept.parquet"
    duckdb.execute(bench._kept_whole_query(bench._pipeline_columns(), target), {"files": [str(lines)]})
    kept = duckdb.sql(f"SELECT * FROM '{target}' ORDER BY eventID")
    assert kept.columns[:3] == ["eventVersion", "eventID", "eventTime"] and len(kept.columns) == 23
    rows = kept.select("eventID", "eventName", "requestParameters").fetchall()
    assert rows == [("e1", "GetObject", None), ("e2", "PutObject", '{"bucketName":"b"}')]


def _pair(bench, ingest_seconds: float, floor_seconds: float):
    night = bench.PipelineRun(wall_seconds=30.0, peak_rss_bytes=2**30, exit_code=0,
                              steps={"landing/cloudtrail": ingest_seconds - 1.0, "core/access_events": 1.0})
    return bench.IngestPair(night, bench.Floor(floor_seconds - 0.5, 0.5, 10, 3, 1.0))


def test_the_ratio_reported_is_the_median_pair_s_not_the_best_or_the_last():
    bench = _bench_module()
    slow, middle, fast = _pair(bench, 4.0, 2.5), _pair(bench, 3.6, 2.5), _pair(bench, 3.0, 2.5)
    assert bench.median_pair([slow, fast, middle]) is middle
    assert bench.median_pair([slow, fast]) is fast  # of two, the lower: never a ratio better than half the pairs
    assert bench.median_pair([slow]) is slow
    assert round(middle.ratio, 2) == 1.44


def test_every_pair_is_listed_beside_the_median_and_the_peak_is_the_highest_night_s():
    bench = _bench_module()
    pairs = [_pair(bench, 4.0, 2.5), _pair(bench, 3.6, 2.5), _pair(bench, 3.0, 2.5)]
    pairs[0].night.peak_rss_bytes = 3 * 2**30
    size = bench.SIZES["S"]
    result = bench.SizeResult(size, 1_000_000, 10, 10**6, 1.0, pairs, pairs[1].night, pairs[1].night)
    assert result.ingest_seconds == 3.6 and result.peak_rss_bytes == 3 * 2**30
    (line,) = bench.pair_rows([result])
    assert line == ("- S, ingest / floor of each history night and the floor right after it: 1.60x (4.0 / 2.5 s), "
                    "1.44x (3.6 / 2.5 s), 1.20x (3.0 / 2.5 s); the table shows the median, 1.44x")
    assert bench.size_rows([result])[2].split(" | ")[6] == "3.00 GiB"
