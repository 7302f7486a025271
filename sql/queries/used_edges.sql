-- Moves seen in the window: roles assumed and roles passed to services, as (source, target) for the graph.
SELECT DISTINCT identity_id AS source_id, role_arn AS target_id, NULL::VARCHAR AS edge_type
FROM core.delegation_usage_daily
WHERE day BETWEEN $as_of::DATE - ($window_days - 1) AND $as_of::DATE
ORDER BY ALL
