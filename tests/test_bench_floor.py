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
