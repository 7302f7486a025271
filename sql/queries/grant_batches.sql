-- Contiguous runs of identities (by id) whose grants come to about $batch_rows rows each: the graph's
-- summary of core.grants is built a run at a time, so memory follows a run, not the organisation.
WITH sizes AS (
    SELECT identity_id, count(*) AS grant_rows
    FROM core.grants
    GROUP BY identity_id
),
numbered AS (
    SELECT identity_id, (sum(grant_rows) OVER (ORDER BY identity_id) - grant_rows) // $batch_rows AS batch
    FROM sizes
)
SELECT min(identity_id) AS first_id, max(identity_id) AS last_id
FROM numbered
GROUP BY batch
ORDER BY batch
