-- AI identities with their owner, environment, why we think they are AI, and their activity in the window.
SELECT
    i.name,
    i.kind,
    i.provider,
    i.account,
    coalesce(i.owner, '') AS owner,
    coalesce(i.environment, '') AS environment,
    i.ai_evidence,
    count(e.event_id) FILTER (WHERE e.is_success) AS successful_events,
    count(e.event_id) FILTER (WHERE NOT e.is_success) AS failed_events,
    max(e.event_time) AS last_seen
FROM core.identities AS i
LEFT JOIN core.access_events AS e
    ON e.identity_id = i.identity_id
   AND e.event_time >= $as_of::DATE - to_days($window_days - 1)
   AND e.event_time < $as_of::DATE + INTERVAL 1 DAY
WHERE i.is_ai
GROUP BY ALL
ORDER BY successful_events DESC, i.name
