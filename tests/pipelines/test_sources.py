"""Readers on tiny hand-written inputs: detection by content, exact landed rows, quarantine with reasons."""

import gzip
import hashlib
import json
import os
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.sources import detect, landing
from pipelines.sources.cloudtrail import (
    LINES,
    NOT_UNICODE,
    ReadPlan,
    _Lander,
    records_array,
)
from pipelines.sources.ledger import FileOutcome
from pipelines.sources.files import SourceFile, describe_file, iter_input_paths, read_content, read_raw
from tests.conftest import write_json, write_lines
from tests.factories import (
    INVENTORY_HEADER,
    allow,
    assumed_role_identity,
    authorization_details,
    event,
    group,
    inventory_row,
    managed_policy,
    policy_document,
    role,
    user,
)


def detected_format(path: Path) -> str | None:
    return detect.detect_format(describe_file(path)).format


def test_formats_are_recognised_by_content_not_by_name(tmp_path):
    assert detected_format(write_json(tmp_path / "a.txt", {"Records": [event("e1")]}, gz=True)) == detect.CLOUDTRAIL_RECORDS
    assert detected_format(write_lines(tmp_path / "b.log", [event("e2")])) == detect.CLOUDTRAIL_JSONL
    assert detected_format(write_json(tmp_path / "c", authorization_details(roles=[role("r")]))) == (
        detect.AWS_AUTHORIZATION_DETAILS
    )
    (tmp_path / "d.data").write_text(INVENTORY_HEADER + "\n" + inventory_row("x:y") + "\n")
    assert detected_format(tmp_path / "d.data") == detect.INVENTORY_CSV
    assert detected_format(write_json(tmp_path / "e.json", [{"identity_id": "a", "owner": "o"}])) == detect.INVENTORY_JSON


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b'{"kind": "List", "items": []}', "JSON object of an unrecognised shape"),
        (b"name,owner\nx,y\n", "not a recognised format"),
    ],
)
def test_unrecognised_files_are_skipped_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "input.json"
    path.write_bytes(content)
    detection = detect.detect_format(describe_file(path))
    assert detection.format is None
    assert reason in detection.reason


def test_what_a_files_first_kilobytes_leave_open_is_read_from_its_whole_head(tmp_path):
    # a JSON Lines record longer than the prefix detection starts from, and a NUL past leading whitespace
    long_line = event("e1") | {"userAgent": "x" * 3 * detect.PREFIX_BYTES}
    assert detected_format(write_lines(tmp_path / "lake.jsonl", [long_line])) == detect.CLOUDTRAIL_JSONL
    (tmp_path / "spaced").write_bytes(b" " * detect.PREFIX_BYTES + b'{"Records": [\x00]}')
    detection = detect.detect_format(describe_file(tmp_path / "spaced"))
    assert (detection.format, detection.reason) == (None, "binary content, not a supported format")
    (tmp_path / "wide.csv").write_text("note," * 2_000 + "identity_id\n" + "x," * 2_000 + "y\n")
    assert detected_format(tmp_path / "wide.csv") == detect.INVENTORY_CSV


