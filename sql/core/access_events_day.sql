-- The events a rebuilt day keeps when it cannot take its landed Parquet as it is: the landed records of the
-- batch's days (day_landing, already attributed at landing), less the later copies of an event (day_copies, from
-- sql/core/event_copies.sql). pipelines/sources/events.py writes these rows to the day's file.
SELECT day_landing.*
FROM day_landing
ANTI JOIN (SELECT event_id, source_file, record_position FROM day_copies WHERE copy_number > 1) AS later_copies
    USING (event_id, source_file, record_position)
