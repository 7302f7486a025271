-- Unused ratio and risk of every AI identity, for the distribution charts.
SELECT i.name, p.unused_ratio, r.risk_score
FROM core.identities AS i
LEFT JOIN marts.identity_privilege AS p USING (identity_id)
LEFT JOIN marts.identity_risk AS r USING (identity_id)
WHERE i.is_ai
ORDER BY r.risk_score DESC NULLS LAST, i.name
