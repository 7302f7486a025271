-- The day's successful calls per identity, call and resource touched: ARNs from the record's resources and
-- any ARN named in its request parameters.
WITH touched AS (
    SELECT
        event_day,
        identity_id,
        event_source,
        event_name,
        event_type,
        -- an ARN named in both counts once; most requests name none, and their resources alone are taken.
        -- list_distinct builds a set per row: lists of none, one or two different ARNs are taken as they are
        -- (a tenth of the rollup's CPU at S, where nine rows in ten have two resources at most)
        CASE WHEN contains(request_parameters::VARCHAR, '"arn:aws')
                 THEN list_distinct(list_concat(
                     resources, regexp_extract_all(request_parameters::VARCHAR, '"(arn:aws[a-zA-Z-]*:[^"]+)"', 1)))
             WHEN len(resources) = 0 THEN resources
             WHEN len(resources) = 1 AND resources[1] IS NOT NULL THEN resources
             WHEN len(resources) = 2 AND resources[1] <> resources[2] THEN resources
             ELSE list_distinct(resources)
        END AS arns
    FROM day_events
    WHERE is_success
),
arns AS (
    -- an unnest in the select list, not a lateral join over every row
    SELECT event_day, identity_id, event_source, event_name, event_type, unnest(arns) AS resource_arn
    FROM touched
)
SELECT
    event_day AS day,
    identity_id,
    event_source,
    event_name,
    event_type,
    resource_arn,
    count(*) AS event_count
FROM arns
GROUP BY ALL
