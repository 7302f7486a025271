-- For each used action granted on every resource ('*'): the resources it really touched in the window, and whether
-- those would let the grant be narrowed (the action supports resource-level scoping and resources were observed).
CREATE OR REPLACE TABLE marts.grant_scoping AS
SELECT
    u.identity_id,
    u.action,
    u.resources_touched AS observed_resources,
    len(u.resources_touched) AS observed_resource_count,
    c.supports_resource_scoping,
    c.supports_resource_scoping AND len(u.resources_touched) > 0 AS can_scope
FROM marts.identity_action_usage AS u
JOIN core.action_catalog AS c USING (action)
WHERE u.is_granted AND u.is_used AND u.is_granted_on_all_resources
ORDER BY identity_id, action
