-- Quarantined records grouped by file and reason, for the data-quality footer.
SELECT source_file, reason, count(*) AS records
FROM ops.quarantine
GROUP BY ALL
ORDER BY records DESC, source_file, reason
