-- Granted vs used actions per service for the riskiest AI identities (the chart shows the top services).
WITH top AS (
    SELECT identity_id FROM marts.identity_risk JOIN core.identities USING (identity_id)
    WHERE is_ai ORDER BY risk_score DESC, identity_id LIMIT $top_identities
)
SELECT i.name, s.identity_id, s.service, s.granted_actions, s.used_actions, s.last_used
FROM marts.identity_service_usage AS s
JOIN top USING (identity_id)
JOIN core.identities AS i USING (identity_id)
WHERE s.is_granted
ORDER BY s.identity_id, s.granted_actions DESC, s.service
