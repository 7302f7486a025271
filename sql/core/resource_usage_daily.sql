-- The day's successful calls per identity, call and resource touched: ARNs from the record's resources and
-- any ARN named in its request parameters.
WITH touched AS (
    SELECT
        event_day,
        identity_id,
        event_source,
        event_name,
        event_type,
        list_distinct(list_concat(
            resources,
            CASE WHEN contains(request_parameters::VARCHAR, '"arn:aws')
                 THEN regexp_extract_all(request_parameters::VARCHAR, '"(arn:aws[a-zA-Z-]*:[^"]+)"', 1) ELSE [] END
        )) AS arns
    FROM day_events
    WHERE is_success
)
SELECT
    event_day AS day,
    identity_id,
    event_source,
    event_name,
    event_type,
    resource_arn,
    count(*) AS event_count
FROM touched, unnest(arns) AS r(resource_arn)
GROUP BY ALL
