-- A read's records in the landing shape, in one pass over the packed records (checked records:
-- sql/landing/cloudtrail_read.sql, given as cloudtrail_checked). Rejected records come too, with their reason and
-- an excerpt; sql/landing/cloudtrail_attributed.sql takes these rows (as cloudtrail_shaped) to the landing Parquet.
SELECT
    source_file,
    source_key,
    record_position,
    eventID AS event_id,
    event_time,
    -- the UTC day from the instant's microseconds: AT TIME ZONE 'UTC' goes through ICU's calendar, 0.06 s of CPU
    -- per million records
    make_timestamp(epoch_us(event_time))::DATE AS event_day,
    eventVersion AS event_version,
    eventSource AS event_source,
    eventName AS event_name,
    eventType AS event_type,
    eventCategory AS event_category,
    awsRegion AS aws_region,
    sourceIPAddress AS source_ip,
    userAgent AS user_agent,
    nullif(errorCode, '') AS error_code,
    errorMessage AS error_message,
    TRY_CAST(readOnly AS BOOLEAN) AS is_read_only,
    TRY_CAST(managementEvent AS BOOLEAN) AS is_management_event,
    recipientAccountId AS recipient_account_id,
    sharedEventID AS shared_event_id,
    requestID AS request_id,
    TRY_CAST(sessionCredentialFromConsole AS BOOLEAN) AS is_console_session,
    userIdentity AS user_identity,
    requestParameters AS request_parameters,
    resources,
    reject_reason,
    CASE WHEN reject_reason IS NOT NULL THEN
        to_json({eventID: eventID, eventTime: eventTime, eventSource: eventSource, eventName: eventName})::VARCHAR
    END AS rejected_record
FROM cloudtrail_checked
