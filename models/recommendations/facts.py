"""Assemble each identity's ``IdentityFacts`` from the marts (frames in, facts out, one identity at a time)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

import polars as pl

from models.recommendations.rules import Credential, Edge, IdentityFacts


class _RowsByKey:
    """A frame's rows grouped by ``key``, handed out for keys asked in ascending order.

    Rows become Python dicts only when their key is asked for, and are let go
    after: at 10,000 identities the move edges alone are 638k rows, which as
    dicts held all at once cost about 1 GB.
    """

    def __init__(self, frame: pl.DataFrame, key: str, *order: str) -> None:
        rows = frame.filter(pl.col(key).is_not_null()).sort(key, *order).iter_rows(named=True)
        self._groups = groupby(rows, key=lambda row: row[key])
        self._current: tuple[str, list[dict]] | None = None
        self._advance()

    def _advance(self) -> None:
        group = next(self._groups, None)
        self._current = (group[0], list(group[1])) if group else None

    def rows_of(self, key: str) -> list[dict]:
        """The rows of ``key``: keys must be asked in ascending order, each once."""
        while self._current is not None and self._current[0] < key:
            self._advance()
        if self._current is None or self._current[0] != key:
            return []
        rows = self._current[1]
        self._advance()
        return rows

    def row_of(self, key: str) -> dict | None:
        rows = self.rows_of(key)
        return rows[0] if rows else None


def build_facts(
    identities: pl.DataFrame,
    features: pl.DataFrame,
    privilege: pl.DataFrame,
    proposals: pl.DataFrame,
    service_usage: pl.DataFrame,
    scoping: pl.DataFrame,
    move_edges: pl.DataFrame,
    credentials: pl.DataFrame,
) -> Iterator[IdentityFacts]:
    """One ``IdentityFacts`` per identity of ``identities``, by ``identity_id``, made as it is asked for.

    identities: ``identity_id, name, kind, path, is_ai, environment, agent_names``.
    features / privilege / proposals / service_usage / scoping: the marts of those names
      (``proposals`` with an ``actions`` list column); one row per identity in the first three.
    move_edges: ``marts.permission_edges`` rows of type CAN_ASSUME / CAN_ESCALATE, with ``target_name``.
    credentials: ``identity_id, credential_id, credential_type, days_since_rotation, days_to_expiry,
      has_no_expiry, status``.
    """
    feature_rows = _RowsByKey(features, "identity_id")
    privilege_rows = _RowsByKey(privilege, "identity_id")
    proposal_rows = _RowsByKey(proposals, "identity_id")
    unused_services = _RowsByKey(service_usage.filter(pl.col("is_granted") & ~pl.col("is_used")), "identity_id", "service")
    scopable = _RowsByKey(scoping.filter(pl.col("can_scope")), "identity_id", "action")
    edges = _RowsByKey(move_edges, "source_id", "target_id", "method")
    creds = _RowsByKey(credentials, "identity_id", "credential_id")
    for identity in identities.unique("identity_id").sort("identity_id").iter_rows(named=True):
        identity_id = identity["identity_id"]
        privilege_row = privilege_rows.row_of(identity_id) or {}
        proposal = proposal_rows.row_of(identity_id)
        yield IdentityFacts(
            identity_id=identity_id,
            name=identity["name"],
            kind=identity["kind"],
            is_ai=bool(identity["is_ai"]),
            is_service_linked=(identity.get("path") or "").startswith("/aws-service-role/"),
            environment=identity["environment"],
            features=feature_rows.row_of(identity_id) or {},
            unused_ratio=privilege_row.get("unused_ratio"),
            observed_days=privilege_row.get("observed_days") or 0,
            window_days=privilege_row.get("window_days") or 0,
            unused_services=tuple((r["service"], r["granted_actions"]) for r in unused_services.rows_of(identity_id)),
            scopable=tuple((r["action"], tuple(r["observed_resources"])) for r in scopable.rows_of(identity_id)),
            proposal=(proposal["granted_actions"], proposal["proposed_actions"], proposal["policy_file"],
                      proposal["is_tight_warning"]) if proposal else None,
            proposal_actions=tuple(proposal["actions"]) if proposal else (),
            edges=tuple(
                Edge(e["target_id"], e["target_name"], e["edge_type"], e["method"], e["reason"], bool(e["is_used"]),
                     bool(e["is_unused_admin_edge"]), e.get("target_environment"))
                for e in edges.rows_of(identity_id)
            ),
            credentials=tuple(
                Credential(c["credential_id"], c["credential_type"], c["days_since_rotation"], c["days_to_expiry"],
                           bool(c["has_no_expiry"]), c["status"])
                for c in creds.rows_of(identity_id)
            ),
            agent_names=tuple(identity["agent_names"] or ()),
        )
