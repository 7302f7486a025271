"""The scale generator (pipelines/synth/scale.py): deterministic, exact counts, and loadable in full."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.synth import scale
from pipelines.synth.scale_org import AI_PRINCIPALS, build_organisation

END = date(2026, 11, 27)


def tiny_config(**overrides) -> scale.ScaleConfig:
    """Three accounts, 40 identities, 12 policies, 3 days of 600 events, 4 files a day per account and region."""
    config = scale.ScaleConfig(accounts=3, identities=40, policies=12, days=3, events_per_day=600, end_date=END,
                               files_per_day=4, processes=1)
    return replace(config, **overrides)


def files_by_path(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def trail_records(root: Path) -> list[dict]:
    return [record for path in sorted(root.glob("AWSLogs/**/*.json.gz"))
            for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]]


def iam_exports(root: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(root.glob("iam/*.json"))]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[scale.ScaleSummary, Path]:
    out = tmp_path_factory.mktemp("tiny")
    return scale.generate(tiny_config(), out), out


def test_same_seed_same_bytes_whatever_the_number_of_processes(tiny, tmp_path):
    _, first = tiny
    scale.generate(tiny_config(processes=2), tmp_path)
    assert files_by_path(tmp_path) == files_by_path(first)


def test_another_seed_another_organisation(tiny, tmp_path):
    _, first = tiny
    scale.generate(tiny_config(seed="another"), tmp_path)
    assert sorted(p.name for p in (tmp_path / "iam").iterdir()) != sorted(p.name for p in (first / "iam").iterdir())


def test_a_day_written_alone_is_that_day_of_the_history(tiny, tmp_path):
    _, history = tiny
    scale.generate(tiny_config(days=1, end_date=None, start_date=date(2026, 11, 26), cloudtrail_only=True), tmp_path)
    alone = files_by_path(tmp_path)
    assert alone and all("/2026/11/26/" in path for path in alone)
    assert not (tmp_path / "iam").exists() and not (tmp_path / "inventory").exists()
    assert {path: data for path, data in files_by_path(history).items() if "/2026/11/26/" in path} == alone


def test_exact_events_per_day_all_unique(tiny):
    summary, out = tiny
    records = trail_records(out)
    assert summary.events == len(records) == 1800
    assert Counter(r["eventTime"][:10] for r in records) == {"2026-11-25": 600, "2026-11-26": 600, "2026-11-27": 600}
    assert len({r["eventID"] for r in records}) == 1800


def test_exact_accounts_identities_and_policies(tiny):
    summary, out = tiny
    exports = iam_exports(out)
    roles = [r for e in exports for r in e["RoleDetailList"]]
    users = [u for e in exports for u in e["UserDetailList"]]
    customer = [p for e in exports for p in e["Policies"] if not p["Arn"].startswith("arn:aws:iam::aws:")]
    accounts = {p.name for p in (out / "AWSLogs").iterdir()}
    assert (summary.accounts, summary.identities, summary.policies) == (3, 40, 12)
    assert len(accounts) == 3 and {r["Arn"].split(":")[4] for r in roles + users} == accounts
    assert len(roles) + len(users) == 40
    assert len(customer) == 12
    with (out / scale.INVENTORY_PATH).open() as handle:
        inventory = list(csv.DictReader(handle))
    assert sorted(row["identity_id"] for row in inventory) == sorted(e["Arn"] for e in roles + users)


def test_delivery_files_in_the_s3_layout_at_most_files_per_day(tiny):
    _, out = tiny
    paths = [p.relative_to(out).as_posix() for p in out.glob("AWSLogs/**/*.json.gz")]
    per_account_region_day = Counter(tuple(p.split("/")[i] for i in (1, 3, 4, 5, 6)) for p in paths)
    assert all(p.split("/")[2] == "CloudTrail" and p.split("/")[-1].startswith(p.split("/")[1]) for p in paths)
    assert max(per_account_region_day.values()) <= 4
    assert max(per_account_region_day.values()) > 1


def test_a_realistic_mix(tmp_path):
    summary = scale.generate(tiny_config(identities=300, policies=120, days=2, events_per_day=20_000), tmp_path)
    records = trail_records(tmp_path)
    types = Counter(r["userIdentity"]["type"] for r in records)
    assert set(types) == {"AssumedRole", "IAMUser", "AWSService", "AWSAccount"}
    errors = Counter(r.get("errorCode") for r in records)
    assert 0.015 < (summary.events - errors[None]) / summary.events < 0.04
    assert {"AccessDenied", "ThrottlingException"} <= set(errors)
    assert Counter(r["eventCategory"] for r in records)["Data"] > 0.1 * summary.events
    assert {r["eventName"] for r in records} >= {"AssumeRole", "ConsoleLogin", "InvokeModel", "GetObject"}
    # A few identities make most of the calls: the busiest tenth makes more than half.
    callers = Counter(r["userIdentity"].get("sessionContext", {}).get("sessionIssuer", {}).get("arn")
                      or r["userIdentity"].get("arn") for r in records if r["userIdentity"].get("arn"))
    busiest = sum(count for _, count in callers.most_common(30))
    assert busiest > 0.5 * sum(callers.values())


def test_roles_trust_ai_services_other_accounts_and_aws_services():
    org = build_organisation(seed="trust", accounts=3, identities=300, policies=120)
    trusted = Counter(statement["Principal"].get("Service", "another account")
                      for role in org.roles for statement in role.trust["Statement"])
    assert trusted["another account"] > 0
    assert all(trusted[service] > 0 for service in AI_PRINCIPALS)
    assert trusted["lambda.amazonaws.com"] > 0


def test_policies_mix_narrow_wildcard_and_broad():
    org = build_organisation(seed="policies", accounts=2, identities=200, policies=100)
    kinds = Counter(name.rsplit("-", 2)[-2] if "-access-" in name or "-wildcard-" in name else "broad"
                    for name in org.policies)
    assert kinds == {"access": 50, "wildcard": 35, "broad": 15}
    attached = {name for entity in (*org.roles, *org.users, *org.groups) for name in entity.managed}
    assert {"AdministratorAccess", "ReadOnlyAccess"} <= attached


def test_the_pipeline_loads_every_generated_record(tmp_path):
    summary = scale.generate(tiny_config(), tmp_path / "org")
    warehouse = tmp_path / "warehouse"
    assert cli.main(["run", str(tmp_path / "org"), "--warehouse", str(warehouse), "--as-of", END.isoformat()]) == 0
    with duckdb.connect(str(warehouse / "overreach.duckdb"), read_only=True) as con:
        unreconciled, quarantined, loaded_trail = con.execute(
            """SELECT count(*) FILTER (WHERE records_read <> records_loaded + records_quarantined),
                      sum(records_quarantined),
                      sum(records_loaded) FILTER (WHERE format = 'cloudtrail_records')
               FROM ops.load_log""").fetchone()
        events = con.execute("SELECT count(*) FROM core.access_events").fetchone()[0]
        identities = {row[0] for row in con.execute("SELECT identity_id FROM core.identities").fetchall()}
    assert (unreconciled, quarantined) == (0, 0)
    assert loaded_trail == events == summary.events
    org = build_organisation(seed=scale.DEFAULT_SEED, accounts=3, identities=40, policies=12)
    assert {identity.arn for identity in org.identities} <= identities
