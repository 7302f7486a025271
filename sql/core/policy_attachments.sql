-- What each identity is granted through: its own managed and inline policies, its boundary, and (for users)
-- the managed and inline policies of its groups, marked via 'group:<group arn>'.
CREATE OR REPLACE TABLE core.policy_attachments AS
WITH direct AS (
    SELECT DISTINCT principal_arn AS identity_id, policy_id, via
    FROM read_parquet($landing_dir || '/aws/attachments.parquet')
)
SELECT identity_id, policy_id, via FROM direct
UNION
SELECT m.user_arn AS identity_id, d.policy_id, 'group:' || m.group_arn AS via
FROM core.group_memberships AS m
JOIN direct AS d ON d.identity_id = m.group_arn AND d.via IN ('managed', 'inline')
ORDER BY ALL
