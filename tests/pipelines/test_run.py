"""The whole asset graph through the CLI on a small hand-built organisation."""

from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from tests.conftest import write_json, write_lines
from tests.factories import (
    INVENTORY_HEADER,
    allow,
    assumed_role_identity,
    authorization_details,
    event,
    group,
    iam_user_identity,
    inventory_row,
    managed_policy,
    policy_document,
    role,
    trust,
    user,
)

TRAIL = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20"
READER = managed_policy("reader", policy_document(allow(["s3:GetObject", "s3:ListBucket"])))


def organisation(root: Path, *, extra_roles: int = 0) -> Path:
    roles = [
        role("triage-bot", tags={"ai-agent": "true"}, managed=[READER["Arn"]]),
        role("summariser", trust_policy=trust(service="bedrock.amazonaws.com")),
        role("etl-nightly", trust_policy=trust(service="glue.amazonaws.com")),
        role("report-agent"),
        *[role(f"extra-{i}") for i in range(extra_roles)],
    ]
    export = authorization_details(
        users=[user("alice", groups=["admins"]), user("codegen", tags={"workload-type": "ai-agent"})],
        groups=[group("admins", managed=[READER["Arn"]])],
        roles=roles,
        policies=[READER],
    )
    write_json(root / "iam" / "authorization.json", export)
    bot = assumed_role_identity("triage-bot", "triage-1")
    write_json(
        root / TRAIL / "one.json.gz",
        {"Records": [event("e1", identity=bot, name="GetObject"), event("e2", identity=bot, name="ListObjects"),
                     event("e3", identity=iam_user_identity("codegen", key="AKIACODEGEN000000001"))]},
        gz=True,
    )
    write_json(root / TRAIL / "two.json.gz", {"Records": [event("e3", identity=iam_user_identity("codegen", key="AKIACODEGEN000000001")),
                                                          event("e4", identity=bot, error="AccessDenied")]}, gz=True)
    write_lines(root / "exports" / "lake.jsonl", [event("e5", identity=iam_user_identity("ghost"))])
    rows = [
        INVENTORY_HEADER,
        inventory_row("arn:aws:iam::111122223333:role/triage-bot", owner="support", environment="prod", is_ai="true"),
        inventory_row("arn:aws:iam::111122223333:role/report-agent", is_ai="false", owner="finance"),
        inventory_row("arn:aws:iam::111122223333:user/codegen", owner="dev", credential_id="AKIACODEGEN000000001",
                      credential_type="access_key", created_at="2025-10-01", expires_at=""),
        inventory_row("tls:cert/model-api", kind="certificate", provider="tls", credential_id="c-1",
                      credential_type="certificate", expires_at="2026-12-05"),
        inventory_row("tls:cert/bad", expires_at="someday"),
    ]
    (root / "inventory").mkdir()
    (root / "inventory" / "identities.csv").write_text("\n".join(rows) + "\n")
    (root / "README.txt").write_text("notes, not an input")
    return root


def run(sources: Path, warehouse: Path, *more: str) -> int:
    return main(["run", str(sources), "--warehouse", str(warehouse), "--as-of", "2026-11-27", *more])


def rows(warehouse: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(warehouse / "overreach.duckdb"), read_only=True) as con:
        return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("org")
    target = root / "warehouse"
    assert run(organisation(root / "inputs"), target) == 0
    return target


def test_every_record_read_is_loaded_or_quarantined(warehouse):
    assert rows(warehouse, "SELECT count(*) FROM ops.load_log WHERE records_read <> records_loaded + records_quarantined") == [(0,)]
    by_format = rows(
        warehouse,
        "SELECT format, sum(records_read), sum(records_loaded), sum(records_quarantined), sum(records_duplicate) "
        "FROM ops.load_log GROUP BY ALL ORDER BY format NULLS LAST",
    )
    assert by_format == [
        ("aws_authorization_details", 8, 8, 0, 0),
        ("cloudtrail_jsonl", 1, 1, 0, 0),
        ("cloudtrail_records", 5, 5, 0, 1),
        ("inventory_csv", 5, 4, 1, 0),
        (None, 0, 0, 0, 0),
    ]
    assert rows(warehouse, "SELECT source_file LIKE '%README.txt', status FROM ops.load_log WHERE format IS NULL") == [
        (True, "skipped")
    ]
    assert rows(warehouse, "SELECT record_position, reason FROM ops.quarantine") == [
        ("line 6", "bad date in expires_at: someday")
    ]


