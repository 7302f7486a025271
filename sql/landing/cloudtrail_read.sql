-- CloudTrail records with explicit columns, numbered within their file, each with why it cannot be loaded
-- (reject_reason, NULL when it can). sql/landing/cloudtrail_landing.sql shapes them.
-- The input is packed JSON Lines: one line per source file (or per slice of a JSON Lines source),
-- {"_s": <source file>, "_k": <source key>, "_p": <position prefix>, "_o": <records before>, "_r": [records]}
-- (pipelines/sources/cloudtrail.py packs them without parsing), because DuckDB pays a price per file read and a
-- night brings thousands of small files. Fed the records, never the {"Records": [...]} wrapper, which DuckDB
-- reads an order of magnitude slower.
-- Nested objects stay JSON text (VARCHAR): typing them JSON here costs more than the read; the core SQL
-- parses only the fields it needs. A JSON Lines source keeps its blank lines as null, so positions are lines.
WITH packed AS (
    SELECT _s, _k, _p, _o, _r
    FROM read_json(
        $files,
        format = 'newline_delimited',
        maximum_object_size = $max_object_size,
        columns = {
            _s: 'VARCHAR',
            _k: 'VARCHAR',
            _p: 'VARCHAR',
            _o: 'BIGINT',
            _r: 'STRUCT(
                eventVersion VARCHAR, eventID VARCHAR, eventTime VARCHAR, "@timestamp" VARCHAR, eventSource VARCHAR,
                eventName VARCHAR, eventType VARCHAR, eventCategory VARCHAR, awsRegion VARCHAR,
                sourceIPAddress VARCHAR, userAgent VARCHAR, errorCode VARCHAR, errorMessage VARCHAR,
                readOnly VARCHAR, managementEvent VARCHAR, recipientAccountId VARCHAR, sharedEventID VARCHAR,
                requestID VARCHAR, sessionCredentialFromConsole VARCHAR, userIdentity VARCHAR,
                requestParameters VARCHAR, resources VARCHAR, _overreach_position VARCHAR
            )[]'
        }
    )
),
records AS (
    SELECT
        _s AS source_file,
        _k AS source_key,
        _p AS position_prefix,
        unnest(_r) AS record,
        unnest(generate_series(_o + 1, _o + len(_r))) AS record_number
    FROM packed
),
numbered AS (
    SELECT
        unnest(record),
        source_file,
        source_key,
        coalesce(record._overreach_position, position_prefix || record_number::VARCHAR) AS record_position,
        coalesce(TRY_CAST(record.eventTime AS TIMESTAMPTZ), TRY_CAST(record."@timestamp" AS TIMESTAMPTZ))
            AS event_time
    FROM records
    WHERE record IS NOT NULL
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
