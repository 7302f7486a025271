"""Assemble each identity's ``IdentityFacts`` from the marts (frames in, facts out)."""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from models.recommendations.rules import Credential, Edge, IdentityFacts


def _grouped(frame: pl.DataFrame, key: str) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in frame.iter_rows(named=True):
        groups[row[key]].append(row)
    return groups


def build_facts(
    identities: pl.DataFrame,
    features: pl.DataFrame,
    privilege: pl.DataFrame,
    proposals: pl.DataFrame,
    service_usage: pl.DataFrame,
    scoping: pl.DataFrame,
    move_edges: pl.DataFrame,
    credentials: pl.DataFrame,
) -> list[IdentityFacts]:
    """One ``IdentityFacts`` per identity of ``identities``.

    identities: ``identity_id, name, kind, path, is_ai, environment, agent_names``.
    features / privilege / proposals / service_usage / scoping: the marts of those names
      (``proposals`` with an ``actions`` list column).
    move_edges: ``marts.permission_edges`` rows of type CAN_ASSUME / CAN_ESCALATE, with ``target_name``.
    credentials: ``identity_id, credential_id, credential_type, days_since_rotation, days_to_expiry,
      has_no_expiry, status``.
    """
    feature_rows = {r["identity_id"]: r for r in features.iter_rows(named=True)}
    privilege_rows = {r["identity_id"]: r for r in privilege.iter_rows(named=True)}
    proposal_rows = {r["identity_id"]: r for r in proposals.iter_rows(named=True)}
    unused_services = _grouped(
        service_usage.filter(pl.col("is_granted") & ~pl.col("is_used")).sort("identity_id", "service"), "identity_id"
    )
    scopable = _grouped(scoping.filter(pl.col("can_scope")).sort("identity_id", "action"), "identity_id")
    edges = _grouped(move_edges.sort("source_id", "target_id", "method"), "source_id")
    creds = _grouped(credentials.sort("identity_id", "credential_id"), "identity_id")
    facts = []
    for identity in identities.sort("identity_id").iter_rows(named=True):
        identity_id = identity["identity_id"]
        privilege_row = privilege_rows.get(identity_id, {})
        proposal = proposal_rows.get(identity_id)
        facts.append(IdentityFacts(
            identity_id=identity_id,
            name=identity["name"],
            kind=identity["kind"],
            is_ai=bool(identity["is_ai"]),
            is_service_linked=(identity.get("path") or "").startswith("/aws-service-role/"),
            environment=identity["environment"],
            features=feature_rows.get(identity_id, {}),
            unused_ratio=privilege_row.get("unused_ratio"),
            observed_days=privilege_row.get("observed_days") or 0,
            window_days=privilege_row.get("window_days") or 0,
            unused_services=tuple((r["service"], r["granted_actions"]) for r in unused_services.get(identity_id, [])),
            scopable=tuple((r["action"], tuple(r["observed_resources"])) for r in scopable.get(identity_id, [])),
            proposal=(proposal["granted_actions"], proposal["proposed_actions"], proposal["policy_file"],
                      proposal["is_tight_warning"]) if proposal else None,
            proposal_actions=tuple(proposal["actions"]) if proposal else (),
            edges=tuple(
                Edge(e["target_id"], e["target_name"], e["edge_type"], e["method"], e["reason"], bool(e["is_used"]),
                     bool(e["is_unused_admin_edge"]), e.get("target_environment"))
                for e in edges.get(identity_id, [])
            ),
            credentials=tuple(
                Credential(c["credential_id"], c["credential_type"], c["days_since_rotation"], c["days_to_expiry"],
                           bool(c["has_no_expiry"]), c["status"])
                for c in creds.get(identity_id, [])
            ),
            agent_names=tuple(identity["agent_names"] or ()),
        ))
    return facts
