"""Recommendations on hand-built facts: one exact test per kind with its near misses, a completeness test over the
rule table, and the what-if evaluation with exact risk and blast radius before and after."""

from __future__ import annotations

import polars as pl
import pytest

from models.recommendations.evaluate import (
    GrantCut, confidence_after, cut_counts, evaluate, features_after, unused_after,
)
from models.recommendations.rules import (
    FRAMEWORKS,
    KINDS,
    RECOMPUTED,
    RULES,
    Change,
    Credential,
    Edge,
    IdentityFacts,
    Recommendation,
    recommend,
)
from models.risk.config import RiskConfig
from models.risk.factors import FEATURE_SCHEMA
from tests.models.test_risk import NEUTRAL

ACCOUNT = "111122223333"
DEV_ACCOUNT = "444455556666"
BOT = f"arn:aws:iam::{ACCOUNT}:role/triage-bot"

NHI1 = "OWASP NHI1:2025 Improper Offboarding"
NHI2 = "OWASP NHI2:2025 Secret Leakage"
NHI5 = "OWASP NHI5:2025 Overprivileged NHI"
NHI7 = "OWASP NHI7:2025 Long-Lived Secrets"
NHI8 = "OWASP NHI8:2025 Environment Isolation"
NHI9 = "OWASP NHI9:2025 NHI Reuse"
NHI10 = "OWASP NHI10:2025 Human Use of NHI"
PR_AA_01 = "NIST CSF 2.0 PR.AA-01 Identities and credentials are managed"
PR_AA_03 = "NIST CSF 2.0 PR.AA-03 Users, services and hardware are authenticated"
PR_AA_05 = "NIST CSF 2.0 PR.AA-05 Least privilege and separation of duties"
PR_IR_01 = "NIST CSF 2.0 PR.IR-01 Networks and environments are protected"
GV_RR_02 = "NIST CSF 2.0 GV.RR-02 Roles, responsibilities and authorities are established"

# A well-kept identity: owned, active yesterday, no keys, nothing shared, nothing reached. No rule fires on it.
TIDY_FEATURES = NEUTRAL | {"unused_actions": 1, "weighted_unused_ratio": 0.1}

RECOMPUTED_PRIVILEGE = {"weighted_unused_ratio": RECOMPUTED, "unused_actions": RECOMPUTED, "granted_actions": RECOMPUTED}


def role_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def facts(
    *,
    name: str = "triage-bot",
    kind: str = "role",
    is_ai: bool = True,
    is_service_linked: bool = False,
    environment: str | None = "prod",
    unused_ratio: float | None = 0.1,
    observed_days: int = 90,
    window_days: int = 90,
    features: dict | None = None,
    **rest,
) -> IdentityFacts:
    """An identity's facts: tidy unless told otherwise; ``features`` override single risk features."""
    identity_id = f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"
    return IdentityFacts(
        identity_id=identity_id,
        name=name,
        kind=kind,
        is_ai=is_ai,
        is_service_linked=is_service_linked,
        environment=environment,
        features=TIDY_FEATURES | {"identity_id": identity_id, "is_ai": is_ai} | (features or {}),
        unused_ratio=unused_ratio,
        observed_days=observed_days,
        window_days=window_days,
        **rest,
    )


def proposal(*, granted: int, proposed: int, file: str | None = "policies/triage-bot-111122223333.json",
             is_tight: bool = False) -> tuple[int, int, str | None, bool]:
    return (granted, proposed, file, is_tight)


def credential(*, credential_id: str = "AKIAEXAMPLE0000001", credential_type: str = "access_key",
               days_since_rotation: int | None = None, days_to_expiry: int | None = None,
               has_no_expiry: bool = True, status: str = "active") -> Credential:
    return Credential(credential_id, credential_type, days_since_rotation, days_to_expiry, has_no_expiry, status)


