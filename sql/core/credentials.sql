-- Credentials of identities (access keys, API keys, tokens, certificates) from the inventory, one row per credential.
-- Access keys seen in CloudTrail add when each was last seen in use.
CREATE OR REPLACE TABLE core.credentials AS
WITH rows AS (
    SELECT *
    FROM read_parquet($landing_dir || '/inventory/identities.parquet')
    WHERE credential_id IS NOT NULL
),
seen AS (
    SELECT access_key_id, max(last_time) AS last_seen_in_events_at, sum(event_count) AS events_in_inputs
    FROM core.credential_usage_daily
    GROUP BY ALL
)
SELECT
    r.identity_id,
    r.credential_id,
    coalesce(r.credential_type, 'unknown') AS credential_type,
    TRY_CAST(r.created_at AS TIMESTAMPTZ) AS created_at,
    TRY_CAST(r.last_rotated_at AS TIMESTAMPTZ) AS last_rotated_at,
    TRY_CAST(r.expires_at AS TIMESTAMPTZ) AS expires_at,
    greatest(TRY_CAST(r.last_used_at AS TIMESTAMPTZ), s.last_seen_in_events_at) AS last_used_at,
    s.last_seen_in_events_at,
    coalesce(s.events_in_inputs, 0) AS events_in_inputs,
    coalesce(lower(r.status), 'active') AS status,
    r.expires_at IS NULL AS has_no_expiry,
    r.source_file
FROM rows AS r
LEFT JOIN seen AS s ON s.access_key_id = r.credential_id
QUALIFY row_number() OVER (PARTITION BY r.identity_id, r.credential_id ORDER BY r.source_file, r.record_position) = 1
ORDER BY identity_id, credential_id
