-- The day's kept events rolled up per identity and call: the window's usage is computed from these, never
-- from re-read raw events.
SELECT
    event_day AS day,
    account,
    identity_id,
    identity_type,
    event_source,
    event_name,
    event_type,
    is_success,
    coalesce(error_code ILIKE '%AccessDenied%' OR error_code ILIKE '%Unauthorized%' OR error_code = 'Forbidden', false)
        AS is_denied,
    is_console,
    count(*) AS event_count,
    min(event_time) AS first_time,
    max(event_time) AS last_time
FROM day_events
GROUP BY ALL
