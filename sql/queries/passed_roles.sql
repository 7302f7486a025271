-- Roles each identity really handed to a service in the window (to narrow iam:PassRole to them).
SELECT DISTINCT identity_id, role_arn
FROM core.delegation_usage_daily
WHERE move = 'passed' AND day BETWEEN $as_of::DATE - ($window_days - 1) AND $as_of::DATE
ORDER BY ALL
