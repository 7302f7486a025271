-- Credentials of every identity, with their ages as of the run.
SELECT identity_id, credential_id, credential_type, status, created_at::DATE AS created, last_rotated_at::DATE AS rotated,
       expires_at::DATE AS expires, last_used_at::DATE AS last_used,
       date_diff('day', $as_of::DATE, expires_at::DATE) AS days_to_expiry
FROM core.credentials
ORDER BY identity_id, credential_id
