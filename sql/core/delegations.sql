-- Who can become whom: the graph's principal-to-principal edges. An edge to a principal set stands for one to
-- each member but the source itself; such a row is used when the source became that member in the window, and
-- an unused admin edge when, unused, that member can reach full control.
CREATE OR REPLACE TABLE core.delegations AS
WITH moves AS (
    SELECT * FROM marts.permission_edges WHERE edge_type IN ('MEMBER_OF', 'CAN_ASSUME', 'CAN_ESCALATE')
),
members AS (
    SELECT source_id AS set_id, target_id AS member_id FROM marts.permission_edges WHERE edge_type = 'CONTAINS'
),
used AS (
    SELECT DISTINCT identity_id AS source_id, role_arn AS target_id
    FROM core.delegation_usage_daily
    WHERE day BETWEEN $as_of::DATE - ($window_days - 1) AND $as_of::DATE
),
expanded AS (
    SELECT m.*, s.member_id, s.set_id
    FROM moves AS m
    LEFT JOIN members AS s ON s.set_id = m.target_id
    WHERE s.member_id IS NULL OR s.member_id <> m.source_id
)
SELECT
    e.source_id,
    coalesce(e.member_id, e.target_id) AS target_id,
    e.edge_type AS kind,
    e.method,
    e.reason,
    e.is_conditional,
    CASE WHEN e.set_id IS NULL THEN e.is_used ELSE u.source_id IS NOT NULL END AS is_used,
    CASE WHEN e.set_id IS NULL THEN e.is_unused_admin_edge
         ELSE u.source_id IS NULL AND coalesce(b.can_reach_admin, false) END AS is_unused_admin_edge,
    e.set_id AS via_set_id
FROM expanded AS e
LEFT JOIN used AS u ON e.set_id IS NOT NULL AND u.source_id = e.source_id AND u.target_id = e.member_id
LEFT JOIN marts.identity_blast_radius AS b ON e.set_id IS NOT NULL AND b.identity_id = e.member_id
ORDER BY source_id, target_id, kind, method
