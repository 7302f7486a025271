-- The loadable records of a read, in the landing shape (each read's Parquet is written from this).
SELECT
    source_file,
    source_key,
    record_position,
    eventID AS event_id,
    event_time,
    (event_time AT TIME ZONE 'UTC')::DATE AS event_day,
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
    resources
FROM cloudtrail_checked
WHERE reject_reason IS NULL
