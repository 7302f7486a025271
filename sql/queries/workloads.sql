-- Workloads known to run as a role: Lambda functions created or updated with a role in any event seen.
SELECT workload_arn AS resource_arn, arg_max(role_arn, day) AS role_arn, 'lambda' AS kind
FROM core.delegation_usage_daily
WHERE workload_arn IS NOT NULL
GROUP BY workload_arn
ORDER BY ALL
