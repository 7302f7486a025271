-- The landed records of the days being rebuilt (day_landing) whose event_id occurs more than once: CloudTrail may
-- deliver an event twice. copy_number 1 is the copy kept (first by source file, then position), later copies are
-- counted as duplicates. pipelines/sources/events.py keeps this small table (copies are rare): a day with none
-- keeps its landed Parquet as it is; the others are written by sql/core/access_events_day.sql.
SELECT event_day, event_id, source_file, record_position, copy_number
FROM (
    SELECT
        event_day,
        event_id,
        source_file,
        record_position,
        count(*) OVER (PARTITION BY event_id) AS copies,
        row_number() OVER (PARTITION BY event_id ORDER BY source_file, record_position) AS copy_number
    FROM day_landing
    -- the IDs' hashes grouped, not the IDs themselves (a quarter less work): a hash two IDs share only makes
    -- both candidates, and the window above counts by ID
    WHERE hash(event_id) IN (SELECT hash(event_id) FROM day_landing GROUP BY ALL HAVING count(*) > 1)
)
WHERE copies > 1
