"""The whole nightly graph on data/sample, through the CLI, with the invariants a user relies on."""

from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.synth.sample import SAMPLE_AS_OF

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
PROD = "arn:aws:iam::111122223333"


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory):
    target = tmp_path_factory.mktemp("sample") / "warehouse"
    assert main(["run", str(SAMPLE), "--warehouse", str(target), "--as-of", SAMPLE_AS_OF.isoformat()]) == 0
    with duckdb.connect(str(target / "overreach.duckdb"), read_only=True) as con:
        yield con


def value(con, query: str):
    rows = con.execute(query).fetchall()
    assert len(rows) == 1
    return rows[0][0] if len(rows[0]) == 1 else rows[0]


def test_every_record_is_accounted_for(sample_warehouse):
    assert value(sample_warehouse, "SELECT count(*) FROM ops.load_log WHERE records_read <> records_loaded + records_quarantined") == 0
    assert value(sample_warehouse, "SELECT count(*) FROM ops.quarantine") == 0
    assert value(sample_warehouse, "SELECT count(*) FROM ops.load_log WHERE status = 'skipped'") == 0
    loaded, duplicates = value(
        sample_warehouse,
        "SELECT sum(records_loaded), sum(records_duplicate) FROM ops.load_log WHERE format LIKE 'cloudtrail%'",
    )
    assert duplicates == 5
    assert value(sample_warehouse, "SELECT count(*) FROM core.access_events") == loaded - duplicates
    assert value(sample_warehouse, "SELECT count(*) - count(DISTINCT event_id) FROM core.access_events") == 0


def test_the_usage_mart_holds_one_row_per_identity_and_action(sample_warehouse):
    rows, pairs = value(sample_warehouse, "SELECT count(*), count(DISTINCT (identity_id, action)) "
                                          "FROM marts.identity_action_usage")
    assert rows == pairs > 0


def test_every_inventory_ai_identity_is_ai(sample_warehouse):
    assert value(
        sample_warehouse,
        "SELECT count(*) FROM core.identities WHERE ai_evidence = 'inventory: is_ai=true' AND NOT is_ai",
    ) == 0
    assert value(sample_warehouse, "SELECT count(*) FROM core.identities WHERE ai_evidence = 'inventory: is_ai=true'") == 13
    assert value(
        sample_warehouse, f"SELECT is_ai, ai_evidence LIKE 'name:%', owner FROM core.identities WHERE identity_id = '{PROD}:role/ownerless-agent'"
    ) == (True, True, None)


def test_sessions_are_attributed_to_their_role(sample_warehouse):
    sessions = value(
        sample_warehouse,
        f"SELECT count(*), count(*) FILTER (WHERE session_name LIKE 'support-triage-%') FROM core.access_events "
        f"WHERE identity_id = '{PROD}:role/support-agent'",
    )
    assert sessions[0] > 0 and sessions[0] == sessions[1]


def test_planted_privilege_figures(sample_warehouse):
    ratios = dict(
        sample_warehouse.execute(
            "SELECT name, unused_ratio FROM marts.identity_privilege WHERE name IN ('support-agent', 'data-analysis-agent')"
        ).fetchall()
    )
    assert ratios["support-agent"] < 0.3
    assert ratios["data-analysis-agent"] > 0.9
    assert value(
        sample_warehouse,
        f"SELECT window_days, observed_days, denied_attempts > 0 FROM marts.identity_privilege "
        f"WHERE identity_id = '{PROD}:role/data-analysis-agent'",
    ) == (90, 90, True)


def test_pass_role_is_inferred_from_the_calls_that_need_it(sample_warehouse):
    assert value(
        sample_warehouse,
        f"SELECT is_granted, is_used, is_used_inferred FROM marts.identity_action_usage "
        f"WHERE identity_id = '{PROD}:role/deploy-agent' AND action = 'iam:PassRole'",
    ) == (True, False, True)


def test_events_map_to_actions(sample_warehouse):
    mapped, api_calls = value(
        sample_warehouse,
        """SELECT count(*) FILTER (WHERE m.action IS NOT NULL), count(*) FILTER (WHERE e.event_type = 'AwsApiCall')
           FROM core.access_events AS e JOIN core.event_actions AS m
             ON m.event_source = e.event_source AND m.event_name = e.event_name
            AND m.event_type IS NOT DISTINCT FROM e.event_type
           WHERE e.event_type = 'AwsApiCall'""",
    )
    assert mapped / api_calls >= 0.95
    assert value(sample_warehouse, "SELECT count(*) FROM marts.unmapped_events WHERE mapping = 'unmapped'") == 0


