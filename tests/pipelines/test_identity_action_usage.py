"""``marts.identity_action_usage``: a granted action's resource patterns, whether it is granted on every
resource and whether only under conditions, from one grant row or several."""

from datetime import date

import duckdb

from pipelines.sql import ensure_schemas, run_sql

AS_OF = date(2026, 11, 27)
BOT = "arn:aws:iam::111122223333:role/triage-bot"

TABLES = {
    "core.event_actions": "event_source VARCHAR, event_name VARCHAR, event_type VARCHAR, action VARCHAR, "
                          "additional_actions VARCHAR[]",
    "core.usage_daily": "day DATE, identity_id VARCHAR, event_source VARCHAR, event_name VARCHAR, event_type VARCHAR, "
                        "is_success BOOLEAN, event_count BIGINT, last_time TIMESTAMPTZ",
    "core.resource_usage_daily": "day DATE, identity_id VARCHAR, event_source VARCHAR, event_name VARCHAR, "
                                 "event_type VARCHAR, resource_arn VARCHAR",
    "core.grants": "identity_id VARCHAR, action VARCHAR, service VARCHAR, access_level VARCHAR, "
                   "resource_pattern VARCHAR, is_not_resource BOOLEAN, effect VARCHAR, is_conditional BOOLEAN",
    "core.inferred_usage": "identity_id VARCHAR, action VARCHAR",
    "core.action_catalog": "action VARCHAR, service VARCHAR, access_level VARCHAR",
    "core.action_observability": "action VARCHAR, is_observable BOOLEAN, observability VARCHAR, "
                                 "observability_reason VARCHAR",
}


def granted_of(grants: list[tuple]) -> list[tuple]:
    con = duckdb.connect()
    ensure_schemas(con)
    for table, columns in TABLES.items():
        con.execute(f"CREATE TABLE {table} ({columns})")
    con.executemany("INSERT INTO core.grants VALUES (?, ?, 's3', 'Write', ?, ?, ?, ?)",
                    [(BOT, action, pattern, not_resource, effect, conditional)
                     for action, pattern, not_resource, effect, conditional in grants])
    run_sql(con, "marts/identity_action_usage", as_of=AS_OF, window_days=90)
    return con.execute("SELECT action, resource_patterns, is_granted_on_all_resources, is_conditional, is_granted "
                       "FROM marts.identity_action_usage ORDER BY action").fetchall()


def test_granted_actions_from_one_grant_row_and_from_several_agree():
    rows = granted_of([
        ("s3:GetObject", "arn:aws:s3:::a/*", False, "Allow", True),
        ("s3:PutObject", "arn:aws:s3:::b/*", False, "Allow", True),
        ("s3:PutObject", "*", False, "Allow", False),
        ("s3:PutObject", "arn:aws:s3:::b/*", False, "Allow", True),
        ("s3:DeleteObject", "arn:aws:s3:::c/*", True, "Allow", False),
        ("s3:ListBucket", "arn:aws:s3:::c", True, "Allow", False),
        ("s3:ListBucket", "arn:aws:s3:::d", True, "Allow", False),
        ("s3:ListBucket", "arn:aws:s3:::e", False, "Deny", False),
        ("s3:GetBucketPolicy", None, False, "Allow", False),
        ("s3:DeleteBucket", "*", False, "Deny", False),
    ])
    assert rows == [
        ("s3:DeleteObject", None, False, False, True),  # NotResource only: no pattern to list
        ("s3:GetBucketPolicy", [], False, False, True),
        ("s3:GetObject", ["arn:aws:s3:::a/*"], False, True, True),
        ("s3:ListBucket", None, False, False, True),
        ("s3:PutObject", ["*", "arn:aws:s3:::b/*"], True, False, True),
    ]
