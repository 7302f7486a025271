-- CloudTrail records with explicit columns, numbered within their file, each with why it cannot be loaded
-- (reject_reason, NULL when it can). sql/landing/cloudtrail_landing.sql shapes them.
-- The input is a batch's packed records (cloudtrail_packed, an Arrow table: pipelines/sources/cloudtrail.py packs
-- them without parsing), a row per source file (or per slice of a JSON Lines source): _s the source file, _k its
-- key, _p its position prefix, _o the records before the slice, _r the records as one JSON array's text. Fed the
-- records, never the {"Records": [...]} wrapper, which DuckDB parses an order of magnitude slower.
-- Nested objects stay JSON text (VARCHAR): typing them JSON here costs more than the parse; the core SQL
-- parses only the fields it needs. userIdentity alone is read as the fields attribution takes (written out as
-- text and parsed again, it cost a tenth of the statement). A JSON Lines source keeps its blank lines as null, so
-- positions are lines.
-- json_transform reads what is not an array, and an array element that is not an object, as NULL fields where
-- DuckDB's JSON reader failed the read; both fail it here (error), so that the careful path finds and names them.
WITH packed AS (
    SELECT
        _s,
        _k,
        _p,
        _o,
        json_transform(_r, '[{
            "eventVersion": "VARCHAR", "eventID": "VARCHAR", "eventTime": "VARCHAR", "@timestamp": "VARCHAR",
            "eventSource": "VARCHAR", "eventName": "VARCHAR", "eventType": "VARCHAR", "eventCategory": "VARCHAR",
            "awsRegion": "VARCHAR", "sourceIPAddress": "VARCHAR", "userAgent": "VARCHAR", "errorCode": "VARCHAR",
            "errorMessage": "VARCHAR", "readOnly": "VARCHAR", "managementEvent": "VARCHAR",
            "recipientAccountId": "VARCHAR", "sharedEventID": "VARCHAR", "requestID": "VARCHAR",
            "sessionCredentialFromConsole": "VARCHAR", "requestParameters": "VARCHAR",
            "userIdentity": {
                "type": "VARCHAR", "arn": "VARCHAR", "sessionContext": {"sessionIssuer": {"arn": "VARCHAR"}},
                "invokedBy": "VARCHAR", "accountId": "VARCHAR", "accessKeyId": "VARCHAR"
            },
            "resources": "VARCHAR", "_overreach_position": "VARCHAR"
        }]') AS _r
    FROM cloudtrail_packed
),
records AS (
    SELECT
        _s AS source_file,
        _k AS source_key,
        _p AS position_prefix,
        unnest(_r) AS record,
        unnest(generate_series(_o + 1, _o + len(_r))) AS record_number
    FROM packed
    WHERE CASE WHEN _r IS NULL THEN error('not a JSON array of records: ' || _s) ELSE true END
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
    -- CASE, not AND / OR: DuckDB may reorder those, and a blank line (null) must never reach error()
    WHERE CASE
        WHEN record IS NULL THEN false
        WHEN coalesce(record.eventID, record.eventTime, record.eventSource, record.eventName,
                      record._overreach_position, record.eventVersion, record."@timestamp", record.eventType,
                      record.eventCategory, record.awsRegion, record.sourceIPAddress, record.userAgent,
                      record.errorCode, record.errorMessage, record.readOnly, record.managementEvent,
                      record.recipientAccountId, record.sharedEventID, record.requestID,
                      record.sessionCredentialFromConsole, record.requestParameters, record.resources) IS NULL
             AND record.userIdentity IS NULL
            THEN error('a record with no CloudTrail field, or not a JSON object, in ' || source_file)
        -- a userIdentity that is not an object (a string among them) reads as one without any of the fields, as
        -- does an object without them: both fail the read, and the careful path tells them apart (the records it
        -- hands back carry their position and are taken as they are)
        WHEN record._overreach_position IS NULL AND record.userIdentity IS NOT NULL
             AND coalesce(record.userIdentity.type, record.userIdentity.arn,
                          record.userIdentity.sessionContext.sessionIssuer.arn, record.userIdentity.invokedBy,
                          record.userIdentity.accountId, record.userIdentity.accessKeyId) IS NULL
            THEN error('a userIdentity that is not an object, or holds none of its usual fields, in ' || source_file)
        ELSE true
    END
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
