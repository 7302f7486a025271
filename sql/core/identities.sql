-- Every identity: AWS principals from the authorization exports, and identities known only to the inventory
-- (tokens, certificates, other platforms). is_ai / ai_evidence: the first rule that matches wins, in the order
-- inventory flag, tag, AI service in the trust policy, name (rules in models/ai.py, passed in as ai_rules).
CREATE OR REPLACE TABLE core.identities AS
WITH principals AS (
    SELECT *
    FROM read_parquet($landing_dir || '/aws/principals.parquet')
    QUALIFY row_number() OVER (PARTITION BY principal_arn ORDER BY source_file) = 1
),
inventory AS (
    SELECT
        identity_id,
        any_value(name ORDER BY record_position) FILTER (WHERE name IS NOT NULL) AS name,
        any_value(kind) FILTER (WHERE kind IS NOT NULL) AS kind,
        any_value(provider) FILTER (WHERE provider IS NOT NULL) AS provider,
        any_value(owner) FILTER (WHERE owner IS NOT NULL) AS owner,
        any_value(team) FILTER (WHERE team IS NOT NULL) AS team,
        any_value(environment) FILTER (WHERE environment IS NOT NULL) AS environment,
        bool_or(lower(is_ai) IN ('true', 'yes', '1', 'y')) FILTER (WHERE is_ai IS NOT NULL) AS is_ai,
        any_value(agent_name) FILTER (WHERE agent_name IS NOT NULL) AS agent_name,
        list_sort(list_distinct(list(agent_name) FILTER (WHERE agent_name IS NOT NULL))) AS agent_names,
        any_value(description) FILTER (WHERE description IS NOT NULL) AS description,
        -- on a credential row the dates are the credential's; the identity's own are on rows without one
        min(TRY_CAST(created_at AS TIMESTAMPTZ)) FILTER (WHERE credential_id IS NULL) AS created_at,
        max(TRY_CAST(last_used_at AS TIMESTAMPTZ)) AS last_used_at
    FROM read_parquet($landing_dir || '/inventory/identities.parquet')
    GROUP BY identity_id
),
joined AS (
    SELECT
        coalesce(p.principal_arn, i.identity_id) AS identity_id,
        coalesce(i.provider, CASE WHEN p.principal_arn IS NOT NULL THEN 'aws' END,
                 nullif(split_part(i.identity_id, ':', 1), i.identity_id), 'unknown') AS provider,
        p.account,
        coalesce(p.name, i.name, nullif(regexp_extract(i.identity_id, '[^/:]+$'), ''), i.identity_id) AS name,
        coalesce(p.kind, i.kind, 'unknown') AS kind,
        p.path,
        p.principal_id,
        coalesce(p.tags, '{}')::JSON AS tags,
        p.trust_policy::JSON AS trust_policy,
        coalesce(p.description, i.description) AS description,
        p.permissions_boundary_arn,
        p.instance_profile_arns,
        i.owner,
        i.team,
        coalesce(i.environment, json_extract_string(p.tags, '$.environment'), json_extract_string(p.tags, '$.env')) AS environment,
        i.agent_name,
        coalesce(i.agent_names, []) AS agent_names,
        i.is_ai AS inventory_is_ai,
        coalesce(TRY_CAST(p.created_at AS TIMESTAMPTZ), i.created_at) AS created_at,
        greatest(TRY_CAST(p.last_used_at AS TIMESTAMPTZ), i.last_used_at) AS last_used_at,
        p.principal_arn IS NOT NULL AS is_in_authorization_export,
        i.identity_id IS NOT NULL AS is_in_inventory
    FROM principals AS p
    FULL OUTER JOIN inventory AS i ON i.identity_id = p.principal_arn
),
evidence AS (
    SELECT
        j.identity_id,
        CASE
            WHEN j.inventory_is_ai IS NOT NULL THEN 'inventory: is_ai=' || j.inventory_is_ai::VARCHAR
            WHEN tag.rule_value IS NOT NULL THEN 'tag: ' || tag.rule_value
            WHEN trust.rule_value IS NOT NULL THEN 'trust policy: ' || trust.rule_value
            WHEN name_rule.rule_value IS NOT NULL THEN 'name: matches ' || name_rule.rule_value
        END AS ai_evidence,
        coalesce(j.inventory_is_ai, tag.rule_value IS NOT NULL OR trust.rule_value IS NOT NULL OR name_rule.rule_value IS NOT NULL)
            AS is_ai
    FROM joined AS j
    LEFT JOIN LATERAL (
        SELECT min(r.rule_value) AS rule_value FROM ai_rules AS r
        WHERE r.rule_kind = 'tag'
          AND lower(json_extract_string(j.tags, '$."' || split_part(r.rule_value, '=', 1) || '"')) = split_part(r.rule_value, '=', 2)
    ) AS tag ON true
    LEFT JOIN LATERAL (
        SELECT min(r.rule_value) AS rule_value FROM ai_rules AS r
        WHERE r.rule_kind = 'service_principal' AND contains(lower(j.trust_policy::VARCHAR), '"' || r.rule_value || '"')
    ) AS trust ON true
    LEFT JOIN LATERAL (
        SELECT min(r.rule_value) AS rule_value FROM ai_rules AS r
        WHERE r.rule_kind = 'name_pattern' AND regexp_matches(lower(j.name), r.rule_value)
    ) AS name_rule ON true
)
SELECT j.* EXCLUDE (inventory_is_ai), e.is_ai, e.ai_evidence
FROM joined AS j
JOIN evidence AS e USING (identity_id)
ORDER BY identity_id
