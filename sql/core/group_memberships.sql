-- Users in groups; exports list a user's groups by name, resolved here to the group's ARN in the same account.
CREATE OR REPLACE TABLE core.group_memberships AS
SELECT DISTINCT
    m.user_arn,
    coalesce(g.principal_arn, 'arn:aws:iam::' || m.account || ':group/' || m.group_name) AS group_arn,
    m.group_name,
    g.principal_arn IS NOT NULL AS is_group_in_export
FROM read_parquet($landing_dir || '/aws/group_memberships.parquet') AS m
LEFT JOIN read_parquet($landing_dir || '/aws/principals.parquet') AS g
    ON g.kind = 'group' AND g.account = m.account AND g.name = m.group_name
ORDER BY ALL
