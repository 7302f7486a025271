-- Recommendations by priority with the identity's name and the proposed policy file where there is one.
SELECT r.priority, r.identity_id, i.name, i.is_ai, r.kind, r.action, r.evidence, r.risk_before, r.risk_after,
       r.risk_reduction, r.blast_radius_before, r.blast_radius_after, r.frameworks, p.policy_file
FROM marts.recommendations AS r
JOIN core.identities AS i USING (identity_id)
LEFT JOIN marts.proposed_policies AS p ON p.identity_id = r.identity_id AND r.kind = 'right_size_policy'
ORDER BY r.priority
