-- Inventory rows with the reason each one cannot be loaded (NULL when it can): required identity, real dates, a boolean is_ai.
SELECT
    *,
    CASE
        WHEN identity_id IS NULL THEN 'missing required field identity_id'
        WHEN created_at IS NOT NULL AND TRY_CAST(created_at AS TIMESTAMPTZ) IS NULL
            THEN 'bad date in created_at: ' || created_at
        WHEN last_rotated_at IS NOT NULL AND TRY_CAST(last_rotated_at AS TIMESTAMPTZ) IS NULL
            THEN 'bad date in last_rotated_at: ' || last_rotated_at
        WHEN expires_at IS NOT NULL AND TRY_CAST(expires_at AS TIMESTAMPTZ) IS NULL
            THEN 'bad date in expires_at: ' || expires_at
        WHEN last_used_at IS NOT NULL AND TRY_CAST(last_used_at AS TIMESTAMPTZ) IS NULL
            THEN 'bad date in last_used_at: ' || last_used_at
        WHEN is_ai IS NOT NULL AND lower(is_ai) NOT IN ('true', 'false', 'yes', 'no', '1', '0', 'y', 'n')
            THEN 'bad boolean in is_ai: ' || is_ai
    END AS reject_reason
FROM inventory_rows