def test_a_night_keeps_what_an_earlier_run_recognised_in_unchanged_files_without_opening_them(tmp_path):
    trail = write_json(tmp_path / "in" / "trail.json.gz", {"Records": [event("e1")]}, gz=True)
    notes = tmp_path / "in" / "notes.txt"
    notes.write_text("not an input")
    first = landing.discover([tmp_path / "in"])
    known = landing.known_files(landing.source_files_frame(first))
    # other bytes of the same size and time: a second look would hash them and find no format
    stat = trail.stat()
    trail.write_bytes(b"x" * stat.st_size)
    os.utime(trail, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    notes.write_text(INVENTORY_HEADER + "\n" + inventory_row("x:y") + "\n")  # changed, and skipped before
    again = landing.discover([tmp_path / "in"], known)
    assert [(d.source.path.name, d.format) for d in first] == [("notes.txt", None),
                                                                ("trail.json.gz", detect.CLOUDTRAIL_RECORDS)]
    assert again[1] == first[1]  # the earlier run's hash and detection, the file never opened
    assert (again[0].format, again[0].source.sha256) == (detect.INVENTORY_CSV, describe_file(notes).sha256)


def test_input_paths_are_sorted_real_paths_without_hidden_files_or_linked_directories(tmp_path):
    root, elsewhere = tmp_path / "in", tmp_path / "elsewhere"
    for path in (root / "a-b" / "x", root / "a" / "b" / "y", root / ".hidden" / "z", root / "a" / ".dot",
                 elsewhere / "target", elsewhere / "inside"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (root / "a" / "link").symlink_to(elsewhere / "target")
    (root / "linked-dir").symlink_to(elsewhere, target_is_directory=True)
    assert list(iter_input_paths([root])) == [
        root / "a" / "b" / "y", elsewhere / "target", root / "a-b" / "x"]  # "a/..." before "a-b/...", as paths sort


def test_records_array_unwraps_without_parsing():
    assert records_array(b' {"Records" : [{"a":1},{"b":2}]}\n') == b'[{"a":1},{"b":2}]'
    assert records_array(b'{"Other": []}') == b'{"Other": []}'


def land_all(tmp_path: Path, *paths: Path):
    detected = landing.discover(list(paths))
    con = duckdb.connect()
    landing_dir = tmp_path / "landing"
    outcomes = (
        landing.land_aws_authorization(detected, landing_dir)
        + landing.land_cloudtrail_files(con, detected, landing_dir, tmp_path / "scratch")
        + landing.land_inventory(con, detected, landing_dir)
        + landing.write_skipped(detected, landing_dir)
    )
    return con, landing_dir, {Path(o.source.path).name: o for o in outcomes}


def read_landed(con, landing_dir: Path, relative: str) -> pl.DataFrame:
    return con.sql(
        "SELECT * FROM read_parquet($p, hive_partitioning = true, union_by_name = true)",
        params={"p": str(landing_dir / relative)},
    ).pl()


def test_authorization_pages_and_accounts_merge_into_landing_tables(tmp_path):
    reader = managed_policy("reader", policy_document(allow("s3:GetObject")), older_versions=[policy_document(allow("*"))])
    page_1 = authorization_details(
        users=[user("alice", groups=["admins"], inline={"own": policy_document(allow("sts:GetCallerIdentity"))})],
        groups=[group("admins", managed=[reader["Arn"]])],
        page={"IsTruncated": True, "Marker": "abc"},
    )
    page_2 = authorization_details(
        roles=[role("bot", tags={"ai-agent": "true"}, boundary=reader["Arn"], managed=[reader["Arn"]])],
        policies=[reader],
        page={"IsTruncated": False},
    )
    other_account = authorization_details(roles=[role("bot", account="444455556666")])
    con, landing_dir, outcomes = land_all(
        tmp_path,
        write_json(tmp_path / "in" / "p1.json", page_1),
        write_json(tmp_path / "in" / "p2.json", page_2),
        write_json(tmp_path / "in" / "dev.json.gz", other_account, gz=True),
    )
    assert {name: (o.records_loaded, o.records_quarantined) for name, o in outcomes.items()} == {
        "p1.json": (2, 0),
        "p2.json": (2, 0),
        "dev.json.gz": (1, 0),
    }
    principals = read_landed(con, landing_dir, "aws/principals.parquet").sort("principal_arn")
    assert principals.select("principal_arn", "kind", "account").rows() == [
        ("arn:aws:iam::111122223333:group/admins", "group", "111122223333"),
        ("arn:aws:iam::111122223333:role/bot", "role", "111122223333"),
        ("arn:aws:iam::111122223333:user/alice", "user", "111122223333"),
        ("arn:aws:iam::444455556666:role/bot", "role", "444455556666"),
    ]
    attachments = read_landed(con, landing_dir, "aws/attachments.parquet").sort("principal_arn", "via")
    assert attachments.select("principal_arn", "policy_id", "via").rows() == [
        ("arn:aws:iam::111122223333:group/admins", reader["Arn"], "managed"),
        ("arn:aws:iam::111122223333:role/bot", reader["Arn"], "boundary"),
        ("arn:aws:iam::111122223333:role/bot", reader["Arn"], "managed"),
        ("arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alice#inline/own", "inline"),
    ]
    versions = read_landed(con, landing_dir, "aws/policy_versions.parquet").sort("version_id")
    assert versions.select("version_id", "is_default").rows() == [("v1", False), ("v2", True)]
    policies = read_landed(con, landing_dir, "aws/policies.parquet")
    assert policies.filter(pl.col("policy_id") == reader["Arn"])["document"].item() == (
        '{"Statement": [{"Action": "s3:GetObject", "Effect": "Allow", "Resource": "*"}], "Version": "2012-10-17"}'
    )


def test_broken_authorization_entries_are_quarantined_and_the_rest_loads(tmp_path):
    no_default = managed_policy("p", policy_document(allow("s3:*")))
    no_default["PolicyVersionList"][0]["IsDefaultVersion"] = False
    export = authorization_details(roles=[role("ok"), {"RoleName": "no-arn"}], policies=[no_default])
    _, _, outcomes = land_all(tmp_path, write_json(tmp_path / "in" / "export.json", export))
    outcome = outcomes["export.json"]
    assert outcome.records_loaded == 1
    assert [(r.position, r.reason) for r in outcome.rejected] == [
        ("RoleDetailList[1]", "missing required field Arn"),
        ("Policies[0]", "managed policy has no default version in PolicyVersionList"),
    ]


def test_cloudtrail_files_land_every_record_or_quarantine_it(tmp_path):
    root = tmp_path / "in" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    write_json(root / "a.json.gz", {"Records": [event("e1"), event("e2"), {"eventID": "e3", "eventName": "X"}]}, gz=True)
    write_json(root / "b.json.gz", {"Records": [event("e2")]}, gz=True)  # e2 delivered twice
    good = gzip.compress(b'{"Records": [' + b'{"eventID": "t1"}' * 1, mtime=0)
    (root / "truncated.json.gz").write_bytes(good[: len(good) // 2])
    # Past the head that recognises the file (its first 64 KB), the trailer's CRC-32 fails
    records = [event(hashlib.sha256(str(n).encode()).hexdigest()) for n in range(3_000)]
    damaged = bytearray(gzip.compress(json.dumps({"Records": records}).encode(), mtime=0))
    damaged[-8] ^= 0xFF
    (root / "damaged.json.gz").write_bytes(bytes(damaged))
    write_json(root / "undated.json.gz", {"Records": [{"eventID": f"u{n}", "eventName": "X"} for n in range(11)]}, gz=True)
    (root / "malformed.json").write_text('{"Records": [{"eventID": "m1", ')
    write_lines(
        tmp_path / "in" / "lake.jsonl",
        [event("l1", identity=assumed_role_identity("triage-bot", "triage-7")), event("l2", time="not a time")],
        raw_lines={1: "{not json"},
    )
    con, landing_dir, outcomes = land_all(tmp_path, tmp_path / "in")
    summary = {name: (o.records_loaded, o.records_quarantined, o.status) for name, o in outcomes.items()}
    assert summary == {
        "a.json.gz": (2, 1, "partial"),
        "b.json.gz": (1, 0, "loaded"),
        "truncated.json.gz": (0, 1, "failed"),
        "damaged.json.gz": (0, 1, "failed"),
        "undated.json.gz": (0, 11, "failed"),
        "malformed.json": (0, 1, "failed"),
        "lake.jsonl": (1, 2, "partial"),
    }
    reasons = {(name, r.position, r.reason.split(":")[0]) for name, o in outcomes.items() for r in o.rejected}
    assert reasons == {
        ("a.json.gz", "record 3", "missing required field eventTime"),
        ("truncated.json.gz", None, "truncated gzip"),
        ("damaged.json.gz", None, "unreadable file"),
        ("malformed.json", None, "malformed JSON, file not loaded"),
        ("lake.jsonl", "line 2", "malformed JSON"),
        ("lake.jsonl", "line 3", "eventTime is not a timestamp"),
    } | {("undated.json.gz", f"record {n}", "missing required field eventTime") for n in range(1, 12)}
    # in record order, not text order ("record 10" after "record 9")
    assert [r.position for r in outcomes["undated.json.gz"].rejected] == [f"record {n}" for n in range(1, 12)]
    landed = read_landed(con, landing_dir, "cloudtrail/**/*.parquet")
    assert sorted(landed["event_id"].to_list()) == ["e1", "e2", "e2", "l1"]  # rejected records leave the files
    assert landed["reject_reason"].null_count() == landed.height
    assert outcomes["undated.json.gz"].records_file is None and outcomes["a.json.gz"].records_file is not None
    lake = landed.filter(pl.col("event_id") == "l1").row(0, named=True)
    assert lake["record_position"] == "line 1"
    assert lake["source_key"] == outcomes["lake.jsonl"].source.key


def test_a_record_whose_json_fields_are_strings_is_quarantined_and_its_file_lands(tmp_path):
    root = tmp_path / "in" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    records = [
        event("ok-1"),
        event("who") | {"userIdentity": "alice"},
        event("params") | {"requestParameters": "bucketName=b"},
        event("touched") | {"resources": "arn:aws:s3:::b"},
        event("ok-2", request={"bucketName": "b"}),
    ]
    write_json(root / "strings.json.gz", {"Records": records}, gz=True)
    con, landing_dir, outcomes = land_all(tmp_path, tmp_path / "in")
    outcome = outcomes["strings.json.gz"]
    assert [(r.position, r.reason) for r in outcome.rejected] == [
        ("record 2", "userIdentity is a string, not a JSON object or array"),
        ("record 3", "requestParameters is a string, not a JSON object or array"),
        ("record 4", "resources is a string, not a JSON object or array"),
    ]
    assert (outcome.records_loaded, outcome.status) == (2, "partial")
    landed = read_landed(con, landing_dir, "cloudtrail/**/*.parquet")
    assert sorted(landed["event_id"].to_list()) == ["ok-1", "ok-2"]


def test_a_user_identity_is_quarantined_when_a_string_and_taken_as_it_is_when_an_unusual_object(tmp_path):
    root = tmp_path / "in" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    bot = assumed_role_identity("triage-bot", "triage-1")
    records = [
        event("ok", identity=bot),
        # a string, even one that holds JSON text, is not an identity
        event("who") | {"userIdentity": json.dumps(bot)},
        # none of the fields attribution reads, or none at all: loaded, attributed to no one
        event("odd") | {"userIdentity": {"principalId": "AIDAEXAMPLE"}},
        event("none") | {"userIdentity": None},
        {k: v for k, v in event("missing").items() if k != "userIdentity"},
    ]
    write_json(root / "identities.json.gz", {"Records": records}, gz=True)
    con, landing_dir, outcomes = land_all(tmp_path, tmp_path / "in")
    outcome = outcomes["identities.json.gz"]
    assert [(r.position, r.reason) for r in outcome.rejected] == [
        ("record 2", "userIdentity is a string, not a JSON object or array"),
    ]
    landed = read_landed(con, landing_dir, "cloudtrail/**/*.parquet").sort("event_id")
    assert landed.select("event_id", "identity_id", "identity_type").rows() == [
        ("missing", None, None), ("none", None, None), ("odd", None, None),
        ("ok", bot["sessionContext"]["sessionIssuer"]["arn"], "AssumedRole"),
    ]


def test_console_calls_are_told_by_sign_in_session_or_user_agent(tmp_path):
    root = tmp_path / "in" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    agents = {
        "ec2-console": "console.ec2.amazonaws.com",
        "upper-case": "S3 CONSOLE.AmazonAWS.COM",
        "line-break": "console.\nsigned in via amazonaws.com",
        "no-dot": "consoleamazonaws.com",
        "wrong-order": "amazonaws.com console.",
        "cli": "aws-cli/2.15.0 Python/3.11",
    }
    records = [event(name) | {"userAgent": agent} for name, agent in agents.items()]
    records += [
        event("sign-in", event_type="AwsConsoleSignIn"),
        event("session") | {"sessionCredentialFromConsole": "true"},
        event("no-agent") | {"userAgent": None},
    ]
    write_json(root / "console.json.gz", {"Records": records}, gz=True)
    con, landing_dir, _ = land_all(tmp_path, tmp_path / "in")
    landed = read_landed(con, landing_dir, "cloudtrail/**/*.parquet")
    assert {row["event_id"] for row in landed.filter(pl.col("is_console")).iter_rows(named=True)} == {
        "ec2-console", "upper-case", "line-break", "sign-in", "session",
    }
    assert landed["is_console"].null_count() == 0


def test_a_record_with_text_that_is_not_unicode_is_quarantined_and_its_neighbours_land(tmp_path):
    root = tmp_path / "in" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    root.mkdir(parents=True)
    records = [json.dumps(event(f"ok-{n}")).encode() for n in range(5)]
    records[1] = records[1].replace(b'"ListBuckets"', b'"List\xff\xfeBuckets"')  # bytes that are not UTF-8
    records[3] = records[3].replace(b'"ListBuckets"', b'"List\\ud800"')  # valid JSON, not a Unicode string
    (root / "native.json").write_bytes(b'{"Records": [' + b", ".join(records) + b"]}")
    lines = [json.dumps(event(f"line-{n}")).encode() for n in range(3)]
    lines[1] = lines[1].replace(b'"ListBuckets"', b'"\xc3("')
    (tmp_path / "in" / "lake.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    con, landing_dir, outcomes = land_all(tmp_path, tmp_path / "in")
    assert [(r.position, r.reason) for r in outcomes["native.json"].rejected] == [
        ("record 2", NOT_UNICODE), ("record 4", NOT_UNICODE)]
    assert [(r.position, r.reason) for r in outcomes["lake.jsonl"].rejected] == [("line 2", NOT_UNICODE)]
    assert [(o.records_loaded, o.records_quarantined) for o in (outcomes["native.json"], outcomes["lake.jsonl"])] == [
        (3, 2), (2, 1)]
    landed = read_landed(con, landing_dir, "cloudtrail/**/*.parquet")
    assert sorted(landed["event_id"].to_list()) == ["line-0", "line-2", "ok-0", "ok-2", "ok-4"]


def test_records_duckdb_cannot_read_for_a_reason_not_checked_are_found_by_halving(tmp_path):
    """The careful path's last resort, for a kind of record no check knows (here a lone surrogate escape,
    which the checks do know, handed to it directly): each such record is quarantined with DuckDB's reason."""
    path = write_lines(tmp_path / "lake.jsonl", [event("x")])
    source = describe_file(path)
    outcome = FileOutcome(source=source, format=detect.CLOUDTRAIL_JSONL)
    lander = _Lander(duckdb.connect(), {path: outcome}, tmp_path / "records", "batch-test", tmp_path / "scratch")
    (tmp_path / "scratch").mkdir()
    records = [(f"line {n}", json.dumps(event(f"ok-{n}")).encode()) for n in range(1, 8)]
    records[5] = ("line 6", json.dumps(event("lone")).replace('"ListBuckets"', '"\\ud800"').encode())
    plan = ReadPlan(source, path, LINES, "line ")
    kept = lander.loadable(plan, records, outcome)
    assert [position for position, _ in kept] == ["line 1", "line 2", "line 3", "line 4", "line 5", "line 7"]
    assert [r.position for r in outcome.rejected] == ["line 6"]
    reason = outcome.rejected[0].reason
    assert re.fullmatch(r"not loadable: Invalid Input Error: Malformed JSON at byte \d+ of input: no low surrogate in string\.",
                        reason)  # DuckDB's reason, without its echo of the text it read
    assert not (tmp_path / "scratch" / "probe").exists() and not (tmp_path / "records").exists()


def test_a_cloudtrail_file_of_tens_of_megabytes_lands_whole(tmp_path):
    root = tmp_path / "in" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    # 9,000 records of 4 kB: one 37 MB array, past the 32 MB DuckDB's JSON reader takes as one object by default
    padding = "x" * 4_000
    records = [event(f"big-{n}") | {"userAgent": padding} for n in range(9_000)]
    write_json(root / "big.json.gz", {"Records": records}, gz=True)
    con, landing_dir, outcomes = land_all(tmp_path, tmp_path / "in")
    assert len(json.dumps(records)) > 32 * 2**20
    assert (outcomes["big.json.gz"].records_loaded, outcomes["big.json.gz"].records_quarantined) == (9_000, 0)
    landed = read_landed(con, landing_dir, "cloudtrail/**/*.parquet")
    assert landed.height == 9_000 and landed["user_agent"].str.len_chars().min() == 4_000


def test_inventory_rows_with_bad_values_are_quarantined_by_line(tmp_path):
    rows = [
        INVENTORY_HEADER,
        inventory_row("arn:aws:iam::111122223333:role/bot", owner="ml-team", is_ai="true", expires_at="2027-01-01"),
        inventory_row("tls:cert/api", credential_id="c1", credential_type="certificate", expires_at="2026-13-45"),
        "too,few,columns",
        inventory_row("", owner="nobody"),
        inventory_row("openai:key/triage", is_ai="maybe"),
    ]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "inventory.csv").write_text("\n".join(rows) + "\n")
    con, landing_dir, outcomes = land_all(tmp_path, tmp_path / "in")
    outcome = outcomes["inventory.csv"]
    assert outcome.records_loaded == 1
    assert [(r.position, r.reason) for r in outcome.rejected] == [
        ("line 4", "expected 17 columns, found 3"),
        ("line 3", "bad date in expires_at: 2026-13-45"),
        ("line 5", "missing required field identity_id"),
        ("line 6", "bad boolean in is_ai: maybe"),
    ]
    landed = read_landed(con, landing_dir, "inventory/identities.parquet")
    assert landed.select("identity_id", "owner", "is_ai").rows() == [
        ("arn:aws:iam::111122223333:role/bot", "ml-team", "true")
    ]


def test_records_that_are_not_json_objects_are_quarantined_by_position(tmp_path):
    root = tmp_path / "in" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    write_json(root / "mixed.json.gz", {"Records": [event("ok-1"), "ListBuckets", 5, {}, event("ok-2")]}, gz=True)
    write_lines(tmp_path / "in" / "lake.jsonl", [event("l1"), ["an", "array"], event("l2")])
    con, landing_dir, outcomes = land_all(tmp_path, tmp_path / "in")
    reasons = {name: [(r.position, r.reason) for r in o.rejected] for name, o in outcomes.items()}
    assert reasons == {
        "mixed.json.gz": [("record 2", "record is not a JSON object"), ("record 3", "record is not a JSON object"),
                          ("record 4", "missing required field eventID")],
        "lake.jsonl": [("line 2", "record is not a JSON object")],
    }
    assert {name: o.records_loaded for name, o in outcomes.items()} == {
        "mixed.json.gz": 2, "lake.jsonl": 2}
    landed = read_landed(con, landing_dir, "cloudtrail/**/*.parquet")
    assert sorted(landed["event_id"].to_list()) == ["l1", "l2", "ok-1", "ok-2"]


@pytest.mark.parametrize("size_seen", [10, 4, 25, 0])
def test_a_file_is_read_whole_whatever_size_discovery_saw(tmp_path, size_seen):
    path = tmp_path / "f.json"
    path.write_bytes(b"0123456789")  # 10 bytes: as seen, grown since (4), shrunk since (25), empty then (0)
    assert read_raw(SourceFile(str(path), size_seen, "ab" * 32, False)) == b"0123456789"


def test_a_large_file_is_read_on_to_its_end_when_one_read_stops_short(tmp_path, monkeypatch):
    content = os.urandom(50_000)
    path = tmp_path / "f.json.gz"
    path.write_bytes(gzip.compress(content))
    size = path.stat().st_size
    grown = SourceFile(str(path), size // 2, "ab" * 32, True)  # seen at half its size, grown since
    # reads that stop at the size seen, as Linux's stop short of 2 GiB: exactly the bytes asked for less one
    whole_read = os.read
    monkeypatch.setattr(os, "read", lambda handle, n: whole_read(handle, min(n, size // 2)))
    monkeypatch.setattr("pipelines.sources.files._ONE_READ_AT_MOST", 4)
    assert read_raw(grown) == path.read_bytes() and read_content(grown) == content
