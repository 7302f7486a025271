-- Granted vs used by service for every identity that gets a section.
SELECT identity_id, service, granted_actions, used_actions, used_not_granted_actions, last_used
FROM marts.identity_service_usage
WHERE is_granted OR used_not_granted_actions > 0
ORDER BY identity_id, used_actions DESC, granted_actions DESC, service
