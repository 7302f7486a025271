-- Per identity: granted vs used actions and services in the window, the unused share (plain and weighted by
-- access level), denied attempts, and how much of the window we actually observed, hence how sure "unused" is.
CREATE OR REPLACE TABLE marts.identity_privilege AS
WITH window_bounds AS (
    SELECT ($as_of::DATE - ($window_days - 1)) AS start_day, $as_of::DATE AS end_day
),
account_log_start AS (
    SELECT account, min(day) AS first_log_day
    FROM core.usage_daily, window_bounds AS w
    WHERE day BETWEEN w.start_day AND w.end_day
    GROUP BY ALL
),
usage AS (
    SELECT
        u.identity_id,
        count(*) FILTER (WHERE is_granted) AS granted_actions,
        count(*) FILTER (WHERE is_granted AND (is_used OR is_used_inferred)) AS used_actions,
        count(*) FILTER (WHERE is_granted AND NOT (is_used OR is_used_inferred)) AS unused_actions,
        count(*) FILTER (WHERE is_granted AND NOT (is_used OR is_used_inferred) AND NOT is_observable)
            AS unobservable_unused_actions,
        count(*) FILTER (WHERE is_used AND NOT is_granted) AS used_not_granted_actions,
        sum(coalesce(w.weight, $unknown_weight)) FILTER (WHERE is_granted) AS granted_weight,
        sum(coalesce(w.weight, $unknown_weight)) FILTER (WHERE is_granted AND NOT (is_used OR is_used_inferred))
            AS unused_weight,
        count(DISTINCT service) FILTER (WHERE is_granted) AS granted_services,
        count(DISTINCT service) FILTER (WHERE is_granted AND (is_used OR is_used_inferred)) AS used_services,
        count(*) FILTER (WHERE is_granted AND access_level IN ('Write', 'Permissions management')
                         AND NOT (is_used OR is_used_inferred)) AS unused_write_or_permissions_actions
    FROM marts.identity_action_usage AS u
    LEFT JOIN access_level_weights AS w USING (access_level)
    GROUP BY ALL
),
activity AS (
    SELECT
        identity_id,
        min(first_time) AS first_seen,
        max(last_time) AS last_seen,
        coalesce(sum(event_count) FILTER (WHERE is_success), 0) AS successful_events,
        coalesce(sum(event_count) FILTER (WHERE is_denied), 0) AS denied_attempts
    FROM core.usage_daily, window_bounds AS w
    WHERE day BETWEEN w.start_day AND w.end_day
    GROUP BY ALL
),
observed AS (
    SELECT
        i.identity_id,
        CASE
            WHEN l.first_log_day IS NULL THEN 0
            ELSE greatest(0, date_diff('day', greatest(w.start_day, l.first_log_day, i.created_at::DATE), w.end_day) + 1)
        END AS observed_days
    FROM core.identities AS i
    CROSS JOIN window_bounds AS w
    LEFT JOIN account_log_start AS l ON l.account = i.account
)
SELECT
    i.identity_id,
    i.name,
    i.is_ai,
    coalesce(u.granted_actions, 0) AS granted_actions,
    coalesce(u.used_actions, 0) AS used_actions,
    coalesce(u.unused_actions, 0) AS unused_actions,
    round(u.unused_actions / nullif(u.granted_actions, 0), 4) AS unused_ratio,
    round(u.unused_weight / nullif(u.granted_weight, 0), 4) AS weighted_unused_ratio,
    coalesce(u.granted_services, 0) AS granted_services,
    coalesce(u.used_services, 0) AS used_services,
    coalesce(u.granted_services, 0) - coalesce(u.used_services, 0) AS unused_services,
    coalesce(u.used_not_granted_actions, 0) AS used_not_granted_actions,
    coalesce(u.unused_write_or_permissions_actions, 0) AS unused_write_or_permissions_actions,
    coalesce(u.unobservable_unused_actions, 0) AS unobservable_unused_actions,
    coalesce(a.successful_events, 0) AS successful_events,
    coalesce(a.denied_attempts, 0) AS denied_attempts,
    a.first_seen,
    a.last_seen,
    o.observed_days,
    $window_days AS window_days,
    round(o.observed_days / $window_days, 4) AS window_coverage,
    round(
        (o.observed_days / $window_days)
        * CASE WHEN coalesce(u.unused_actions, 0) = 0 THEN 1.0
               ELSE 1.0 - u.unobservable_unused_actions / u.unused_actions END,
        4
    ) AS unused_confidence
FROM core.identities AS i
LEFT JOIN usage AS u USING (identity_id)
LEFT JOIN activity AS a USING (identity_id)
LEFT JOIN observed AS o USING (identity_id)
ORDER BY i.identity_id
