-- Each credential's age since rotation and time to expiry, in days as of the run.
SELECT
    identity_id,
    credential_id,
    credential_type,
    date_diff('day', coalesce(last_rotated_at, created_at)::DATE, $as_of::DATE) AS days_since_rotation,
    date_diff('day', $as_of::DATE, expires_at::DATE) AS days_to_expiry,
    has_no_expiry,
    status
FROM core.credentials
ORDER BY ALL
