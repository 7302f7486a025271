-- Contiguous runs of identities (by id) whose core.grants rows come to about $batch_rows each, as the first
-- identity of each run. Per-identity work over the grants, or over what follows them (the usage mart holds
-- about one row per granted action), reads one run at a time, so memory follows a run, not the organisation.
WITH sizes AS (
    SELECT identity_id, count(*) AS grant_rows
    FROM core.grants
    GROUP BY identity_id
),
numbered AS (
    SELECT identity_id, (sum(grant_rows) OVER (ORDER BY identity_id) - grant_rows) // $batch_rows AS run
    FROM sizes
)
SELECT min(identity_id) AS first_id
FROM numbered
GROUP BY run
ORDER BY run
