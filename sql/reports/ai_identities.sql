-- AI identities with their owner, environment, why we think they are AI, and their activity in the window.
SELECT
    i.name,
    i.kind,
    i.provider,
    i.account,
    coalesce(i.owner, '') AS owner,
    coalesce(i.environment, '') AS environment,
    i.ai_evidence,
    coalesce(sum(u.event_count) FILTER (WHERE u.is_success), 0) AS successful_events,
    coalesce(sum(u.event_count) FILTER (WHERE NOT u.is_success), 0) AS failed_events,
    max(u.last_time) AS last_seen
FROM core.identities AS i
LEFT JOIN core.usage_daily AS u
    ON u.identity_id = i.identity_id
   AND u.day BETWEEN $as_of::DATE - ($window_days - 1) AND $as_of::DATE
WHERE i.is_ai
GROUP BY ALL
ORDER BY successful_events DESC, i.name
