"""Wildcard semantics of action names and resource ARNs."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from models.iam.patterns import (
    ResourceScope,
    action_matches,
    resource_matches,
    resource_pattern_covers,
    resource_patterns_overlap,
    scope_covers,
    scope_overlaps,
)


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("S3:GETOBJECT", "s3:GetObject", True),
        ("s3:get*tagging", "s3:GetObjectTagging", True),
        ("s3:Get*Tagging", "s3:GetObject", False),
        ("iam:?etUser", "iam:GetUser", True),
        ("iam:?etUser", "iam:GetUsers", False),
        ("iam:*Policy*", "iam:AttachRolePolicy", True),
        ("*:Get*", "ec2:GetConsoleOutput", True),
        ("*:Get*", "ec2:DescribeInstances", False),
        ("*", "lambda:InvokeFunction", True),
        ("s3:*", "s3-object-lambda:GetObject", False),
        ("s3*", "s3-object-lambda:GetObject", True),
        ("s3:GetObject", "s3:GetObjectAcl", False),
    ],
)
def test_action_matches(pattern, action, expected):
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        ("*", "arn:aws:s3:::data/reports/q1.csv", True),
        ("arn:aws:s3:::data/*", "arn:aws:s3:::data/reports/q1.csv", True),
        ("arn:aws:s3:::data/*", "arn:aws:s3:::data", False),
        ("arn:aws:s3:::data/*", "arn:aws:s3:::DATA/x", False),  # case-sensitive
        ("arn:aws:s3:::data/*", "arn:aws:s3:::data/a:b", True),  # the resource segment may hold colons
        ("arn:aws:iam::*:role/agent", "arn:aws:iam::111122223333:role/agent", True),
        ("arn:aws:iam::*:role/agent", "arn:aws:iam::111122223333:role/agent-2", False),
        ("arn:aws:iam::111122223333:role/agent-?", "arn:aws:iam::111122223333:role/agent-2", True),
        ("arn:aws:ec2:*", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", True),  # trailing * spans colons
        ("arn:aws:ec2:us-*-1:*:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", True),
        ("arn:aws:e*2:us-east-1:1:x", "arn:aws:e:c2:us-east-1:1:x", False),  # mid-segment * stays in its segment
        ("arn:aws:e?c2:us-east-1:1:x", "arn:aws:e:c2:us-east-1:1:x", False),
        ("arn:aws:s3:::data/${aws:username}/*", "arn:aws:s3:::data/alice/notes", True),  # a variable may be anything
        ("arn:aws:s3:::data/${*}", "arn:aws:s3:::data/*", True),  # escape: a literal star
        ("arn:aws:s3:::data/${*}", "arn:aws:s3:::data/x", False),
    ],
)
def test_resource_matches(pattern, arn, expected):
    assert resource_matches(pattern, arn) is expected


@pytest.mark.parametrize(
    ("general", "specific", "expected"),
    [
        ("*", "arn:aws:s3:::data/*", True),
        ("arn:aws:s3:::data/*", "*", False),
        ("arn:aws:s3:::*", "arn:aws:s3:::data/private/*", True),
        ("arn:aws:s3:::data/*", "arn:aws:s3:::data/private/*", True),
        ("arn:aws:s3:::data/private/*", "arn:aws:s3:::data/*", False),
        ("arn:aws:s3:::data/?", "arn:aws:s3:::data/*", False),
        ("arn:aws:s3:::data/*", "arn:aws:s3:::data/?", True),
        ("arn:aws:iam::*:role/*", "arn:aws:iam::111122223333:role/agent", True),
        ("arn:aws:iam::1*:role/x", "arn:aws:iam::*:role/x", False),
        ("arn:aws:s3:::data/${aws:username}", "arn:aws:s3:::data/alice", False),  # unknown value covers nothing
        ("arn:aws:s3:::data/*", "arn:aws:s3:::data/${aws:username}", True),
    ],
)
def test_resource_pattern_covers(general, specific, expected):
    assert resource_pattern_covers(general, specific) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("arn:aws:s3:::data/*", "arn:aws:s3:::logs/*", False),
        ("arn:aws:s3:::data/*", "arn:aws:s3:::*/reports/*", True),
        ("arn:aws:s3:::data/a?", "arn:aws:s3:::data/*b", True),
        ("arn:aws:s3:::data/a?", "arn:aws:s3:::data/bb", False),
        ("*", "arn:aws:s3:::data", True),
        ("arn:aws:iam::111122223333:role/x", "arn:aws:iam::444455556666:role/x", False),
    ],
)
def test_resource_patterns_overlap(a, b, expected):
    assert resource_patterns_overlap(a, b) is expected
    assert resource_patterns_overlap(b, a) is expected


def scope(*patterns: str, negated: bool = False) -> ResourceScope:
    return ResourceScope(patterns=patterns, is_not_resource=negated)


def test_scope_covers_and_overlaps_with_not_resource():
    outside_secrets = scope("arn:aws:s3:::data/secret/*", "arn:aws:s3:::data/hr/*", negated=True)
    assert scope_covers(scope("*"), outside_secrets)
    assert not scope_covers(scope("arn:aws:s3:::*"), outside_secrets)
    assert scope_covers(outside_secrets, scope("arn:aws:s3:::data/public/*"))
    assert not scope_covers(outside_secrets, scope("arn:aws:s3:::data/*"))
    assert not scope_overlaps(outside_secrets, scope("arn:aws:s3:::data/secret/keys/*"))
    assert scope_overlaps(outside_secrets, scope("arn:aws:s3:::data/*"))
    fewer_exclusions = scope("arn:aws:s3:::data/secret/*", negated=True)
    assert scope_covers(fewer_exclusions, outside_secrets)
    assert not scope_covers(outside_secrets, fewer_exclusions)


# --- properties: pattern comparisons agree with matching on concrete ARNs ------

_SEGMENT_CHARS = st.sampled_from(list("ab/-:"))
_PATTERN_CHARS = st.sampled_from(list("ab/-:*?"))


def _arn(tail: str) -> str:
    # The tail spans region, account and resource, so colons in it move wildcards between segments.
    return f"arn:aws:s3:{tail}"


def _instances(pattern: str, draw) -> str:
    """A concrete tail made from ``pattern`` by filling each wildcard with random text."""
    filler = {"*": st.text(_SEGMENT_CHARS, max_size=3), "?": st.text(_SEGMENT_CHARS, min_size=1, max_size=1)}
    return "".join(draw(filler[c]) if c in filler else c for c in pattern)


def _variant(pattern: str, draw) -> str:
    """``pattern`` with some characters swapped for wildcards (or wildcards for characters)."""
    return "".join(draw(st.sampled_from([c, c, "*", "?"])) for c in pattern)


@settings(max_examples=400, deadline=None)
@given(specific=st.text(_PATTERN_CHARS, max_size=8), data=st.data())
def test_covers_is_sound(specific, data):
    """Whenever ``covers`` says yes, every ARN the specific pattern matches, the general one matches."""
    general = _variant(specific, data.draw)
    assume(resource_pattern_covers(_arn(general), _arn(specific)))
    arn = _arn(_instances(specific, data.draw))
    assume(resource_matches(_arn(specific), arn))
    assert resource_matches(_arn(general), arn)


@settings(max_examples=400, deadline=None)
@given(pattern=st.text(_PATTERN_CHARS, max_size=8), data=st.data())
def test_covers_holds_against_generalisations(pattern, data):
    """Replacing literal characters of the resource segment by ``*`` / ``?`` yields a covering pattern."""
    arn = _arn(f"::{pattern}")
    general = "".join(data.draw(st.sampled_from([c, "*"])) if c not in "*?:" else c for c in arn[len("arn:aws:s3:::"):])
    assert resource_pattern_covers(f"arn:aws:s3:::{general}", arn)


@settings(max_examples=400, deadline=None)
@given(a=st.text(_PATTERN_CHARS, max_size=8), data=st.data())
def test_overlap_never_misses_a_shared_arn(a, data):
    """An ARN made from ``a``, then generalised into ``b``, is matched by both: they must overlap."""
    tail = _instances(a, data.draw)
    b = _variant(tail, data.draw)
    arn = _arn(tail)
    assume(resource_matches(_arn(a), arn) and resource_matches(_arn(b), arn))
    assert resource_patterns_overlap(_arn(a), _arn(b))
    assert resource_patterns_overlap(_arn(b), _arn(a))


@settings(max_examples=200, deadline=None)
@given(pattern=st.text(_PATTERN_CHARS, max_size=8))
def test_a_pattern_covers_itself_and_star_covers_it(pattern):
    assert resource_pattern_covers(_arn(pattern), _arn(pattern))
    assert resource_pattern_covers("*", _arn(pattern))