def edge(*, target: str, account: str = ACCOUNT, edge_type: str = "CAN_ASSUME", method: str = "sts:AssumeRole",
         reason: str | None = None, is_used: bool = False, leads_to_admin_unused: bool = False,
         environment: str | None = None) -> Edge:
    return Edge(role_arn(target, account), target, edge_type, method,
                reason or f"trust policy of {target} allows triage-bot", is_used, leads_to_admin_unused, environment)


def only(recommendations: list[Recommendation]) -> Recommendation:
    assert len(recommendations) == 1, [r.kind for r in recommendations]
    return recommendations[0]


def test_a_tidy_identity_gets_nothing():
    assert recommend(facts()) == []


# right_size_policy ------------------------------------------------------------------------------------------------


def right_sizable(**overrides) -> IdentityFacts:
    settings = {
        "unused_ratio": 0.8,
        "proposal": proposal(granted=10, proposed=2),
        "proposal_actions": ("s3:GetObject", "s3:ListBucket"),
        "features": {"unused_actions": 8},
    } | overrides
    return facts(**settings)


def test_right_size_policy():
    assert recommend(right_sizable()) == [Recommendation(
        identity_id=BOT,
        kind="right_size_policy",
        action="Replace the policies of triage-bot with the generated least-privilege policy "
               "(policies/triage-bot-111122223333.json): 2 actions instead of 10.",
        evidence="8 of 10 granted actions unused in 90 days (unused ratio 0.80); every action used in the window is kept.",
        frameworks=(NHI5, PR_AA_05),
        change=Change(features=RECOMPUTED_PRIVILEGE, keep_actions=("s3:GetObject", "s3:ListBucket")),
    )]


def test_right_size_policy_warns_when_the_identity_was_watched_for_part_of_the_window():
    recommendation = only(recommend(right_sizable(observed_days=30, proposal=proposal(granted=10, proposed=2, is_tight=True))))
    assert recommendation.action == (
        "Replace the policies of triage-bot with the generated least-privilege policy "
        "(policies/triage-bot-111122223333.json): 2 actions instead of 10. "
        "Observed 30 of 90 days: review before applying, it may be too tight."
    )


def test_right_size_policy_at_its_thresholds():
    at_ratio = right_sizable(unused_ratio=0.3)
    at_removed = right_sizable(proposal=proposal(granted=5, proposed=2))
    assert [r.kind for r in recommend(at_ratio)] == ["right_size_policy"]
    assert [r.kind for r in recommend(at_removed)] == ["right_size_policy"]


@pytest.mark.parametrize("near_miss", [
    {"unused_ratio": 0.29},
    {"proposal": proposal(granted=4, proposed=2)},  # two removed actions: not worth a change
    {"proposal": proposal(granted=10, proposed=0, file=None)},  # used nothing: retiring is the answer
    {"proposal": None},
    {"unused_ratio": None},
], ids=["ratio-0.29", "two-removed", "nothing-proposed", "no-proposal", "no-ratio"])
def test_right_size_policy_near_misses(near_miss):
    assert recommend(right_sizable(**near_miss)) == []


# remove_unused_services -------------------------------------------------------------------------------------------


def test_remove_unused_services():
    assert recommend(facts(unused_services=(("dynamodb", 40), ("sqs", 12)))) == [Recommendation(
        identity_id=BOT,
        kind="remove_unused_services",
        action="Remove triage-bot's grants to dynamodb, sqs: not one of their actions was used in 90 days.",
        evidence="dynamodb: 40 granted actions, none used; sqs: 12 granted actions, none used",
        frameworks=(NHI5, PR_AA_05),
        change=Change(features=RECOMPUTED_PRIVILEGE, drop_services=("dynamodb", "sqs")),
    )]


def test_remove_unused_services_summarises_a_long_list():
    services = tuple((f"svc{i}", 1) for i in range(10))
    recommendation = only(recommend(facts(unused_services=services)))
    assert recommendation.action == (
        "Remove triage-bot's grants to svc0, svc1, svc2, svc3, svc4, svc5, svc6, svc7 and 2 more: "
        "not one of their actions was used in 90 days."
    )
    assert recommendation.evidence.endswith("svc7: 1 granted actions, none used and 2 more")
    assert recommendation.change.drop_services == tuple(f"svc{i}" for i in range(10))


