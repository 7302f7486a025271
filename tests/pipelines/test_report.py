"""Reports: every free-text input is escaped, the page holds its sections, and a real browser renders it."""

import json
from datetime import date
from html.parser import HTMLParser
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.reports.data import read_report_data
from pipelines.reports.exports import SPREADSHEET_ROWS, write_mart_exports
from pipelines.reports.html_page import diff_summary, identities_section, node_name, recommendations_section
from tests.conftest import write_json
from tests.factories import (
    INVENTORY_HEADER,
    allow,
    assumed_role_identity,
    authorization_details,
    event,
    inventory_row,
    policy_document,
    role,
)

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
AS_OF = "2026-11-27"


def hostile_organisation(root: Path) -> Path:
    bot = role(
        "triage-bot",
        tags={"ai-agent": "true", "team": HOSTILE},
        inline={"all": policy_document(allow(["s3:*", "iam:PassRole", "lambda:*"]))},
    ) | {"Description": HOSTILE}
    write_json(root / "iam.json", authorization_details(roles=[bot]))
    identity = assumed_role_identity("triage-bot", "sess-<b>bold</b>")
    records = [event(f"e{i}", identity=identity, name="GetObject", time="2026-11-20T10:00:00Z") for i in range(3)]
    for record in records:
        record["userAgent"] = HOSTILE
    write_json(root / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/a.json.gz", {"Records": records}, gz=True)
    (root / "inventory.csv").write_text("\n".join([
        INVENTORY_HEADER,
        inventory_row("arn:aws:iam::111122223333:role/triage-bot", owner='"><svg onload=alert(1)>', is_ai="true",
                      team="x", agent_name="<iframe src=javascript:alert(1)>", description="desc"),
        inventory_row("tls:cert/<b>cn</b>", kind="certificate", credential_id="c1", credential_type="certificate",
                      expires_at="2026-12-01", description=HOSTILE),
    ]) + "\n")
    return root


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    warehouse = root / "warehouse"
    assert main(["run", str(hostile_organisation(root / "inputs")), "--warehouse", str(warehouse), "--as-of", AS_OF]) == 0
    return warehouse / "reports" / AS_OF


class TagCollector(HTMLParser):
    """Every element and attribute the page really contains (escaped text is text, not elements)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def test_no_input_text_becomes_markup(hostile_report):
    page = (hostile_report / "report.html").read_text()
    collector = TagCollector()
    collector.feed(page)
    assert not collector.tags & {"script", "img", "iframe", "object", "embed", "link", "a"}
    assert not {a for a in collector.attributes if a.startswith("on")}
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "sess-&lt;b&gt;bold&lt;/b&gt;" in page or "&lt;b&gt;cn&lt;/b&gt;" in page
    assert "default-src 'none'" in page
    markdown = (hostile_report / "report.md").read_text()
    assert "<svg" not in markdown and "&lt;svg onload=alert(1)&gt;" in markdown


def test_report_files_and_recommendations_schema(hostile_report):
    document = json.loads((hostile_report / "recommendations.json").read_text())
    assert (document["schema"], document["schema_version"], document["as_of"]) == ("overreach.recommendations", "1.0", AS_OF)
    kinds = {r["kind"] for r in document["recommendations"]}
    assert {"right_size_policy", "renew_expiring_credential"} <= kinds
    assert all(set(r) >= {"priority", "identity_id", "kind", "action", "evidence", "risk_before", "risk_after",
                          "blast_radius_before", "blast_radius_after", "frameworks"} for r in document["recommendations"])
    assert (hostile_report / "csv" / "recommendations.csv").exists()
    assert sorted(p.name for p in (hostile_report / "policies").iterdir()) == ["triage-bot-111122223333.json"]


def report_data_of(report_dir: Path):
    with duckdb.connect(str(report_dir.parent.parent / "overreach.duckdb"), read_only=True) as con:
        return read_report_data(con, as_of=date.fromisoformat(AS_OF), window_days=90)


def test_identities_past_those_in_full_are_a_row_each_of_one_table(hostile_report):
    data = report_data_of(hostile_report)
    names = dict(data.sections.select("identity_id", "name").iter_rows())

    in_full, as_rows = identities_section(data, names), identities_section(data, names, in_full=0)

    assert data.sections.height >= 1
    assert in_full.count('<article class="identity"') == data.sections.height and "more identities" not in in_full
    assert as_rows.count('<article class="identity"') == 0
    assert f"{data.sections.height:,} more identities" in as_rows
    assert as_rows.count("<tr><td>") == data.sections.height
    assert "triage-bot-111122223333.json" in as_rows


def test_recommendations_past_those_on_the_page_are_counted_and_pointed_to(hostile_report):
    data = report_data_of(hostile_report)
    every, first = recommendations_section(data), recommendations_section(data, on_page=1)

    assert data.recommendations.height >= 2
    assert every.count("<tr><td class='num'>") == data.recommendations.height and "more-recommendations" not in every
    assert first.count("<tr><td class='num'>") == 1
    assert f"{data.recommendations.height - 1:,} more, lower in priority" in first


def test_a_diff_names_whole_services_removed_and_counts_the_rest_by_level():
    diff = {
        "removed_actions": 7,
        "kept_actions": ["s3:GetObject"],
        "narrowed_scopes": [{"action": "s3:GetObject", "granted_resources": ["*"],
                             "proposed_resources": ["arn:aws:s3:::logs/*"]}],
        "removed_by_service": [
            {"service": "ec2", "removed_actions": 2, "removed_by_access_level": {"Write": 2}, "is_whole_service": True},
            {"service": "s3", "removed_actions": 4, "removed_by_access_level": {"Read": 1, "Write": 3},
             "is_whole_service": False},
            {"service": "<iam>", "removed_actions": 1, "removed_by_access_level": {"Write": 1},
             "is_whole_service": True},
        ],
    }
    assert diff_summary(diff) == (
        "<p>Removes 7 granted actions.</p><ul><li>keeps: s3:GetObject</li>"
        "<li>narrows s3:GetObject: * → arn:aws:s3:::logs/*</li>"
        "<li>removes from s3: 1 Read, 3 Write</li>"
        "<li>removes every action of 2 services: ec2, &lt;iam&gt;</li></ul>"
    )


def test_report_is_re_rendered_without_recomputing(hostile_report, capsys):
    warehouse = hostile_report.parent.parent
    (hostile_report / "report.html").unlink()
    assert main(["report", "--warehouse", str(warehouse)]) == 0
    assert (hostile_report / "report.html").exists()
    assert "report: " in capsys.readouterr().out


def chromium() -> str:
    """The Chromium binary, installed from Debian's packages where this machine allows it."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                       capture_output=True, timeout=900, check=False)
    found = shutil.which("chromium")
    if not found:
        pytest.skip("headless Chromium is not installed and could not be installed here (apt-get install chromium)")
    return found


def headless(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    # No network: every request goes to a closed local proxy; the page is a file and needs none.
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.browser
def test_a_real_browser_renders_the_report_offline(hostile_report, tmp_path):
    binary = chromium()
    page = (hostile_report / "report.html").as_uri()
    dom = headless(binary, tmp_path / "profile-dom", "--dump-dom", page)
    for section in ("headline", "charts", "riskiest", "escalation-paths", "recommendations", "trend", "identities",
                    "data-quality"):
        assert f'id="{section}"' in dom.stdout, section
    assert "<script" not in dom.stdout
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert console_errors == []
    shot = tmp_path / "report.png"
    headless(binary, tmp_path / "profile-shot", "--window-size=1280,2000", f"--screenshot={shot}", page)
    assert shot.exists() and shot.stat().st_size > 20_000


def test_a_path_names_identities_admin_nodes_and_principal_sets_in_words():
    names = {"arn:aws:iam::111122223333:user/alice": "alice"}
    assert [node_name(n, names) for n in ("arn:aws:iam::111122223333:user/alice", "principals:user:111122223333",
                                          "admin:111122223333", "arn:aws:iam::111122223333:role/x")] == [
        "alice", "any user of 111122223333", "full control of 111122223333", "arn:aws:iam::111122223333:role/x"]


def test_mart_csvs_keep_the_tables_row_order_within_a_memory_limit_wide_rows_exceed_on_two_threads(tmp_path):
    # 100,000 rows of 1 KB: on two threads DuckDB's ordered CSV writer asked for 128 MiB in one piece
    con = duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "64MB", "threads": 2})
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.escalation_paths AS "
                "SELECT 99999 - range AS n, repeat('x', 1000) || range::VARCHAR AS steps FROM range(100000)")
    (path,) = write_mart_exports(con, tmp_path)
    assert path == tmp_path / "csv" / "escalation_paths.csv"
    lines = path.read_text().splitlines()
    assert len(lines) == 100_001 and lines[0] == "n,steps"
    assert [line.split(",")[0] for line in (lines[1], lines[2], lines[-1])] == ["99999", "99998", "0"]
    assert con.execute("SELECT current_setting('threads')").fetchall() == [(2,)]  # given back


def test_a_mart_with_more_rows_than_a_spreadsheet_opens_is_written_as_parquet(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(f"CREATE TABLE marts.fits AS SELECT range AS n FROM range({SPREADSHEET_ROWS})")
    con.execute(f"CREATE TABLE marts.past AS SELECT range AS n, [range] AS l FROM range({SPREADSHEET_ROWS + 1})")
    assert write_mart_exports(con, tmp_path) == [tmp_path / "csv" / "fits.csv", tmp_path / "parquet" / "past.parquet"]
    assert len((tmp_path / "csv" / "fits.csv").read_text().splitlines()) == SPREADSHEET_ROWS + 1  # with its header
    assert con.execute(f"SELECT count(*), max(n), max(l[1]) FROM '{tmp_path / 'parquet' / 'past.parquet'}'").fetchall() == [
        (SPREADSHEET_ROWS + 1, SPREADSHEET_ROWS, SPREADSHEET_ROWS)]
    assert not (tmp_path / "csv" / "past.csv").exists()
