-- The day's use of each access key: how often and when last, by which identity.
SELECT event_day AS day, access_key_id, identity_id, count(*) AS event_count, max(event_time) AS last_time
FROM day_events
WHERE access_key_id IS NOT NULL
GROUP BY ALL
