-- Every rejected record: the file, where in it, why, and a short excerpt.
CREATE OR REPLACE TABLE ops.quarantine AS
SELECT source_file, format, record_position, reason, excerpt
FROM read_parquet($landing_dir || '/_ledger/quarantine/*.parquet', union_by_name = true)
ORDER BY source_file, record_position
