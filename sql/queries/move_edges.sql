-- Delegation and escalation edges out of identities, with the target's name, for the recommendations.
SELECT e.source_id, e.target_id, coalesce(t.name, e.target_id) AS target_name, t.environment AS target_environment,
       e.edge_type, e.method, e.reason,
       coalesce(e.is_used, false) AS is_used, coalesce(e.is_unused_admin_edge, false) AS is_unused_admin_edge
FROM marts.permission_edges AS e
LEFT JOIN core.identities AS t ON t.identity_id = e.target_id
WHERE e.edge_type IN ('CAN_ASSUME', 'CAN_ESCALATE') AND e.source_id IN (SELECT identity_id FROM core.identities)
ORDER BY ALL
