-- What each input file gave: format, records read, loaded, quarantined (read = loaded + quarantined), and
-- for CloudTrail how many loaded records were copies of an event already delivered in another file.
CREATE OR REPLACE TABLE ops.load_log AS
WITH ledger AS (
    SELECT * FROM read_parquet($landing_dir || '/_ledger/load_log/*.parquet', union_by_name = true)
),
duplicates AS (
    SELECT source_file, count(*) AS records_duplicate
    FROM (
        SELECT source_file, row_number() OVER (PARTITION BY event_id ORDER BY source_file, record_position) AS copy
        FROM read_parquet($landing_dir || '/cloudtrail/**/*.parquet', hive_partitioning = true, union_by_name = true)
    )
    WHERE copy > 1
    GROUP BY ALL
)
SELECT
    l.source_file,
    l.format,
    l.status,
    l.records_read,
    l.records_loaded,
    l.records_quarantined,
    coalesce(d.records_duplicate, 0) AS records_duplicate,
    l.reason,
    l.file_size_bytes,
    l.file_sha256
FROM ledger AS l
LEFT JOIN duplicates AS d USING (source_file)
ORDER BY l.source_file
