-- Per identity and action: granted? used in the window? how often, when last, on which resources; and whether
-- CloudTrail could have shown its use at all. Used = a successful event (no errorCode) inside the window.
CREATE OR REPLACE TABLE marts.identity_action_usage AS
WITH window_days AS (
    SELECT ($as_of::DATE - ($window_days - 1)) AS first_day, $as_of::DATE AS last_day
),
mapped AS (
    SELECT event_source, event_name, event_type,
           unnest(list_prepend(action, coalesce(additional_actions, []))) AS action
    FROM core.event_actions
    WHERE action IS NOT NULL
),
used_calls AS (
    SELECT u.identity_id, m.action, sum(u.event_count) AS event_count, max(u.last_time) AS last_used
    FROM core.usage_daily AS u
    JOIN window_days AS w ON u.day BETWEEN w.first_day AND w.last_day
    JOIN mapped AS m
      ON m.event_source = u.event_source AND m.event_name = u.event_name AND m.event_type IS NOT DISTINCT FROM u.event_type
    WHERE u.is_success AND u.identity_id IS NOT NULL
      -- AWS services and other accounts acting here are not identities of this organisation
      AND u.identity_id NOT LIKE 'aws-service:%' AND u.identity_id NOT LIKE 'aws-account:%'
    GROUP BY ALL
),
touched AS (
    SELECT r.identity_id, m.action, list_sort(list_distinct(list(r.resource_arn))) AS resources_touched
    FROM core.resource_usage_daily AS r
    JOIN window_days AS w ON r.day BETWEEN w.first_day AND w.last_day
    JOIN mapped AS m
      ON m.event_source = r.event_source AND m.event_name = r.event_name AND m.event_type IS NOT DISTINCT FROM r.event_type
    WHERE r.identity_id IS NOT NULL
    GROUP BY ALL
),
used AS (
    SELECT c.identity_id, c.action, c.event_count, c.last_used, coalesce(t.resources_touched, []) AS resources_touched
    FROM used_calls AS c
    LEFT JOIN touched AS t USING (identity_id, action)
),
allowed AS (
    SELECT * FROM core.grants WHERE effect = 'Allow'
),
-- Most (identity, action) pairs have one grant row (14.4M pairs from 15.0M rows at 10k identities). Those are
-- taken as they are: the list aggregates over every pair took 18.5 s there, against 9.5 s this way.
granted_more_than_once AS (
    SELECT identity_id, action FROM allowed GROUP BY ALL HAVING count(*) > 1
),
granted AS (
    SELECT
        identity_id,
        action,
        service,
        access_level,
        is_conditional,
        CASE WHEN NOT is_not_resource THEN list_distinct([resource_pattern]) END AS resource_patterns,
        resource_pattern = '*' AND NOT is_not_resource AS is_granted_on_all_resources
    FROM allowed
    ANTI JOIN granted_more_than_once USING (identity_id, action)
    UNION ALL
    SELECT
        identity_id,
        action,
        any_value(service) AS service,
        any_value(access_level) AS access_level,
        bool_and(is_conditional) AS is_conditional,
        list_sort(list_distinct(list(resource_pattern) FILTER (WHERE NOT is_not_resource))) AS resource_patterns,
        bool_or(resource_pattern = '*' AND NOT is_not_resource) AS is_granted_on_all_resources
    FROM allowed
    SEMI JOIN granted_more_than_once USING (identity_id, action)
    GROUP BY ALL
),
inferred AS (
    SELECT DISTINCT identity_id, action FROM core.inferred_usage
)
SELECT
    coalesce(g.identity_id, u.identity_id) AS identity_id,
    coalesce(g.action, u.action) AS action,
    coalesce(g.service, c.service, split_part(u.action, ':', 1)) AS service,
    coalesce(g.access_level, c.access_level) AS access_level,
    g.action IS NOT NULL AS is_granted,
    u.action IS NOT NULL AS is_used,
    u.action IS NULL AND i.action IS NOT NULL AS is_used_inferred,
    coalesce(g.is_conditional, false) AS is_conditional,
    u.last_used,
    coalesce(u.event_count, 0) AS event_count,
    coalesce(u.resources_touched, []) AS resources_touched,
    g.resource_patterns,
    coalesce(g.is_granted_on_all_resources, false) AS is_granted_on_all_resources,
    coalesce(o.is_observable, true) AS is_observable,
    o.observability,
    o.observability_reason
FROM granted AS g
FULL OUTER JOIN used AS u ON u.identity_id = g.identity_id AND u.action = g.action
LEFT JOIN inferred AS i ON i.identity_id = coalesce(g.identity_id, u.identity_id) AND i.action = coalesce(g.action, u.action)
LEFT JOIN core.action_catalog AS c ON c.action = coalesce(g.action, u.action)
LEFT JOIN core.action_observability AS o ON o.action = coalesce(g.action, u.action)
ORDER BY identity_id, action
