-- The shortest path to admin of every identity that has one, AI identities first, step by step.
SELECT p.identity_id, i.name, i.is_ai, p.target_id, p.hops, p.steps, p.has_unused_edge
FROM marts.escalation_paths AS p
JOIN core.identities AS i USING (identity_id)
WHERE p.is_shortest
QUALIFY row_number() OVER (PARTITION BY p.identity_id ORDER BY p.hops, p.target_id) = 1
ORDER BY i.is_ai DESC, p.hops, i.name
