-- Per identity, the measurements the risk factors read (models/risk/factors.py): privilege, reach, credential
-- hygiene and governance, all as of $as_of.
CREATE OR REPLACE TABLE marts.risk_features AS
WITH credentials AS (
    SELECT
        identity_id,
        count(*) FILTER (WHERE credential_type = 'access_key' AND status = 'active') AS inventory_keys,
        max(date_diff('day', created_at::DATE, $as_of::DATE))
            FILTER (WHERE credential_type = 'access_key' AND status = 'active') AS oldest_key_age_days,
        max(date_diff('day', coalesce(last_rotated_at, created_at)::DATE, $as_of::DATE))
            FILTER (WHERE status = 'active' AND credential_type <> 'certificate') AS max_days_since_rotation,
        count(*) FILTER (WHERE status = 'active' AND credential_type <> 'access_key' AND expires_at IS NULL)
            AS credentials_without_expiry,
        -- an expired certificate still in place is the outage that already happened
        min(date_diff('day', $as_of::DATE, expires_at::DATE))
            FILTER (WHERE status IN ('active', 'expired') AND expires_at IS NOT NULL) AS days_to_nearest_expiry
    FROM core.credentials
    GROUP BY ALL
),
keys_in_use AS (
    -- AKIA ids are IAM users' long-lived keys (ASIA ids are temporary session keys)
    SELECT identity_id, count(DISTINCT access_key_id) AS keys
    FROM core.credential_usage_daily
    WHERE access_key_id LIKE 'AKIA%' AND day BETWEEN $as_of::DATE - ($window_days - 1) AND $as_of::DATE
    GROUP BY ALL
),
activity AS (
    SELECT
        identity_id,
        max(last_time) FILTER (WHERE is_success) AS last_success,
        coalesce(sum(event_count) FILTER (WHERE is_console AND day BETWEEN $as_of::DATE - ($window_days - 1) AND $as_of::DATE), 0)
            AS console_events
    FROM core.usage_daily
    WHERE day <= $as_of::DATE
    GROUP BY ALL
),
unused_admin_edges AS (
    SELECT p.identity_id, count(DISTINCT (s.step['from'], s.step['to'])) AS unused_admin_edges
    FROM marts.escalation_paths AS p, unnest(p.steps) AS s(step)
    WHERE NOT coalesce(s.step['is_used'], true) AND s.step['edge_type'] IN ('CAN_ASSUME', 'CAN_ESCALATE')
    GROUP BY ALL
),
other_environments AS (
    -- core.delegations, not the edges: an edge to a principal set is a row for each member there
    SELECT e.source_id AS identity_id, string_agg(DISTINCT t.environment, ', ' ORDER BY t.environment) AS environments
    FROM core.delegations AS e
    JOIN core.identities AS s ON s.identity_id = e.source_id
    JOIN core.identities AS t ON t.identity_id = e.target_id
    WHERE e.kind IN ('CAN_ASSUME', 'CAN_ESCALATE') AND s.environment IS NOT NULL AND t.environment IS NOT NULL
      AND s.environment <> t.environment
    GROUP BY ALL
)
SELECT
    i.identity_id,
    i.is_ai,
    coalesce(p.granted_actions, 0) AS granted_actions,
    coalesce(p.unused_actions, 0) AS unused_actions,
    p.weighted_unused_ratio,
    p.unused_confidence,
    coalesce(b.blast_radius_score, 0)::DOUBLE AS blast_radius_score,
    coalesce(b.reachable_identities, 0) AS reachable_identities,
    coalesce(b.reachable_sensitive_resources, 0) AS reachable_sensitive_resources,
    coalesce(b.can_reach_admin, false) AS can_reach_admin,
    b.hops_to_admin,
    coalesce(u.unused_admin_edges, 0) AS unused_admin_edges,
    greatest(coalesce(c.inventory_keys, 0), coalesce(k.keys, 0)) AS long_lived_keys,
    c.oldest_key_age_days,
    c.max_days_since_rotation,
    coalesce(c.credentials_without_expiry, 0) AS credentials_without_expiry,
    c.days_to_nearest_expiry,
    i.owner IS NOT NULL AS has_owner,
    date_diff('day', greatest(a.last_success, i.last_used_at)::DATE, $as_of::DATE) AS days_since_last_activity,
    coalesce(p.observed_days, 0) AS observed_days,
    len(i.agent_names) AS agents_sharing,
    coalesce(a.console_events, 0) AS console_events,
    o.environments AS reaches_other_environments
FROM core.identities AS i
LEFT JOIN marts.identity_privilege AS p USING (identity_id)
LEFT JOIN marts.identity_blast_radius AS b USING (identity_id)
LEFT JOIN credentials AS c USING (identity_id)
LEFT JOIN keys_in_use AS k USING (identity_id)
LEFT JOIN activity AS a USING (identity_id)
LEFT JOIN unused_admin_edges AS u USING (identity_id)
LEFT JOIN other_environments AS o USING (identity_id)
ORDER BY i.identity_id
