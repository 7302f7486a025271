"""How Overreach recognises an AI identity: rules as data, evaluated in order, first match wins.

1. the inventory's ``is_ai`` column, when set (true or false), is the owner's word and wins;
2. a tag from ``AI_TAGS`` on the principal (key=value, value compared case-insensitively);
3. a trust policy that lets an AI service assume the role (``AI_SERVICE_PRINCIPALS``);
4. a name token from ``AI_NAME_PATTERNS`` (``support-agent``, ``reporting-bot``).
"""

from __future__ import annotations

import polars as pl

AI_TAGS = ("ai-agent=true", "workload-type=ai-agent")

AI_SERVICE_PRINCIPALS = (
    "bedrock.amazonaws.com",
    "bedrock-agentcore.amazonaws.com",
    "sagemaker.amazonaws.com",
    "q.amazonaws.com",
    "qbusiness.amazonaws.com",
    "lex.amazonaws.com",
)

# Whole tokens of a name split on - _ . / and camel case are not split: "robot" must not match "bot".
_TOKENS = ("ai", "agent", "agents", "bot", "bots", "llm", "gpt", "copilot", "assistant", "genai", "chatbot", "rag")
AI_NAME_PATTERNS = tuple(rf"(^|[-_./:@]){token}($|[-_./:@0-9])" for token in _TOKENS)


def ai_rules_frame() -> pl.DataFrame:
    """The rules as a table ``rule_kind, rule_value`` for the identities SQL."""
    rows = (
        [("tag", t) for t in AI_TAGS]
        + [("service_principal", p) for p in AI_SERVICE_PRINCIPALS]
        + [("name_pattern", p) for p in AI_NAME_PATTERNS]
    )
    return pl.DataFrame(rows, schema={"rule_kind": pl.String, "rule_value": pl.String}, orient="row")
