-- What each input file gave: format, records read, loaded, quarantined (read = loaded + quarantined), and
-- for CloudTrail how many loaded records were copies of an event already delivered in another file.
CREATE OR REPLACE TABLE ops.load_log AS
WITH ledger AS (
    SELECT * FROM read_parquet($landing_dir || '/_ledger/load_log/*.parquet', union_by_name = true)
),
duplicates AS (
    SELECT source_key, sum(duplicates) AS records_duplicate
    FROM ops.event_day_files
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
LEFT JOIN duplicates AS d ON d.source_key = left(l.file_sha256, 20)
ORDER BY l.source_file
