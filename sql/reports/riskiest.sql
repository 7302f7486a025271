-- AI identities by risk, with what drives it.
SELECT
    i.identity_id, i.name, i.kind, i.provider, i.account, i.owner, i.environment, i.ai_evidence,
    r.risk_score, r.risk_tier, r.top_reasons,
    b.blast_radius_score, coalesce(b.can_reach_admin, false) AS can_reach_admin,
    p.granted_actions, p.used_actions, p.unused_ratio, p.unused_confidence
FROM core.identities AS i
JOIN marts.identity_risk AS r USING (identity_id)
LEFT JOIN marts.identity_blast_radius AS b USING (identity_id)
LEFT JOIN marts.identity_privilege AS p USING (identity_id)
WHERE i.is_ai
ORDER BY r.risk_score DESC, i.name
