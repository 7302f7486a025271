-- One section per AI identity and per identity with a recommendation.
SELECT
    i.identity_id, i.name, i.kind, i.provider, i.account, i.owner, i.team, i.environment, i.is_ai, i.ai_evidence,
    i.description, r.risk_score, r.risk_tier, r.top_reasons, b.path_to_admin, b.blast_radius_score,
    p.granted_actions, p.used_actions, p.unused_ratio, p.observed_days, p.window_days, p.unused_confidence,
    pp.document AS proposed_policy, pp.diff AS policy_diff, pp.notes AS policy_notes, pp.policy_file
FROM core.identities AS i
LEFT JOIN marts.identity_risk AS r USING (identity_id)
LEFT JOIN marts.identity_blast_radius AS b USING (identity_id)
LEFT JOIN marts.identity_privilege AS p USING (identity_id)
LEFT JOIN marts.proposed_policies AS pp USING (identity_id)
WHERE i.is_ai OR i.identity_id IN (SELECT identity_id FROM marts.recommendations)
ORDER BY r.risk_score DESC NULLS LAST, i.name
