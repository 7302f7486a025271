-- The day's successful moves between identities: roles assumed (sts:AssumeRole*) and roles handed to a service
-- (a role ARN in the request: Lambda's role, ECS task roles, Glue / SageMaker / CodeBuild service roles).
WITH named AS (
    SELECT
        event_day,
        identity_id,
        event_source,
        event_name,
        CASE
            WHEN event_source = 'sts.amazonaws.com' AND event_name LIKE 'AssumeRole%'
                THEN json_extract_string(request_parameters, '$.roleArn')
        END AS assumed_role_arn,
        -- most requests name no role: the regular expression runs only on those that hold ':role/'
        CASE WHEN contains(request_parameters::VARCHAR, ':role/') THEN regexp_extract_all(
            request_parameters::VARCHAR,
            '"(?:role|roleArn|RoleArn|executionRoleArn|taskRoleArn|serviceRole|ExecutionRoleArn|iamRoleArn)"\s*:\s*"(arn:aws[a-z-]*:iam::[0-9]+:role/[^"]+)"',
            1
        ) ELSE [] END AS passed_role_arns,
        CASE WHEN event_source = 'lambda.amazonaws.com'
             THEN json_extract_string(request_parameters, '$.functionName') END AS function_name,
        aws_region,
        account
    FROM day_events
    WHERE is_success AND identity_id IS NOT NULL
),
moves AS (
    -- a row per role moved to: the assumed role, else each role named in the request (an unnest in the select
    -- list of the few rows that name one; a lateral join over every row cost 8x the rest of the query)
    SELECT
        event_day,
        identity_id,
        event_source,
        event_name,
        CASE WHEN assumed_role_arn IS NOT NULL THEN 'assumed' ELSE 'passed' END AS move,
        unnest(CASE WHEN assumed_role_arn IS NOT NULL THEN [assumed_role_arn] ELSE passed_role_arns END) AS role_arn,
        CASE WHEN event_source = 'lambda.amazonaws.com' AND function_name IS NOT NULL
             THEN 'arn:aws:lambda:' || aws_region || ':' || account || ':function:' || function_name END AS workload_arn
    FROM named
    WHERE assumed_role_arn IS NOT NULL OR len(passed_role_arns) > 0
)
SELECT
    event_day AS day,
    identity_id,
    event_source,
    event_name,
    move,
    role_arn,
    workload_arn,
    count(*) AS event_count
FROM moves
GROUP BY ALL
