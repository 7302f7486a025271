-- Distinct (identity, action) pairs used successfully in the window: the input to dependent-action inference.
SELECT DISTINCT e.identity_id, m.action
FROM core.access_events AS e
JOIN core.event_actions AS m
  ON m.event_source = e.event_source AND m.event_name = e.event_name AND m.event_type IS NOT DISTINCT FROM e.event_type
WHERE e.is_success AND m.action IS NOT NULL AND e.identity_id IS NOT NULL
  AND e.event_time >= ($as_of::DATE - ($window_days - 1))::TIMESTAMPTZ
  AND e.event_time < ($as_of::DATE + 1)::TIMESTAMPTZ
ORDER BY ALL
