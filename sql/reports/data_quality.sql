-- What the figures rest on: the window, how much of it was observed, what could not be read or mapped.
SELECT
    $window_days AS window_days,
    $as_of::DATE - ($window_days - 1) AS window_start,
    $as_of::DATE AS window_end,
    (SELECT round(avg(window_coverage), 3) FROM marts.identity_privilege WHERE granted_actions > 0) AS mean_window_coverage,
    (SELECT count(*) FROM marts.identity_privilege WHERE granted_actions > 0 AND observed_days < window_days)
        AS identities_observed_less_than_window,
    (SELECT count(*) FROM ops.load_log WHERE status <> 'skipped') AS files_read,
    (SELECT count(*) FROM ops.load_log WHERE status = 'skipped') AS files_skipped,
    (SELECT coalesce(sum(records_read), 0) FROM ops.load_log) AS records_read,
    (SELECT count(*) FROM ops.quarantine) AS records_quarantined,
    (SELECT coalesce(sum(records_duplicate), 0) FROM ops.load_log) AS duplicate_deliveries,
    (SELECT coalesce(sum(events), 0) FROM marts.unmapped_events WHERE mapping = 'unmapped') AS unmapped_events,
    (SELECT coalesce(sum(events), 0) FROM marts.unmapped_events WHERE mapping <> 'unmapped') AS events_needing_no_permission,
    (SELECT count(*) FROM marts.policy_replay_denials) AS replay_denials
