-- Resources known to the run: every ARN the events touched. A sensitivity tier is kept where an input provides one.
CREATE OR REPLACE TABLE core.resources AS
SELECT
    resource_arn,
    split_part(resource_arn, ':', 3) AS service,
    nullif(split_part(resource_arn, ':', 5), '') AS account,
    NULL::VARCHAR AS sensitivity_tier,
    'observed in events' AS source,
    min(event_time) AS first_seen_at,
    max(event_time) AS last_seen_at,
    count(*) AS event_count
FROM core.access_events, unnest(resources) AS r(resource_arn)
WHERE resource_arn LIKE 'arn:%'
GROUP BY ALL
ORDER BY resource_arn
