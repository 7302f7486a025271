"""Capabilities built from grant rows: identities holding the same scopes share their answers, and sharing
never changes an answer."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from models.graph.capabilities import Access, Capabilities, Scope, build_capabilities

ACTION = "sts:AssumeRole"
PATTERNS = ["*", "arn:aws:iam::111111111111:role/*", "arn:aws:iam::111111111111:role/app-*",
            "arn:aws:iam::222222222222:role/ops"]
ARNS = ["arn:aws:iam::111111111111:role/app-a", "arn:aws:iam::111111111111:role/ops",
        "arn:aws:iam::222222222222:role/ops", "arn:aws:iam::222222222222:role/app-b"]

statements = st.tuples(st.sampled_from(["Allow", "Deny"]), st.lists(st.sampled_from(PATTERNS), min_size=1,
                       max_size=2, unique=True), st.booleans(), st.booleans())


def grant_rows(statements_by_identity: list[list[tuple]]) -> pl.DataFrame:
    rows = [
        (f"identity-{i}", ACTION, effect, f"policy-{n}", n, "", is_not_resource, is_conditional, pattern)
        for i, held in enumerate(statements_by_identity)
        for n, (effect, patterns, is_not_resource, is_conditional) in enumerate(held)
        for pattern in patterns
    ]
    return pl.DataFrame(rows, orient="row", schema=["identity_id", "action", "effect", "policy_id", "statement_index",
                                                    "via", "is_not_resource", "is_conditional", "resource_pattern"])


def unshared(held: list[tuple]) -> Capabilities:
    """The same identity's capabilities made on their own, nothing shared with anyone."""
    def scopes(effect):
        return tuple(Scope(tuple(sorted(p)), nr, c) for e, p, nr, c in held if e == effect)
    allows, denies = scopes("Allow"), scopes("Deny")
    return Capabilities(allows={"sts:assumerole": allows} if allows else {},
                        denies={"sts:assumerole": denies} if denies else {})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(statements, min_size=1, max_size=3), min_size=1, max_size=6),
       st.lists(st.tuples(st.integers(0, 5), st.sampled_from(ARNS)), max_size=40))
def test_shared_answers_are_each_identitys_own(statements_by_identity, questions):
    built = build_capabilities(grant_rows(statements_by_identity), [ACTION])
    for number, arn in questions:
        if number < len(statements_by_identity):
            identity = f"identity-{number}"
            expected = unshared(statements_by_identity[number]).on(ACTION, arn)
            assert built.get(identity, Capabilities()).on(ACTION, arn) == expected


def test_two_holders_of_one_policy_share_answers_and_a_deny_beside_it_does_not():
    allow = ("Allow", [PATTERNS[2]], False, False)
    deny = ("Deny", [PATTERNS[2]], False, True)
    built = build_capabilities(grant_rows([[allow], [allow], [allow, deny]]), [ACTION])
    first, second, denied = (built[f"identity-{i}"] for i in range(3))
    assert first.on(ACTION, ARNS[0]) == Access.ALLOWED
    assert second._answers["sts:assumerole"] is first._answers["sts:assumerole"]
    assert second._answers["sts:assumerole"] == {ARNS[0]: Access.ALLOWED}
    assert denied._answers["sts:assumerole"] is not first._answers["sts:assumerole"]
    assert denied.on(ACTION, ARNS[0]) == Access.CONDITIONAL
    assert first.on(ACTION, ARNS[1]) == Access.NONE


# Patterns whose literal text ends early (an account wildcard, a ``?``, a variable, an escape) or never.
SLICED_PATTERNS = PATTERNS + ["arn:aws:iam::*:role/ops", "arn:aws:iam::11111111111?:role/app-a",
                              "arn:aws:iam::111111111111:role/${aws:username}",
                              "arn:aws:iam::111111111111:role/app${*}", "arn:aws:iam::222222222222:role/app-b",
                              "arn:aws:s3:::bucket/*"]
SLICED_ARNS = sorted(ARNS + ["arn:aws:iam::111111111111:role/app*", "arn:aws:iam::111111111111:role/app-ab",
                             "arn:aws:iam::111111111112:role/app-a"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Allow", "Deny"]), st.lists(st.sampled_from(SLICED_PATTERNS), min_size=1,
                                                                       max_size=3, unique=True),
                          st.booleans(), st.booleans()), min_size=1, max_size=4))
def test_allowed_among_a_sorted_list_is_every_arn_asked_on_its_own(held):
    asked_alone = unshared(held)
    expected = {arn: asked_alone.on(ACTION, arn) for arn in SLICED_ARNS if asked_alone.on(ACTION, arn) != Access.NONE}
    among = unshared(held).allowed_among(ACTION, SLICED_ARNS)
    assert among == expected
    assert list(among) == [arn for arn in SLICED_ARNS if arn in expected]


def test_allowed_among_asks_only_about_the_slices_its_patterns_name():
    caps = Capabilities(allows={"sts:assumerole": (Scope(("arn:aws:iam::111111111111:role/app-*",), False, True),)})
    assert caps.allowed_among(ACTION, SLICED_ARNS) == {"arn:aws:iam::111111111111:role/app-a": Access.CONDITIONAL,
                                                       "arn:aws:iam::111111111111:role/app-ab": Access.CONDITIONAL}
    assert set(caps._answers["sts:assumerole"]) == {"arn:aws:iam::111111111111:role/app-a",
                                                    "arn:aws:iam::111111111111:role/app-ab"}
