"""Real public exports load with every record accounted for (skipped where ../shared is absent)."""

import duckdb
import pytest

from pipelines.cli import main
from tests.conftest import external


@pytest.fixture(scope="module")
def public_warehouse(tmp_path_factory):
    sources = [
        external("cloudsplaining/example.json"),
        external("invictus-aws-dataset/CloudTrail"),
        external("otrf-security-datasets"),
    ]
    target = tmp_path_factory.mktemp("public") / "wh"
    assert main(["run", *map(str, sources), "--warehouse", str(target), "--as-of", "2023-07-11"]) == 0
    with duckdb.connect(str(target / "overreach.duckdb"), read_only=True) as con:
        yield con


def test_cloudsplaining_export_loads_every_entry(public_warehouse):
    assert public_warehouse.execute(
        "SELECT records_read, records_loaded, records_quarantined FROM ops.load_log WHERE format = 'aws_authorization_details'"
    ).fetchall() == [(175, 175, 0)]
    kinds = public_warehouse.execute(
        "SELECT kind, count(*) FROM core.identities GROUP BY ALL ORDER BY kind"
    ).fetchall()
    assert kinds == [("group", 3), ("role", 75), ("user", 41)]
    assert public_warehouse.execute("SELECT count(*) FROM core.policies WHERE policy_kind = 'managed'").fetchall() == [(56,)]


def test_cloudtrail_samples_load_every_record(public_warehouse):
    totals = public_warehouse.execute(
        "SELECT format, count(*), sum(records_read), sum(records_loaded), sum(records_quarantined) "
        "FROM ops.load_log WHERE format LIKE 'cloudtrail%' GROUP BY ALL ORDER BY format"
    ).fetchall()
    assert totals == [("cloudtrail_jsonl", 1, 103, 103, 0), ("cloudtrail_records", 55, 2900, 2900, 0)]
    assert public_warehouse.execute("SELECT count(*) FROM core.access_events").fetchall() == [(3003,)]


def test_assumed_role_sessions_are_attributed_to_their_role(public_warehouse):
    attributed = public_warehouse.execute(
        "SELECT identity_id, session_name, count(*) FROM core.access_events "
        "WHERE session_name = 'i-0317f6c6b66ae9c40' GROUP BY ALL"
    ).fetchall()
    assert attributed == [
        ("arn:aws:iam::123456789123:role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0", "i-0317f6c6b66ae9c40", 11)
    ]
    assert public_warehouse.execute(
        "SELECT count(*) FROM core.access_events WHERE identity_type = 'AssumedRole' AND identity_id LIKE 'arn:aws:sts:%'"
    ).fetchall() == [(0,)]
