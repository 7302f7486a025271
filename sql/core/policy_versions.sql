-- Every stored version of each managed policy; only the default one grants anything today.
CREATE OR REPLACE TABLE core.policy_versions AS
SELECT policy_id, version_id, is_default, document::JSON AS document, TRY_CAST(created_at AS TIMESTAMPTZ) AS created_at
FROM read_parquet($landing_dir || '/aws/policy_versions.parquet')
QUALIFY row_number() OVER (PARTITION BY policy_id, version_id ORDER BY source_file) = 1
ORDER BY policy_id, version_id