def test_an_event_delivered_twice_is_stored_once_and_attributed(warehouse):
    events = rows(
        warehouse,
        "SELECT event_id, identity_id, session_name, is_success FROM core.access_events ORDER BY event_id",
    )
    assert events == [
        ("e1", "arn:aws:iam::111122223333:role/triage-bot", "triage-1", True),
        ("e2", "arn:aws:iam::111122223333:role/triage-bot", "triage-1", True),
        ("e3", "arn:aws:iam::111122223333:user/codegen", None, True),
        ("e4", "arn:aws:iam::111122223333:role/triage-bot", "triage-1", False),
        ("e5", "arn:aws:iam::111122223333:user/ghost", None, True),
    ]


def test_ai_identities_carry_the_first_matching_evidence(warehouse):
    assert rows(warehouse, "SELECT name, is_ai, ai_evidence FROM core.identities ORDER BY name") == [
        ("admins", False, None),
        ("alice", False, None),
        ("codegen", True, "tag: workload-type=ai-agent"),
        ("etl-nightly", False, None),
        ("model-api", False, None),
        ("report-agent", False, "inventory: is_ai=false"),
        ("summariser", True, "trust policy: bedrock.amazonaws.com"),
        ("triage-bot", True, "inventory: is_ai=true"),
    ]


def test_inventory_only_identities_and_credentials(warehouse):
    assert rows(warehouse, "SELECT identity_id, provider, kind FROM core.identities WHERE NOT is_in_authorization_export") == [
        ("tls:cert/model-api", "tls", "certificate")
    ]
    assert rows(
        warehouse,
        "SELECT identity_id, credential_type, has_no_expiry, events_in_inputs FROM core.credentials ORDER BY credential_id",
    ) == [
        ("arn:aws:iam::111122223333:user/codegen", "access_key", True, 1),
        ("tls:cert/model-api", "certificate", False, 0),
    ]


def test_group_policies_are_inherited_by_members(warehouse):
    assert rows(warehouse, "SELECT policy_id, via FROM core.policy_attachments WHERE identity_id LIKE '%user/alice'") == [
        (READER["Arn"], "group:arn:aws:iam::111122223333:group/admins")
    ]


def test_the_report_is_written(warehouse):
    page = (warehouse / "reports" / "2026-11-27" / "report.html").read_text()
    assert 'id="riskiest"' in page and "triage-bot" in page
    assert (warehouse / "reports" / "2026-11-27" / "report.md").read_text().startswith("# Overreach report, 2026-11-27")


def warehouse_content(warehouse: Path) -> dict[str, list]:
    with duckdb.connect(str(warehouse / "overreach.duckdb"), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('core', 'marts', 'ops') ORDER BY 1"
        ).fetchall()
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for (t,) in tables}


def test_running_twice_on_the_same_inputs_gives_the_same_warehouse(tmp_path):
    inputs = organisation(tmp_path / "inputs")
    assert run(inputs, tmp_path / "wh") == 0
    first = warehouse_content(tmp_path / "wh")
    assert run(inputs, tmp_path / "wh") == 0
    assert warehouse_content(tmp_path / "wh") == first
    assert "core.access_events" in first and "ops.load_log" in first


def test_a_run_that_fails_midway_leaves_the_published_warehouse_untouched(tmp_path, capsys):
    target = tmp_path / "wh"
    assert run(organisation(tmp_path / "small"), target) == 0
    before = warehouse_content(target)
    (target / "reports").rename(tmp_path / "moved-reports")
    (target / "reports").write_text("a file where the reports directory should be")
    assert run(organisation(tmp_path / "bigger", extra_roles=3), target) == 1
    assert "the run failed" in capsys.readouterr().out
    assert warehouse_content(target) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "no/such/dir"], "source not found: no/such/dir"),
        (["run", ".", "--as-of", "2026-02-30"], "--as-of must be a date YYYY-MM-DD, got '2026-02-30'"),
        (["run", ".", "--window-days", "0"], "--window-days must be a whole number of days above 0, got '0'"),
        (["run", ".", "--window-days", "ten"], "--window-days must be a whole number of days above 0, got 'ten'"),
        (["explode"], "invalid choice: 'explode'"),
    ],
)
def test_command_line_mistakes_get_one_clear_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("overreach: error: ")
    assert message in err
