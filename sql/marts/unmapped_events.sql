-- CloudTrail events that map to no IAM action, counted, never dropped: permissionless calls, sign-ins and
-- service events are expected; 'unmapped' ones are gaps in the mapping worth a look.
CREATE OR REPLACE TABLE marts.unmapped_events AS
SELECT
    e.event_source,
    e.event_name,
    e.event_type,
    m.mapping,
    m.reason,
    count(*) AS events,
    count(DISTINCT e.identity_id) AS identities,
    min(e.event_time) AS first_seen,
    max(e.event_time) AS last_seen
FROM core.access_events AS e
JOIN core.event_actions AS m
  ON m.event_source = e.event_source AND m.event_name = e.event_name AND m.event_type IS NOT DISTINCT FROM e.event_type
WHERE m.action IS NULL
GROUP BY ALL
ORDER BY events DESC, event_source, event_name
