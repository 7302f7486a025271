-- Resources known to the run: every ARN the events touched. A sensitivity tier is kept where an input provides one.
CREATE OR REPLACE TABLE core.resources AS
SELECT
    resource_arn,
    split_part(resource_arn, ':', 3) AS service,
    nullif(split_part(resource_arn, ':', 5), '') AS account,
    NULL::VARCHAR AS sensitivity_tier,
    'observed in events' AS source,
    min(day) AS first_seen_day,
    max(day) AS last_seen_day,
    sum(event_count) AS event_count
FROM core.resource_usage_daily
WHERE resource_arn LIKE 'arn:%'
GROUP BY ALL
ORDER BY resource_arn