def test_remove_unused_services_near_misses():
    # Never active at all is a retirement question, not a trim.
    assert recommend(facts(unused_services=(("sqs", 12),), features={"days_since_last_activity": None,
                                                                     "observed_days": 30})) == []
    assert recommend(facts(unused_services=(("sqs", 0),))) == []


# scope_resources --------------------------------------------------------------------------------------------------


def test_scope_resources():
    scopable = (
        ("s3:GetObject", ("arn:aws:s3:::reports/*",)),
        ("dynamodb:GetItem", tuple(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t{i}" for i in range(4))),
    )
    assert recommend(facts(scopable=scopable)) == [Recommendation(
        identity_id=BOT,
        kind="scope_resources",
        action="Scope 2 of triage-bot's actions from every resource ('*') to the resources it uses.",
        evidence="granted on '*', used only on: s3:GetObject → arn:aws:s3:::reports/*; dynamodb:GetItem → "
                 f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t0, arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t1, "
                 f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t2 …",
        frameworks=(NHI5, PR_AA_05),
        change=Change(scope=scopable),
    )]


def test_scope_resources_near_miss():
    assert recommend(facts(scopable=())) == []


# remove_unused_delegation -----------------------------------------------------------------------------------------


def test_remove_unused_delegation():
    edges = (edge(target="reports-reader"), edge(target="etl-nightly", is_used=True))
    assert recommend(facts(edges=edges)) == [Recommendation(
        identity_id=BOT,
        kind="remove_unused_delegation",
        action="Remove triage-bot's unused ability to become reports-reader.",
        evidence="trust policy of reports-reader allows triage-bot — never used in 90 days",
        frameworks=(NHI5, PR_AA_05),
        change=Change(remove_edges=((BOT, role_arn("reports-reader")),)),
    )]


def test_remove_unused_delegation_near_misses():
    assert recommend(facts(edges=(edge(target="etl-nightly", is_used=True),))) == []
    # An unused edge towards admin is an escalation path to break, not a plain delegation to tidy.
    to_admin = edge(target="ops-admin", leads_to_admin_unused=True)
    assert [r.kind for r in recommend(facts(edges=(to_admin,), features={"unused_admin_edges": 1}))] == [
        "break_escalation_path"
    ]


# break_escalation_path --------------------------------------------------------------------------------------------


def test_break_escalation_path():
    to_admin = edge(target="ops-admin", edge_type="CAN_ESCALATE", method="iam:PassRole+lambda:CreateFunction",
                    reason="can pass ops-admin to lambda:CreateFunction", leads_to_admin_unused=True)
    assert recommend(facts(edges=(to_admin,), features={"unused_admin_edges": 2})) == [Recommendation(
        identity_id=BOT,
        kind="break_escalation_path",
        action="Break triage-bot's path to admin: take away what lets it become ops-admin "
               "(iam:PassRole+lambda:CreateFunction); it never did so in 90 days.",
        evidence="can pass ops-admin to lambda:CreateFunction",
        frameworks=(NHI5, PR_AA_05),
        change=Change(features={"unused_admin_edges": 1}, remove_edges=((BOT, role_arn("ops-admin")),)),
    )]


def test_break_escalation_path_near_miss():
    # The path to admin is used: it is the identity's job, there is nothing unused to break.
    used = edge(target="ops-admin", is_used=True)
    assert recommend(facts(edges=(used,), features={"can_reach_admin": True, "hops_to_admin": 1})) == []


# retire_dormant ---------------------------------------------------------------------------------------------------


def test_retire_dormant():
    assert recommend(facts(features={"days_since_last_activity": 91})) == [Recommendation(
        identity_id=BOT,
        kind="retire_dormant",
        action="Retire triage-bot: disable its credentials now, delete it after a grace period if nothing breaks.",
        evidence="last active 91 days ago",
        frameworks=(NHI1, PR_AA_01),
        change=Change(retire=True),
    )]


def test_retire_an_identity_never_active_while_watched():
    recommendation = only(recommend(facts(features={"days_since_last_activity": None, "observed_days": 90})))
    assert (recommendation.kind, recommendation.evidence) == ("retire_dormant", "no activity in 90 observed days")


@pytest.mark.parametrize("near_miss", [
    {"features": {"days_since_last_activity": 90}},
    {"features": {"days_since_last_activity": None, "observed_days": 89}},
    {"kind": "group", "features": {"days_since_last_activity": 200}},
    {"is_service_linked": True, "features": {"days_since_last_activity": 200}},
], ids=["90-days", "watched-89-days", "group", "service-linked"])
def test_retire_dormant_near_misses(near_miss):
    assert recommend(facts(**near_miss)) == []


# rotate_credential ------------------------------------------------------------------------------------------------


def test_rotate_credential():
    keys = (credential(days_since_rotation=120), credential(credential_id="AKIAEXAMPLE0000002", days_since_rotation=30))
    assert recommend(facts(is_ai=False, credentials=keys)) == [Recommendation(
        identity_id=BOT,
        kind="rotate_credential",
        action="Rotate triage-bot's 1 credential(s) not rotated for over 90 days.",
        evidence="access_key AKIAEXAMPLE0000001 (120 days)",
        frameworks=(NHI7, NHI2, PR_AA_01),
        change=Change(features={"max_days_since_rotation": 0}),
    )]


@pytest.mark.parametrize("near_miss", [
    credential(days_since_rotation=90),
    credential(days_since_rotation=400, status="inactive"),
    credential(credential_id="cert-1", credential_type="certificate", days_since_rotation=400),  # renewed, not rotated
], ids=["90-days", "inactive", "certificate"])
def test_rotate_credential_near_misses(near_miss):
    assert recommend(facts(credentials=(near_miss,))) == []


# use_short_lived_credentials --------------------------------------------------------------------------------------


def test_use_short_lived_credentials():
    assert recommend(facts(features={"long_lived_keys": 2, "oldest_key_age_days": 400})) == [Recommendation(
        identity_id=BOT,
        kind="use_short_lived_credentials",
        action="Move triage-bot off its 2 long-lived access key(s) to short-lived credentials "
               "(an IAM role assumed by the agent's workload, or IAM Roles Anywhere), then delete the keys.",
        evidence="2 access key(s) in use, oldest 400 days old",
        frameworks=(NHI7, PR_AA_03),
        change=Change(features={"long_lived_keys": 0, "oldest_key_age_days": None, "max_days_since_rotation": 0}),
    )]


def test_use_short_lived_credentials_near_misses():
    assert recommend(facts(is_ai=False, features={"long_lived_keys": 2, "oldest_key_age_days": 400})) == []
    assert recommend(facts(features={"long_lived_keys": 0})) == []


# renew_expiring_credential ----------------------------------------------------------------------------------------


def test_renew_expiring_credential():
    certificates = (
        credential(credential_id="cert-1", credential_type="certificate", days_to_expiry=30, has_no_expiry=False),
        credential(credential_id="cert-2", credential_type="certificate", days_to_expiry=-7, has_no_expiry=False,
                   status="expired"),
    )
    assert recommend(facts(credentials=certificates)) == [Recommendation(
        identity_id=BOT,
        kind="renew_expiring_credential",
        action="Renew triage-bot's 2 credential(s) before the service using them fails.",
        evidence="certificate cert-1 expires in 30 days; certificate cert-2 expired 7 days ago",
        frameworks=(NHI7, PR_AA_01),
        change=Change(features={"days_to_nearest_expiry": None}),
    )]


@pytest.mark.parametrize("near_miss", [
    credential(credential_id="cert-1", credential_type="certificate", days_to_expiry=31, has_no_expiry=False),
    credential(credential_id="cert-1", credential_type="certificate", days_to_expiry=-7, has_no_expiry=False,
               status="inactive"),
], ids=["31-days", "inactive"])
def test_renew_expiring_credential_near_misses(near_miss):
    assert recommend(facts(credentials=(near_miss,))) == []


# assign_owner -----------------------------------------------------------------------------------------------------


def test_assign_owner():
    assert recommend(facts(features={"has_owner": False})) == [Recommendation(
        identity_id=BOT,
        kind="assign_owner",
        action="Name an owner for triage-bot in the identity inventory: "
               "someone who answers for its access and its retirement.",
        evidence="no owner recorded",
        frameworks=(NHI1, GV_RR_02),
        change=Change(features={"has_owner": True}),
    )]


@pytest.mark.parametrize("near_miss", [
    {"kind": "group"},
    {"is_service_linked": True},
], ids=["group", "service-linked"])
def test_assign_owner_near_misses(near_miss):
    assert recommend(facts(features={"has_owner": False}, **near_miss)) == []


# split_shared_identity --------------------------------------------------------------------------------------------


def test_split_shared_identity():
    shared = facts(features={"agents_sharing": 2, "console_events": 5}, agent_names=("triage-a", "triage-b"))
    assert recommend(shared) == [Recommendation(
        identity_id=BOT,
        kind="split_shared_identity",
        action="Split triage-bot: one identity per agent, and none shared with people.",
        evidence="used by 2 agents: triage-a, triage-b; 5 console event(s): people use this agent identity too",
        frameworks=(NHI9, NHI10, PR_AA_05),
        change=Change(features={"agents_sharing": 1, "console_events": 0}),
    )]


def test_split_an_agent_identity_used_by_people():
    recommendation = only(recommend(facts(features={"console_events": 5})))
    assert (recommendation.kind, recommendation.evidence) == (
        "split_shared_identity", "5 console event(s): people use this agent identity too"
    )


def test_split_shared_identity_near_misses():
    assert recommend(facts(is_ai=False, features={"console_events": 5})) == []  # people using a person's identity
    assert recommend(facts(features={"agents_sharing": 1}, agent_names=("triage-a",))) == []


# separate_environments --------------------------------------------------------------------------------------------


def test_separate_environments():
    into_prod = edge(target="prod-deployer", is_used=True, reason="trust policy of prod-deployer allows triage-bot",
                     environment="prod")
    within_dev = edge(target="dev-ci", is_used=True, environment="dev")
    dev_bot = facts(environment="dev", edges=(into_prod, within_dev), features={"reaches_other_environments": "prod"})
    assert recommend(dev_bot) == [Recommendation(
        identity_id=BOT,
        kind="separate_environments",
        action="Keep triage-bot (dev) out of prod: remove its way into that environment.",
        evidence="trust policy of prod-deployer allows triage-bot",
        frameworks=(NHI8, PR_IR_01),
        change=Change(features={"reaches_other_environments": None}, remove_edges=((BOT, role_arn("prod-deployer")),)),
    )]


def test_separate_environments_near_miss():
    within_dev = edge(target="dev-ci", account=DEV_ACCOUNT, is_used=True, environment="dev")
    assert recommend(facts(environment="dev", edges=(within_dev,))) == []


# the rule table ---------------------------------------------------------------------------------------------------

TO_ADMIN = edge(target="ops-admin", leads_to_admin_unused=True)

# One fixture per kind, each yielding its kind and nothing else (the base facts are tidy).
FIXTURES: dict[str, IdentityFacts] = {
    "right_size_policy": right_sizable(),
    "remove_unused_services": facts(unused_services=(("sqs", 12),)),
    "scope_resources": facts(scopable=(("s3:GetObject", ("arn:aws:s3:::reports/*",)),)),
    "remove_unused_delegation": facts(edges=(edge(target="reports-reader"),)),
    "break_escalation_path": facts(edges=(TO_ADMIN,), features={"unused_admin_edges": 1}),
    "retire_dormant": facts(features={"days_since_last_activity": 120}),
    "rotate_credential": facts(credentials=(credential(days_since_rotation=120),)),
    "use_short_lived_credentials": facts(features={"long_lived_keys": 1}),
    "renew_expiring_credential": facts(credentials=(credential(days_to_expiry=5, has_no_expiry=False),)),
    "assign_owner": facts(features={"has_owner": False}),
    "split_shared_identity": facts(features={"agents_sharing": 3}, agent_names=("a", "b", "c")),
    "separate_environments": facts(environment="dev", features={"reaches_other_environments": "prod"}),
}


def test_every_kind_has_a_fixture():
    assert set(FIXTURES) == set(KINDS)
    assert len(KINDS) == 12 == len(set(KINDS))


@pytest.mark.parametrize("rule", RULES, ids=[r.kind for r in RULES])
def test_every_rule_yields_its_kind_from_its_fixture(rule):
    config = RiskConfig()
    assert [r.kind for r in rule.propose(FIXTURES[rule.kind], config)] == [rule.kind]
    assert [r.kind for r in recommend(FIXTURES[rule.kind], config)] == [rule.kind]


@pytest.mark.parametrize("rule", RULES, ids=[r.kind for r in RULES])
def test_every_rule_cites_owasp_nhi_and_nist_csf(rule):
    assert rule.frameworks == FRAMEWORKS[rule.kind]
    assert any(f.startswith("OWASP NHI") for f in rule.frameworks)
    assert any(f.startswith("NIST CSF 2.0 ") for f in rule.frameworks)


def test_thresholds_come_from_the_config():
    stricter = RiskConfig(rotation_days=30, dormant_days=10, expiring_within_days=60)
    assert [r.kind for r in recommend(facts(credentials=(credential(days_since_rotation=31),)), stricter)] == [
        "rotate_credential"
    ]
    assert [r.kind for r in recommend(facts(features={"days_since_last_activity": 11}), stricter)] == ["retire_dormant"]
    expiring = credential(days_to_expiry=45, has_no_expiry=False)
    assert [r.kind for r in recommend(facts(credentials=(expiring,)), stricter)] == ["renew_expiring_credential"]


# evaluate ---------------------------------------------------------------------------------------------------------

AGENT = role_arn("deploy-agent")
OLD_BOT = role_arn("old-bot")


def feature_row(*, identity_id: str, **values) -> dict:
    return TIDY_FEATURES | {"identity_id": identity_id} | values


def feature_frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FEATURE_SCHEMA)


def usage_row(*, identity_id: str = AGENT, action: str, access_level: str, is_used: bool = False,
              is_used_inferred: bool = False, is_observable: bool = True, is_granted: bool = True) -> dict:
    return {"identity_id": identity_id, "action": action, "service": action.split(":")[0], "access_level": access_level,
            "is_granted": is_granted, "is_used": is_used, "is_used_inferred": is_used_inferred,
            "is_observable": is_observable}


def agent_usage() -> pl.DataFrame:
    """deploy-agent: 10 granted actions, 2 used; of the 8 unused, one (a data event) CloudTrail cannot see."""
    return pl.DataFrame([
        usage_row(action="s3:GetObject", access_level="Read", is_used=True),
        usage_row(action="s3:ListBucket", access_level="List", is_used=True),
        usage_row(action="lambda:InvokeFunctionUrl", access_level="Write", is_observable=False),
        usage_row(action="s3:PutObject", access_level="Write"),
        usage_row(action="s3:DeleteObject", access_level="Write"),
        usage_row(action="s3:DeleteBucket", access_level="Write"),
        usage_row(action="iam:PassRole", access_level="Permissions management"),
        usage_row(action="iam:CreateUser", access_level="Permissions management"),
        usage_row(action="iam:ListUsers", access_level="List"),
        usage_row(action="iam:GetUser", access_level="Read"),
    ])


def recommendation(identity_id: str, kind: str, change: Change) -> Recommendation:
    return Recommendation(identity_id, kind, f"do {kind}", f"because {kind}", FRAMEWORKS[kind], change)


def blast_row(*, score: float, can_reach_admin: bool = False) -> dict:
    return {"identity_id": AGENT, "blast_radius_score": score, "reachable_identities": 0,
            "reachable_sensitive_resources": 1, "can_reach_admin": can_reach_admin,
            "hops_to_admin": 1 if can_reach_admin else None}


def test_unused_after_a_cut():
    usage = agent_usage()
    assert unused_after(usage, ("s3:GetObject", "s3:ListBucket"), ()) == {
        "granted_actions": 2, "unused_actions": 0, "weighted_unused_ratio": 0.0,
    }
    assert unused_after(usage, None, ("iam",)) == {
        # s3 Read 2 + List 1 used; unused: lambda Write 4, three s3 Write 4 each → 16 of 19
        "granted_actions": 6, "unused_actions": 4, "weighted_unused_ratio": round(16 / 19, 4),
    }


def test_cut_counts_counts_each_cut_on_its_own_identity():
    other_id = role_arn("report-agent")
    other = pl.DataFrame([usage_row(identity_id=other_id, action="s3:GetObject", access_level="Read"),
                          usage_row(identity_id=other_id, action="iam:ListUsers", access_level="List", is_used=True)])
    usage = pl.concat([agent_usage(), other])
    cuts = [GrantCut(AGENT, ("s3:GetObject", "s3:PutObject"), ()), GrantCut(other_id, None, ("iam",)),
            GrantCut(other_id, None, ()), GrantCut("arn:aws:iam::1:role/nobody", None, ())]
    counts = cut_counts(usage, cuts)
    assert [(c.granted, c.unused, c.weight, c.unused_weight, c.unobservable_unused) for c in counts] == [
        (2, 1, 6.0, 4.0, 0),  # Read 2 used, Write 4 unused
        (1, 1, 2.0, 2.0, 0),  # the Read left, unused
        (2, 1, 3.0, 2.0, 0),
        (0, 0, 0.0, 0.0, 0),  # no rows: nothing granted
    ]


def test_confidence_after_a_cut_follows_what_stays_unused():
    usage = agent_usage()
    # Before: window fully covered, 7 of 8 unused actions observable → confidence 0.875.
    assert confidence_after(0.875, usage, ("s3:GetObject", "s3:PutObject"), ()) == 1.0
    assert confidence_after(0.875, usage, ("s3:GetObject", "lambda:InvokeFunctionUrl"), ()) == 0.0
    # Half the window observed: the coverage carries over.
    assert confidence_after(0.4375, usage, ("s3:GetObject", "s3:PutObject"), ()) == 0.5
    assert confidence_after(None, usage, ("s3:GetObject",), ()) is None


def test_features_after_takes_the_blast_row_and_clears_admin_edges():
    before = feature_row(identity_id=AGENT, can_reach_admin=True, unused_admin_edges=2, blast_radius_score=100.0)
    change = Change(features={"has_owner": True}, remove_edges=((AGENT, role_arn("ops-admin")),))
    after = features_after(before, recommendation(AGENT, "break_escalation_path", change), agent_usage(),
                           blast_row(score=20.0))
    assert {k: after[k] for k in ("blast_radius_score", "can_reach_admin", "hops_to_admin", "unused_admin_edges",
                                  "reachable_sensitive_resources", "granted_actions")} == {
        "blast_radius_score": 20.0, "can_reach_admin": False, "hops_to_admin": None, "unused_admin_edges": 0,
        "reachable_sensitive_resources": 1, "granted_actions": 10,
    }


def evaluated(calls: list[str]) -> pl.DataFrame:
    features = feature_frame(
        # 20 × 0.8 × 0.875 + 15 × 1.0 + 15 + 10 = 54.0
        feature_row(identity_id=AGENT, granted_actions=10, unused_actions=8, weighted_unused_ratio=0.8,
                    unused_confidence=0.875, blast_radius_score=100.0, reachable_identities=3,
                    reachable_sensitive_resources=5, can_reach_admin=True, hops_to_admin=2, unused_admin_edges=1),
        # unused 20 × 1.0 + blast 15 × 0.06 + dormant 4 + rotation 7 × 1.0 = 31.9
        feature_row(identity_id=OLD_BOT, granted_actions=3, unused_actions=3, weighted_unused_ratio=1.0,
                    blast_radius_score=6.0, days_since_last_activity=200, max_days_since_rotation=180),
    )
    blast_by_kind = {
        "break_escalation_path": blast_row(score=20.0),
        "right_size_policy": blast_row(score=10.0),
        "retire_dormant": None,  # a retired identity is not in the graph any more
    }

    def blast_after(recommendation: Recommendation) -> dict | None:
        calls.append(recommendation.kind)
        return blast_by_kind[recommendation.kind]

    recommendations = [
        recommendation(OLD_BOT, "rotate_credential", Change(features={"max_days_since_rotation": 0})),
        recommendation(OLD_BOT, "retire_dormant", Change(retire=True)),
        recommendation(AGENT, "right_size_policy", Change(
            features=RECOMPUTED_PRIVILEGE, keep_actions=("s3:GetObject", "s3:ListBucket", "lambda:InvokeFunctionUrl"),
        )),
        recommendation(AGENT, "break_escalation_path", Change(
            features={"unused_admin_edges": 0}, remove_edges=((AGENT, role_arn("ops-admin")),),
        )),
    ]
    return evaluate(recommendations, features, agent_usage(), blast_after)


def test_evaluate_recomputes_risk_and_blast_radius_and_ranks():
    calls: list[str] = []
    frame = evaluated(calls)
    columns = ["priority", "identity_id", "kind", "risk_before", "risk_after", "risk_reduction",
               "blast_radius_before", "blast_radius_after"]
    assert frame.select(columns).rows() == [
        # unused 14 stays, blast 15 → 3, admin reach and the unused path go: 17.0. First, although not the largest cut.
        (1, AGENT, "break_escalation_path", 54.0, 17.0, 37.0, 100, 20),
        # Only InvokeFunctionUrl stays unused, and CloudTrail cannot see it: unused 0; blast 1.5.
        (2, AGENT, "right_size_policy", 54.0, 1.5, 52.5, 100, 10),
        (3, OLD_BOT, "retire_dormant", 31.9, 0.0, 31.9, 6, 0),
        (4, OLD_BOT, "rotate_credential", 31.9, 24.9, 7.0, 6, 6),
    ]
    assert frame["frameworks"].to_list()[0] == [NHI5, PR_AA_05]
    assert frame.columns == ["identity_id", "kind", "priority", "action", "evidence", "risk_before", "risk_after",
                             "risk_reduction", "blast_radius_before", "blast_radius_after", "is_blast_recomputed",
                             "frameworks"]
    assert frame["is_blast_recomputed"].all()
    # The graph is re-run only for changes that alter it.
    assert sorted(calls) == ["break_escalation_path", "retire_dormant", "right_size_policy"]


def test_evaluate_nothing():
    frame = evaluate([], feature_frame(feature_row(identity_id=AGENT)), agent_usage(), lambda r: None)
    assert frame.height == 0
    assert "risk_after" in frame.columns


def test_a_graph_change_beyond_the_budget_keeps_no_made_up_blast_radius():
    deployer = facts(edges=(edge(target="ops-admin", leads_to_admin_unused=True),),
                     features={"unused_admin_edges": 1, "blast_radius_score": 100.0, "can_reach_admin": True,
                               "hops_to_admin": 2})
    features = feature_frame(deployer.features)
    frame = evaluate(recommend(deployer), features, agent_usage(), lambda r: None)
    row = frame.row(0, named=True)
    assert (row["kind"], row["blast_radius_after"], row["is_blast_recomputed"]) == ("break_escalation_path", None, False)
    assert row["risk_after"] < row["risk_before"]  # the admin edges counted in the features still go
