-- Distinct (identity, action) pairs used successfully in the window: the input to dependent-action inference.
SELECT DISTINCT u.identity_id, m.action
FROM core.usage_daily AS u
JOIN core.event_actions AS m
  ON m.event_source = u.event_source AND m.event_name = u.event_name AND m.event_type IS NOT DISTINCT FROM u.event_type
WHERE u.is_success AND m.action IS NOT NULL AND u.identity_id IS NOT NULL
  AND u.day BETWEEN $as_of::DATE - ($window_days - 1) AND $as_of::DATE
ORDER BY ALL
