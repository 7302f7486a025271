-- The run's headline figures.
SELECT
    (SELECT count(*) FROM core.identities) AS identities,
    (SELECT count(*) FROM core.identities WHERE is_ai) AS ai_identities,
    (SELECT count(*) FROM core.identities WHERE is_ai AND owner IS NULL) AS ai_identities_without_owner,
    (SELECT coalesce(sum(events), 0) FROM ops.event_days) AS events,
    (SELECT coalesce(sum(event_count), 0) FROM core.usage_daily WHERE NOT is_success) AS denied_or_failed_events,
    (SELECT count(*) FROM core.credentials) AS credentials,
    (SELECT count(*) FROM core.credentials
      WHERE expires_at IS NOT NULL AND expires_at < $as_of::DATE + INTERVAL 30 DAY) AS credentials_expired_or_expiring,
    (SELECT coalesce(sum(records_read), 0) FROM ops.load_log) AS records_read,
    (SELECT count(*) FROM ops.quarantine) AS records_quarantined,
    (SELECT count(*) FROM ops.load_log WHERE status = 'skipped') AS files_skipped,
    (SELECT count(*) FROM ops.load_log WHERE status <> 'skipped') AS files_read
