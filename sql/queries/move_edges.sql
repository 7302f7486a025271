-- Delegation and escalation edges out of identities, with the target's name, for the recommendations. A principal
-- set (every user of an account) is named in words, and its environment is its members', listed: it crosses into
-- another environment when any member is in one.
WITH set_environments AS (
    SELECT c.source_id AS set_id, string_agg(DISTINCT i.environment, ', ' ORDER BY i.environment) AS environment
    FROM marts.permission_edges AS c
    JOIN core.identities AS i ON i.identity_id = c.target_id
    WHERE c.edge_type = 'CONTAINS'
    GROUP BY ALL
)
SELECT e.source_id, e.target_id,
       coalesce(t.name, CASE WHEN e.target_id LIKE 'principals:%'
                             THEN 'any ' || split_part(e.target_id, ':', 2) || ' of ' || split_part(e.target_id, ':', 3)
                        END, e.target_id) AS target_name,
       coalesce(t.environment, s.environment) AS target_environment,
       e.edge_type, e.method, e.reason,
       coalesce(e.is_used, false) AS is_used, coalesce(e.is_unused_admin_edge, false) AS is_unused_admin_edge
FROM marts.permission_edges AS e
LEFT JOIN core.identities AS t ON t.identity_id = e.target_id
LEFT JOIN set_environments AS s ON s.set_id = e.target_id
WHERE e.edge_type IN ('CAN_ASSUME', 'CAN_ESCALATE') AND e.source_id IN (SELECT identity_id FROM core.identities)
ORDER BY ALL
