-- Policies by id: managed policies (their default version's document) and inline policies (id "<principal arn>#inline/<name>").
CREATE OR REPLACE TABLE core.policies AS
SELECT
    policy_id,
    name,
    policy_kind,
    account,
    is_aws_managed,
    default_version_id,
    document::JSON AS document,
    TRY_CAST(created_at AS TIMESTAMPTZ) AS created_at,
    TRY_CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
    source_file
FROM read_parquet($landing_dir || '/aws/policies.parquet')
QUALIFY row_number() OVER (PARTITION BY policy_id ORDER BY source_file) = 1
ORDER BY policy_id
