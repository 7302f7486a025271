-- Per identity and action: granted? used in the window? how often, when last, on which resources; and whether
-- CloudTrail could have shown its use at all. Used = a successful event (no errorCode) inside the window.
CREATE OR REPLACE TABLE marts.identity_action_usage AS
WITH window_bounds AS (
    SELECT ($as_of::DATE - ($window_days - 1))::TIMESTAMPTZ AS starts_at, ($as_of::DATE + 1)::TIMESTAMPTZ AS ends_at
),
windowed_events AS (
    SELECT e.*
    FROM core.access_events AS e, window_bounds AS w
    WHERE e.event_time >= w.starts_at AND e.event_time < w.ends_at AND e.is_success
),
event_actions AS (
    SELECT
        e.identity_id,
        unnest(list_prepend(m.action, coalesce(m.additional_actions, []))) AS action,
        e.event_time,
        list_distinct(list_concat(
            e.resources,
            regexp_extract_all(coalesce(e.request_parameters::VARCHAR, ''), '"(arn:aws[a-zA-Z-]*:[^"]+)"', 1)
        )) AS resources
    FROM windowed_events AS e
    JOIN core.event_actions AS m
      ON m.event_source = e.event_source AND m.event_name = e.event_name
     AND m.event_type IS NOT DISTINCT FROM e.event_type
    WHERE m.action IS NOT NULL AND e.identity_id IS NOT NULL
),
used AS (
    SELECT
        identity_id,
        action,
        count(*) AS event_count,
        max(event_time) AS last_used,
        list_sort(list_distinct(flatten(list(resources)))) AS resources_touched
    FROM event_actions
    GROUP BY ALL
),
granted AS (
    SELECT
        identity_id,
        action,
        any_value(service) AS service,
        any_value(access_level) AS access_level,
        bool_and(is_conditional) AS is_conditional,
        list_sort(list_distinct(list(resource_pattern) FILTER (WHERE NOT is_not_resource))) AS resource_patterns,
        bool_or(resource_pattern = '*' AND NOT is_not_resource) AS is_granted_on_all_resources
    FROM core.grants
    WHERE effect = 'Allow'
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
