-- This snapshot against the previous one: identities that became high risk, that stopped being, and the biggest moves.
WITH current_snapshot AS (SELECT * FROM marts.run_history WHERE as_of = $as_of::DATE),
previous_as_of AS (SELECT max(as_of) AS as_of FROM marts.run_history WHERE as_of < $as_of::DATE),
previous_snapshot AS (SELECT h.* FROM marts.run_history AS h JOIN previous_as_of AS p USING (as_of))
SELECT
    coalesce(c.identity_id, p.identity_id) AS identity_id,
    coalesce(c.name, p.name) AS name,
    p.risk_score AS risk_before,
    c.risk_score AS risk_now,
    p.risk_tier AS tier_before,
    c.risk_tier AS tier_now,
    round(coalesce(c.risk_score, 0) - coalesce(p.risk_score, 0), 1) AS risk_change,
    CASE
        WHEN p.identity_id IS NULL THEN 'new identity'
        WHEN c.identity_id IS NULL THEN 'gone'
        WHEN c.risk_tier IN ('critical', 'high') AND p.risk_tier NOT IN ('critical', 'high') THEN 'new risk'
        WHEN p.risk_tier IN ('critical', 'high') AND c.risk_tier NOT IN ('critical', 'high') THEN 'resolved'
        ELSE 'moved'
    END AS change_kind
FROM current_snapshot AS c
FULL OUTER JOIN previous_snapshot AS p USING (identity_id)
WHERE (SELECT as_of FROM previous_as_of) IS NOT NULL
ORDER BY abs(coalesce(c.risk_score, 0) - coalesce(p.risk_score, 0)) DESC, identity_id
