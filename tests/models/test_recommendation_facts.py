"""``build_facts``: each identity gets exactly its own rows of every mart, made one identity at a time."""

from __future__ import annotations

import polars as pl

from models.recommendations.facts import build_facts
from models.recommendations.rules import Credential, Edge

A, B, C = (f"arn:aws:iam::111122223333:role/{name}" for name in ("a", "b", "c"))
GHOST = "arn:aws:iam::111122223333:role/aa-not-an-identity"  # sorts between a and b


def marts(*, identities: list[str]) -> dict[str, pl.DataFrame]:
    return {
        "identities": pl.DataFrame({
            "identity_id": identities, "name": [i.rsplit("/", 1)[-1] for i in identities],
            "kind": ["role"] * len(identities), "path": ["/"] * len(identities), "is_ai": [True] * len(identities),
            "environment": ["prod"] * len(identities), "agent_names": [None] * len(identities),
        }, schema_overrides={"agent_names": pl.List(pl.String)}),
        "features": pl.DataFrame({"identity_id": [C, A], "unused_admin_edges": [2, 0]}),
        "privilege": pl.DataFrame({"identity_id": [A], "unused_ratio": [0.5], "observed_days": [30],
                                   "window_days": [90]}),
        "proposals": pl.DataFrame({"identity_id": [C], "granted_actions": [10], "proposed_actions": [2],
                                   "policy_file": ["policies/c.json"], "is_tight_warning": [False],
                                   "actions": [["s3:GetObject", "s3:ListBucket"]]}),
        "service_usage": pl.DataFrame({
            "identity_id": [A, A, A, C], "service": ["sqs", "ec2", "s3", "kms"],
            "is_granted": [True, True, True, True], "is_used": [False, False, True, False],
            "granted_actions": [4, 7, 9, 3],
        }),
        "scoping": pl.DataFrame({"identity_id": [C, None], "action": ["s3:GetObject", "s3:PutObject"],
                                 "can_scope": [True, True], "observed_resources": [["arn:aws:s3:::b/k"], ["x"]]}),
        "move_edges": pl.DataFrame({
            "source_id": [C, GHOST, A, C], "target_id": [B, A, C, A], "target_name": ["b", "a", "c", "a"],
            "target_environment": ["dev", "prod", "prod", "prod"],
            "edge_type": ["CAN_ASSUME", "CAN_ASSUME", "CAN_ESCALATE", "CAN_ASSUME"],
            "method": ["assume_role", "assume_role", "passrole_lambda", "assume_role"],
            "reason": ["c→b", "ghost→a", "a→c", "c→a"], "is_used": [True, False, False, None],
            "is_unused_admin_edge": [False, False, True, False],
        }),
        "credentials": pl.DataFrame({
            "identity_id": [B], "credential_id": ["AKIA0001"], "credential_type": ["access_key"],
            "days_since_rotation": [400], "days_to_expiry": [None], "has_no_expiry": [True], "status": ["Active"],
        }, schema_overrides={"days_to_expiry": pl.Int64}),
    }


def test_each_identity_gets_its_own_rows_in_order_and_none_of_another():
    frames = marts(identities=[C, A, B])
    facts = list(build_facts(**frames))

    assert [f.identity_id for f in facts] == [A, B, C]
    a, b, c = facts
    assert a.features == {"identity_id": A, "unused_admin_edges": 0}
    assert (a.unused_ratio, a.observed_days, a.window_days) == (0.5, 30, 90)
    assert a.unused_services == (("ec2", 7), ("sqs", 4))
    assert a.edges == (Edge(C, "c", "CAN_ESCALATE", "passrole_lambda", "a→c", False, True, "prod"),)
    assert a.proposal is None and a.proposal_actions == () and a.credentials == () and a.scopable == ()

    assert b.features == {} and b.unused_ratio is None and b.observed_days == 0 and b.edges == ()
    assert b.credentials == (Credential("AKIA0001", "access_key", 400, None, True, "Active"),)

    assert c.features["unused_admin_edges"] == 2
    assert c.proposal == (10, 2, "policies/c.json", False)
    assert c.proposal_actions == ("s3:GetObject", "s3:ListBucket")
    assert c.scopable == (("s3:GetObject", ("arn:aws:s3:::b/k",)),)
    assert c.unused_services == (("kms", 3),)
    # sorted by target; a null is_used is "not seen used"
    assert [(e.target_id, e.is_used) for e in c.edges] == [(A, False), (B, True)]


def test_rows_of_keys_that_are_no_identity_go_nowhere():
    facts = list(build_facts(**marts(identities=[B])))

    assert len(facts) == 1
    assert facts[0].edges == () and facts[0].features == {}


def test_an_identity_listed_twice_gets_one_facts():
    assert [f.identity_id for f in build_facts(**marts(identities=[A, A, C]))] == [A, C]
