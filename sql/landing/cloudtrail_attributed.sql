-- A read's records in the landing shape (cloudtrail_shaped, from sql/landing/cloudtrail_landing.sql), attributed
-- to an identity: assumed-role sessions to the role (via the session issuer), keeping the session name, which
-- often names the agent. These are the events' columns: the landing Parquet holds them, so a day without copies
-- of an event becomes its day files by a hard link, not a second write. Rejected records pass through with their
-- reason and excerpt (NULL for every loadable record), to be counted and quarantined.
WITH attributed AS (
    -- user_identity holds the fields read from the record's userIdentity (sql/landing/cloudtrail_read.sql)
    SELECT
        * EXCLUDE (user_identity),
        user_identity.type AS identity_type,
        user_identity.arn AS principal_arn,
        user_identity.sessionContext.sessionIssuer.arn AS session_issuer_arn,
        user_identity.invokedBy AS invoked_by,
        user_identity.accountId AS identity_account,
        user_identity.accessKeyId AS access_key_id
    FROM cloudtrail_shaped
)
SELECT
    event_id,
    event_time,
    event_day,
    CASE
        WHEN identity_type IN ('AssumedRole', 'FederatedUser') THEN coalesce(session_issuer_arn, principal_arn)
        WHEN identity_type IN ('IAMUser', 'Root') THEN principal_arn
        WHEN identity_type = 'AWSService' THEN 'aws-service:' || coalesce(invoked_by, event_source)
        WHEN identity_type = 'AWSAccount' THEN 'aws-account:' || identity_account
        WHEN identity_type IS NULL AND event_type = 'AwsServiceEvent' THEN 'aws-service:' || event_source
        ELSE principal_arn
    END AS identity_id,
    identity_type,
    CASE WHEN identity_type = 'AssumedRole' THEN nullif(split_part(principal_arn, '/', 3), '') END AS session_name,
    principal_arn,
    access_key_id,
    coalesce(recipient_account_id, identity_account) AS account,
    event_source,
    event_name,
    event_type,
    coalesce(event_category, 'Management') AS event_category,
    aws_region,
    coalesce(json_extract_string(resources, '$[*].ARN'), []) AS resources,
    request_parameters::JSON AS request_parameters,
    source_ip,
    user_agent,
    error_code,
    error_message,
    error_code IS NULL AS is_success,
    is_read_only,
    -- a console's user agent: 'console.' then 'amazonaws.com', in any case (the dot matches line breaks too, as
    -- ILIKE's % does). ILIKE '%console.%amazonaws.com%' cost 0.1 s more CPU per million records (statement: 2.8 s)
    coalesce(event_type = 'AwsConsoleSignIn' OR is_console_session
             OR regexp_matches(user_agent, '(?is)console\..*amazonaws\.com'), false)
        AS is_console,
    shared_event_id,
    source_file,
    source_key,
    record_position,
    reject_reason,
    rejected_record
FROM attributed
