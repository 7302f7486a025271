-- The headline figures of this run and of the previous snapshot in marts.run_history (for "change since").
WITH snapshots AS (
    SELECT
        as_of,
        count(*) FILTER (WHERE is_ai) AS ai_identities,
        count(*) FILTER (WHERE is_ai AND unused_ratio >= $over_privileged_ratio) AS ai_over_privileged,
        count(*) FILTER (WHERE is_ai AND can_reach_admin) AS ai_admin_reachable,
        coalesce(sum(credential_issues), 0) AS credential_issues,
        count(*) FILTER (WHERE risk_tier IN ('critical', 'high')) AS high_risk_identities
    FROM marts.run_history
    WHERE as_of <= $as_of::DATE
    GROUP BY ALL
),
current_snapshot AS (SELECT * FROM snapshots WHERE as_of = $as_of::DATE),
previous_snapshot AS (SELECT * FROM snapshots WHERE as_of < $as_of::DATE ORDER BY as_of DESC LIMIT 1)
SELECT
    c.ai_identities,
    c.ai_over_privileged,
    c.ai_admin_reachable,
    c.credential_issues,
    c.high_risk_identities,
    p.as_of AS previous_as_of,
    c.ai_identities - p.ai_identities AS ai_identities_change,
    c.ai_over_privileged - p.ai_over_privileged AS ai_over_privileged_change,
    c.ai_admin_reachable - p.ai_admin_reachable AS ai_admin_reachable_change,
    c.credential_issues - p.credential_issues AS credential_issues_change,
    c.high_risk_identities - p.high_risk_identities AS high_risk_identities_change,
    (SELECT count(*) FROM core.identities) AS identities,
    (SELECT coalesce(sum(events), 0) FROM ops.event_days) AS events,
    (SELECT count(*) FROM marts.recommendations) AS recommendations
FROM current_snapshot AS c
LEFT JOIN previous_snapshot AS p ON true
