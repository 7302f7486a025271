-- CloudTrail events of the window that map to no IAM action, counted, never dropped: permissionless calls, sign-ins and
-- service events are expected; 'unmapped' ones are gaps in the mapping worth a look.
CREATE OR REPLACE TABLE marts.unmapped_events AS
SELECT
    u.event_source,
    u.event_name,
    u.event_type,
    m.mapping,
    m.reason,
    sum(u.event_count) AS events,
    count(DISTINCT u.identity_id) AS identities,
    min(u.first_time) AS first_seen,
    max(u.last_time) AS last_seen
FROM core.usage_daily AS u
JOIN core.event_actions AS m
  ON m.event_source = u.event_source AND m.event_name = u.event_name AND m.event_type IS NOT DISTINCT FROM u.event_type
WHERE m.action IS NULL AND u.day BETWEEN $as_of::DATE - ($window_days - 1) AND $as_of::DATE
GROUP BY ALL
ORDER BY events DESC, event_source, event_name