def test_the_pass_role_agent_reaches_admin_through_a_never_used_edge(sample_warehouse):
    hops, path = value(
        sample_warehouse,
        f"SELECT hops_to_admin, path_to_admin FROM marts.identity_blast_radius WHERE identity_id = '{PROD}:role/deploy-agent'",
    )
    assert (hops, path) == (2, [f"{PROD}:role/deploy-agent", f"{PROD}:role/ops-admin", "admin:111122223333"])
    assert value(
        sample_warehouse,
        f"SELECT method, is_used, is_unused_admin_edge FROM marts.permission_edges "
        f"WHERE source_id = '{PROD}:role/deploy-agent' AND target_id = '{PROD}:role/ops-admin'",
    ) == ("passrole_lambda", False, True)


def test_the_support_agent_cannot_reach_admin(sample_warehouse):
    assert value(
        sample_warehouse,
        f"SELECT can_reach_admin FROM marts.identity_blast_radius WHERE identity_id = '{PROD}:role/support-agent'",
    ) is False


def test_the_dev_agent_reaches_the_prod_role_it_really_assumed(sample_warehouse):
    assert value(
        sample_warehouse,
        "SELECT edge_type, is_used FROM marts.permission_edges "
        f"WHERE source_id = 'arn:aws:iam::444455556666:role/dev-agent' AND target_id = '{PROD}:role/prod-deployer'",
    ) == ("CAN_ASSUME", True)


PLANTED = {
    f"{PROD}:user/codegen-agent": {"use_short_lived_credentials", "rotate_credential"},
    f"{PROD}:role/data-analysis-agent": {"right_size_policy"},
    "tls:cert/embeddings.models.internal": {"renew_expiring_credential"},
    "tls:cert/reranker.models.internal": {"renew_expiring_credential"},
    "tls:cert/summarizer.models.internal": {"renew_expiring_credential"},
    f"{PROD}:role/deploy-agent": {"break_escalation_path"},
    f"{PROD}:role/legacy-summarizer-agent": {"retire_dormant"},
    f"{PROD}:role/ownerless-agent": {"assign_owner"},
    f"{PROD}:user/reporting-bot": {"split_shared_identity"},
    "arn:aws:iam::444455556666:role/dev-agent": {"separate_environments"},
}


def test_every_planted_problem_yields_its_recommendation(sample_warehouse):
    kinds: dict[str, set[str]] = {}
    for identity_id, kind in sample_warehouse.execute("SELECT identity_id, kind FROM marts.recommendations").fetchall():
        kinds.setdefault(identity_id, set()).add(kind)
    for identity_id, expected in PLANTED.items():
        assert expected <= kinds.get(identity_id, set()), identity_id
    assert "right_size_policy" not in kinds.get(f"{PROD}:role/support-agent", set())


def test_breaking_an_unused_path_to_admin_comes_first(sample_warehouse):
    first = sample_warehouse.execute("SELECT kind FROM marts.recommendations WHERE priority = 1").fetchall()
    assert first == [("break_escalation_path",)]
    assert value(sample_warehouse, "SELECT count(*) FROM marts.recommendations WHERE risk_after > risk_before") == 0
    assert value(sample_warehouse, "SELECT count(*) FROM marts.policy_replay_denials") == 0


def test_the_graph_built_from_the_batched_grant_summary_equals_the_graph_of_every_grant_column(sample_warehouse):
    from models.graph import blast_radius, build_graph, edges_frame, summarize_grants
    from pipelines.graph_io import read_grant_summary, read_graph_inputs

    params = {"as_of": SAMPLE_AS_OF.isoformat(), "window_days": 90}
    inputs = read_graph_inputs(sample_warehouse, params, with_grants=False)
    whole = sample_warehouse.sql("SELECT * FROM core.grants").pl()
    identities = whole["identity_id"].n_unique()
    # runs of a few hundred rows: the sample's grants come in many batches, each identity whole in one
    batched = read_grant_summary(sample_warehouse, run_rows=200)
    assert len(sample_warehouse.sql("SELECT * FROM core.grants").pl()) > 200 * 3 and identities > 3
    for part, expected in zip(batched._frames(), summarize_grants(whole)._frames()):
        assert part.equals(expected)
    from_summary, from_rows = build_graph(**inputs, grants=batched), build_graph(**inputs, grants=whole)
    assert edges_frame(from_summary).equals(edges_frame(from_rows))
    assert blast_radius(from_summary).equals(blast_radius(from_rows))
