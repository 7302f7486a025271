-- One snapshot of every identity's scores per as-of date, for trends. A re-run for the same as-of replaces
-- that date's snapshot, so history holds one row per identity and date.
INSERT INTO marts.run_history BY NAME
SELECT
    $as_of::DATE AS as_of,
    $window_days AS window_days,
    i.identity_id,
    i.name,
    i.is_ai,
    r.risk_score,
    r.risk_tier,
    b.blast_radius_score,
    coalesce(b.can_reach_admin, false) AS can_reach_admin,
    p.unused_ratio,
    p.granted_actions,
    p.used_actions,
    (SELECT count(*) FROM marts.recommendations AS m WHERE m.identity_id = i.identity_id) AS recommendations,
    (SELECT count(*) FROM marts.recommendations AS m WHERE m.identity_id = i.identity_id
       AND m.kind IN ('rotate_credential', 'renew_expiring_credential', 'use_short_lived_credentials')) AS credential_issues
FROM core.identities AS i
LEFT JOIN marts.identity_risk AS r USING (identity_id)
LEFT JOIN marts.identity_blast_radius AS b USING (identity_id)
LEFT JOIN marts.identity_privilege AS p USING (identity_id)
ORDER BY i.identity_id
