-- Like IAM Access Advisor: per identity and granted service, when it was last used in the window and how much.
CREATE OR REPLACE TABLE marts.identity_service_usage AS
SELECT
    identity_id,
    service,
    count(*) FILTER (WHERE is_granted) AS granted_actions,
    count(*) FILTER (WHERE is_granted AND (is_used OR is_used_inferred)) AS used_actions,
    count(*) FILTER (WHERE is_used AND NOT is_granted) AS used_not_granted_actions,
    max(last_used) AS last_used,
    sum(event_count) AS event_count,
    bool_or(is_granted) AS is_granted,
    bool_or(is_used OR is_used_inferred) AS is_used
FROM marts.identity_action_usage
GROUP BY ALL
ORDER BY identity_id, service
