-- Number the batch's records within their file and say, for each, why it cannot be loaded (NULL when it can).
CREATE OR REPLACE TEMP TABLE cloudtrail_checked AS
WITH numbered AS (
    SELECT
        b.*,
        f.source_file,
        f.source_key,
        coalesce(
            b._overreach_position,
            f.position_prefix || b.record_number::VARCHAR
        ) AS record_position,
        coalesce(TRY_CAST(b.eventTime AS TIMESTAMPTZ), TRY_CAST(b."@timestamp" AS TIMESTAMPTZ)) AS event_time
    FROM cloudtrail_batch AS b
    JOIN cloudtrail_batch_files AS f ON f.read_path = b.filename
)
SELECT
    *,
    CASE
        WHEN nullif(eventID, '') IS NULL THEN 'missing required field eventID'
        WHEN coalesce(eventTime, "@timestamp") IS NULL THEN 'missing required field eventTime'
        WHEN event_time IS NULL THEN 'eventTime is not a timestamp: ' || coalesce(eventTime, "@timestamp")
        WHEN nullif(eventSource, '') IS NULL THEN 'missing required field eventSource'
        WHEN nullif(eventName, '') IS NULL THEN 'missing required field eventName'
    END AS reject_reason
FROM numbered
