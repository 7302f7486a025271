-- The identities as the permission graph reads them.
SELECT identity_id, kind, account, name, is_ai, environment, trust_policy::VARCHAR AS trust_policy, instance_profile_arns
FROM core.identities
ORDER BY identity_id
