"""Close the loop: apply the generated least-privilege policies to data/sample, run again, and find the risk the
``right_size_policy`` recommendations predicted — with no used action lost and no observed call denied."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main as overreach
from pipelines.synth.apply import INLINE_POLICY_NAME, ApplyError, apply_proposed_policies, main, rewrite_export
from pipelines.synth.sample import SAMPLE_AS_OF
from tests.factories import allow, group, policy_document, role, user

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
PROD = "arn:aws:iam::111122223333"


def run(sources: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    assert overreach(["run", str(sources), "--warehouse", str(warehouse), "--as-of", SAMPLE_AS_OF.isoformat()]) == 0
    return duckdb.connect(str(warehouse / "overreach.duckdb"), read_only=True)


def by_identity(con, query: str, ids: list[str]) -> dict:
    rows = con.execute(query, [ids]).fetchall()
    return {r[0]: r[1] if len(r) == 2 else r[1:] for r in rows}


@dataclass
class Loop:
    before_dir: Path
    applied_dir: Path
    before: duckdb.DuckDBPyConnection
    after: duckdb.DuckDBPyConnection
    right_sized: list[str]


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    before = run(SAMPLE, root / "before")
    right_sized = [r[0] for r in before.execute(
        "SELECT identity_id FROM marts.recommendations WHERE kind = 'right_size_policy' ORDER BY identity_id"
    ).fetchall()]
    apply_proposed_policies(SAMPLE, root / "before", root / "applied", identities=right_sized)
    after = run(root / "applied", root / "after")
    yield Loop(root / "before", root / "applied", before, after, right_sized)
    before.close()
    after.close()


def test_the_planted_over_privileged_identities_are_right_sized(loop):
    assert loop.right_sized == [
        f"{PROD}:role/data-analysis-agent",
        f"{PROD}:role/etl-nightly",
        f"{PROD}:role/prod-deployer",
        f"{PROD}:user/alice",
        f"{PROD}:user/bob",
        f"{PROD}:user/codegen-agent",
        f"{PROD}:user/reporting-bot",
    ]


def test_risk_after_the_rerun_is_the_predicted_risk(loop):
    predicted = by_identity(
        loop.before,
        "SELECT identity_id, risk_after, blast_radius_after FROM marts.recommendations "
        "WHERE kind = 'right_size_policy' AND list_contains($1, identity_id)",
        loop.right_sized,
    )
    rerun = by_identity(
        loop.after,
        "SELECT identity_id, risk_score, blast_radius_score FROM marts.identity_risk JOIN marts.risk_features "
        "USING (identity_id) WHERE list_contains($1, identity_id)",
        loop.right_sized,
    )
    assert set(predicted) == set(rerun) == set(loop.right_sized)
    for identity_id in loop.right_sized:
        (risk_after, blast_after), (risk_score, blast_score) = predicted[identity_id], rerun[identity_id]
        assert abs(risk_score - risk_after) <= 0.5, (identity_id, risk_after, risk_score)
        assert blast_score == blast_after, (identity_id, blast_after, blast_score)


def test_total_risk_of_the_right_sized_identities_goes_down(loop):
    query = "SELECT sum(risk_score) FROM marts.identity_risk WHERE list_contains($1, identity_id)"
    before = loop.before.execute(query, [loop.right_sized]).fetchall()[0][0]
    after = loop.after.execute(query, [loop.right_sized]).fetchall()[0][0]
    assert after < before
    lowered = by_identity(loop.after, "SELECT identity_id, risk_score FROM marts.identity_risk "
                          "WHERE list_contains($1, identity_id)", loop.right_sized)
    raised = by_identity(loop.before, "SELECT identity_id, risk_score FROM marts.identity_risk "
                         "WHERE list_contains($1, identity_id)", loop.right_sized)
    assert all(lowered[i] < raised[i] for i in loop.right_sized)


def test_unused_ratio_does_not_grow(loop):
    query = "SELECT identity_id, unused_ratio FROM marts.identity_privilege WHERE list_contains($1, identity_id)"
    before = by_identity(loop.before, query, loop.right_sized)
    after = by_identity(loop.after, query, loop.right_sized)
    assert all((after[i] or 0.0) <= before[i] for i in loop.right_sized), (before, after)


def test_no_used_action_is_lost(loop):
    query = ("SELECT identity_id, action FROM marts.identity_action_usage "
             "WHERE list_contains($1, identity_id) AND {} ORDER BY ALL")
    used_before = loop.before.execute(query.format("(is_used OR is_used_inferred)"), [loop.right_sized]).fetchall()
    granted_after = set(loop.after.execute(query.format("is_granted"), [loop.right_sized]).fetchall())
    assert used_before and set(used_before) <= granted_after
    used_after = loop.after.execute(query.format("is_used AND NOT is_granted"), [loop.right_sized]).fetchall()
    assert used_after == []


def test_no_observed_call_is_denied(loop):
    assert loop.before.execute("SELECT count(*) FROM marts.policy_replay_denials").fetchall() == [(0,)]
    assert loop.after.execute("SELECT count(*) FROM marts.policy_replay_denials").fetchall() == [(0,)]


def test_a_right_sized_identity_is_not_told_to_right_size_again(loop):
    again = loop.after.execute(
        "SELECT identity_id FROM marts.recommendations WHERE kind = 'right_size_policy' AND list_contains($1, identity_id)",
        [loop.right_sized],
    ).fetchall()
    assert again == []


def test_only_the_authorization_exports_change(loop):
    changed = sorted(
        str(p.relative_to(SAMPLE)) for p in SAMPLE.rglob("*")
        if p.is_file() and p.read_bytes() != (loop.applied_dir / p.relative_to(SAMPLE)).read_bytes()
    )
    assert changed == ["iam/111122223333-authorization-details.page-1.json",
                       "iam/111122223333-authorization-details.page-2.json"]
    copied = sorted(str(p.relative_to(loop.applied_dir)) for p in loop.applied_dir.rglob("*") if p.is_file())
    assert copied == sorted(str(p.relative_to(SAMPLE)) for p in SAMPLE.rglob("*") if p.is_file())


def test_the_default_is_every_right_size_policy_recommendation(loop, tmp_path):
    applied = apply_proposed_policies(SAMPLE, loop.before_dir, tmp_path / "applied")
    assert sorted(p.identity_id for p in applied) == loop.right_sized
    assert all(p.policy_path.parent == loop.before_dir / "reports" / SAMPLE_AS_OF.isoformat() / "policies"
               for p in applied)


def test_apply_refuses_what_it_cannot_do(loop, tmp_path):
    with pytest.raises(ApplyError, match="no proposed policy for 'nobody'"):
        apply_proposed_policies(SAMPLE, loop.before_dir, tmp_path / "a", identities=["nobody"])
    with pytest.raises(ApplyError, match="legacy-summarizer-agent has no generated policy"):
        apply_proposed_policies(SAMPLE, loop.before_dir, tmp_path / "b", identities=["legacy-summarizer-agent"])
    with pytest.raises(ApplyError, match="output directory is not empty"):
        apply_proposed_policies(SAMPLE, loop.before_dir, loop.applied_dir, identities=["bob"])
    with pytest.raises(ApplyError, match="no warehouse at"):
        apply_proposed_policies(SAMPLE, tmp_path / "nowhere", tmp_path / "c")


def test_cli_applies_by_name_and_reports_errors_in_one_line(loop, tmp_path, capsys):
    assert main([str(SAMPLE), str(loop.before_dir), str(tmp_path / "out"), "--identity", "bob"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"applied 1 generated policies to {tmp_path / 'out'}:",
        f"  bob: 4 actions from {loop.before_dir / 'reports' / SAMPLE_AS_OF.isoformat() / 'policies' / 'bob-111122223333.json'}",
    ]
    assert main([str(SAMPLE), str(loop.before_dir), str(tmp_path / "out2"), "--identity", "nobody"]) == 1
    assert capsys.readouterr().err == "apply: error: no proposed policy for 'nobody' in marts.proposed_policies\n"
    assert main([str(SAMPLE)]) == 2
    assert capsys.readouterr().err == "apply: error: the following arguments are required: WAREHOUSE, OUT\n"


# rewrite_export on a hand-built export --------------------------------------------------------------------------

LEAST = policy_document(allow(["s3:GetObject"], "arn:aws:s3:::reports/*"))
BROAD = policy_document(allow("s3:*"))


def export(*, users=(), groups=(), roles=()) -> dict:
    return {"UserDetailList": list(users), "GroupDetailList": list(groups), "RoleDetailList": list(roles),
            "Policies": [], "IsTruncated": False}


def test_rewrite_export_leaves_one_inline_policy_and_no_group():
    original = export(
        users=[user("triage-bot", groups=["developers"], managed=[f"{PROD}:policy/broad"], inline={"extra": BROAD}),
               user("alice", groups=["developers"])],
        groups=[group("developers", managed=[f"{PROD}:policy/broad"])],
        roles=[role("report-bot", managed=["arn:aws:iam::aws:policy/ReadOnlyAccess"], inline={"extra": BROAD},
                    boundary=f"{PROD}:policy/boundary")],
    )
    chosen = {f"{PROD}:user/triage-bot": LEAST, f"{PROD}:role/report-bot": LEAST}
    rewritten, changed = rewrite_export(original, chosen)
    assert changed == set(chosen)
    bot, alice = rewritten["UserDetailList"]
    assert (bot["GroupList"], bot["AttachedManagedPolicies"], bot["UserPolicyList"]) == (
        [], [], [{"PolicyName": INLINE_POLICY_NAME, "PolicyDocument": LEAST}]
    )
    report_bot = rewritten["RoleDetailList"][0]
    assert (report_bot["AttachedManagedPolicies"], report_bot["RolePolicyList"]) == (
        [], [{"PolicyName": INLINE_POLICY_NAME, "PolicyDocument": LEAST}]
    )
    # What limits the role stays; so does everything not chosen.
    assert report_bot["PermissionsBoundary"] == original["RoleDetailList"][0]["PermissionsBoundary"]
    assert report_bot["AssumeRolePolicyDocument"] == original["RoleDetailList"][0]["AssumeRolePolicyDocument"]
    assert alice == original["UserDetailList"][1]
    assert rewritten["GroupDetailList"] == original["GroupDetailList"]
    assert original["UserDetailList"][0]["GroupList"] == ["developers"]  # the input is not modified
    assert list(rewritten) == list(original)  # key order kept: the format is recognised by its first key


def test_rewrite_export_of_a_page_without_the_identity_changes_nothing():
    page = export(roles=[role("other", inline={"extra": BROAD})])
    assert rewrite_export(page, {f"{PROD}:role/report-bot": LEAST}) == (page, set())


def test_a_gzipped_export_stays_gzipped(loop, tmp_path):
    sources = tmp_path / "sources"
    for page in sorted((SAMPLE / "iam").glob("111122223333-*.json")):
        target = sources / "iam" / f"{page.name}.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(page.read_bytes(), mtime=0))
    apply_proposed_policies(sources, loop.before_dir, tmp_path / "out", identities=["bob"])
    first_page = tmp_path / "out" / "iam" / "111122223333-authorization-details.page-1.json.gz"
    bob = next(u for u in json.loads(gzip.decompress(first_page.read_bytes()))["UserDetailList"] if u["UserName"] == "bob")
    assert (bob["GroupList"], [p["PolicyName"] for p in bob["UserPolicyList"]]) == ([], [INLINE_POLICY_NAME])
