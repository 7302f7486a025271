-- Read CloudTrail records (a JSON array per file, or JSON Lines) with explicit columns into a temp table.
-- Fed the records themselves, never the {"Records": [...]} wrapper: DuckDB reads arrays and lines far faster.
CREATE OR REPLACE TEMP TABLE cloudtrail_batch AS
SELECT *
FROM read_json(
    $files,
    format = $json_format,
    filename = true,
    maximum_object_size = 67108864,
    columns = {
        eventVersion: 'VARCHAR',
        eventID: 'VARCHAR',
        eventTime: 'VARCHAR',
        "@timestamp": 'VARCHAR',
        eventSource: 'VARCHAR',
        eventName: 'VARCHAR',
        eventType: 'VARCHAR',
        eventCategory: 'VARCHAR',
        awsRegion: 'VARCHAR',
        sourceIPAddress: 'VARCHAR',
        userAgent: 'VARCHAR',
        errorCode: 'VARCHAR',
        errorMessage: 'VARCHAR',
        readOnly: 'VARCHAR',
        managementEvent: 'VARCHAR',
        recipientAccountId: 'VARCHAR',
        sharedEventID: 'VARCHAR',
        requestID: 'VARCHAR',
        sessionCredentialFromConsole: 'VARCHAR',
        userIdentity: 'JSON',
        requestParameters: 'JSON',
        resources: 'JSON',
        _overreach_position: 'VARCHAR'
    }
)
