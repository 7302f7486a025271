"""Wildcard semantics of IAM action names and resource ARNs.

Action patterns (``Action`` / ``NotAction``) are matched against the whole
``service:Name`` string, case-insensitively; ``*`` matches any run of
characters (also across the colon, so ``*:Get*`` and ``*`` work) and ``?``
exactly one.

Resource patterns (``Resource`` / ``NotResource``) are matched against ARNs
case-sensitively, following the IAM user guide ("Using wildcards in resource
ARNs"): wildcards work within the colon-separated segments of an ARN; a ``*``
that is the last character of a segment may also match beyond the colon
boundary; in the resource segment (everything after the fifth colon) ``*``
matches anything, ``/`` and ``:`` included. So ``*`` matches every ARN,
``arn:aws:s3:::bucket/*`` every object of the bucket, and
``arn:aws:iam::*:role/x`` the role ``x`` in any account.

Policy variables (``${aws:username}``) are not substituted: when matching an
ARN a variable is an unknown value that may be any text within its segment;
when comparing two patterns a variable only equals the same variable. The
escapes ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters.

Pattern-to-pattern comparisons (``resource_pattern_covers``,
``resource_patterns_overlap``) err on the safe side for an analyst who must
not under-report privilege: ``covers`` may answer False for a pair where
coverage holds in a contrived way (``?*`` against ``*?``), never True where it
does not; ``overlap`` may answer True for disjoint patterns, never False for
overlapping ones.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache, lru_cache

# Resource ARNs: arn:partition:service:region:account:resource. Segments
# before this index are colon-free; the resource segment is not.
_RESOURCE_SEGMENT_INDEX = 5

_ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}
_VARIABLE = re.compile(r"\$\{[^}]*\}")


_WILDCARDS = re.compile(r"([*?])")


def _glob_regex(pattern: str, *, star: str = ".*", one: str = ".") -> str:
    """A ``*`` / ``?`` glob as a regex body, everything else literal."""
    parts = _WILDCARDS.split(pattern)
    return "".join(star if p == "*" else one if p == "?" else re.escape(p) for p in parts if p)


@lru_cache(maxsize=65536)
def _action_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(_glob_regex(pattern), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an ``Action`` pattern (``s3:Get*Tagging``, ``*``) matches an action name.

    Case-insensitive; ``*`` and ``?`` may appear anywhere, service prefix included.
    """
    return _action_regex(pattern).fullmatch(action) is not None


def action_pattern_regex(pattern: str) -> str:
    """The regex body (for a lowercased, one-action-per-line haystack) of an action pattern.

    ``*`` and ``?`` never cross a newline, so the body can be searched with
    ``re.MULTILINE`` over many actions joined by ``\\n`` at once.
    """
    return _glob_regex(pattern.lower(), star="[^\n]*", one="[^\n]")


# --- resource patterns -----------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """One unit of a resource pattern.

    kind: ``lit`` (one literal character), ``one`` (``?``), ``star`` (``*``)
        or ``var`` (a policy variable, an unknown run of characters).
    text: the literal character, or the variable's text.
    is_colon_free: whether the token can only stand for colon-free text (a
        wildcard inside an ARN segment before the resource segment, not at
        the segment's end; every policy variable).
    """

    kind: str
    text: str = ""
    is_colon_free: bool = False

    @property
    def is_single(self) -> bool:
        return self.kind in ("lit", "one")

    @property
    def is_run(self) -> bool:
        return self.kind in ("star", "var")


def _raw_tokens(pattern: str) -> list[tuple[str, str]]:
    """Split a pattern into (kind, text) without segment information."""
    raw: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        escape = next((e for e in _ESCAPES if pattern.startswith(e, i)), None)
        if escape:
            raw.append(("lit", _ESCAPES[escape]))
            i += len(escape)
            continue
        variable = _VARIABLE.match(pattern, i)
        if variable:
            raw.append(("var", variable.group()))
            i = variable.end()
            continue
        c = pattern[i]
        raw.append(("star", c) if c == "*" else ("one", c) if c == "?" else ("lit", c))
        i += 1
    return raw


@lru_cache(maxsize=65536)
def _resource_tokens(pattern: str) -> tuple[_Token, ...]:
    raw = _raw_tokens(pattern)
    tokens: list[_Token] = []
    segment = 0
    for index, (kind, text) in enumerate(raw):
        in_arn_prefix = segment < _RESOURCE_SEGMENT_INDEX
        if kind == "lit":
            tokens.append(_Token("lit", text))
            if text == ":":
                segment += 1
        elif kind == "var":
            tokens.append(_Token("var", text, is_colon_free=True))
        elif kind == "one":
            tokens.append(_Token("one", is_colon_free=in_arn_prefix))
        else:
            ends_segment = index + 1 == len(raw) or raw[index + 1] == ("lit", ":")
            tokens.append(_Token("star", is_colon_free=in_arn_prefix and not ends_segment))
    return tuple(tokens)


def _token_regex(token: _Token) -> str:
    if token.kind == "lit":
        return re.escape(token.text)
    if token.kind == "one":
        return "[^:]" if token.is_colon_free else "."
    return "[^:]*" if token.is_colon_free else ".*"


@lru_cache(maxsize=65536)
def _resource_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(_token_regex(t) for t in _resource_tokens(pattern)), re.DOTALL)


def resource_matches(pattern: str, arn: str) -> bool:
    """Whether a ``Resource`` pattern matches a concrete ARN (case-sensitive).

    A policy variable in the pattern is treated as "may be anything within its
    segment", so the answer is "may match" for such patterns.
    """
    return _resource_regex(pattern).fullmatch(arn) is not None


# Where a resource pattern's literal text ends: a wildcard, a policy variable or an escape (``${*}``).
_LITERAL_END = re.compile(r"[*?$]")


def literal_prefix(pattern: str) -> str:
    """The text every ARN a resource pattern matches starts with (matching is case-sensitive): the pattern up
    to its first wildcard, variable or escape, or the whole pattern when it names one ARN."""
    special = _LITERAL_END.search(pattern)
    return pattern if special is None else pattern[:special.start()]


def arns_starting_with(sorted_arns: list[str], prefix: str) -> list[str]:
    """The ARNs of a sorted list that start with ``prefix``: one slice."""
    if not prefix:
        return sorted_arns
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return sorted_arns[bisect_left(sorted_arns, prefix):bisect_left(sorted_arns, end)]


def _run_absorbs(run: _Token, token: _Token) -> bool:
    """Whether every text ``token`` stands for is also a text of ``run`` (a star or variable)."""
    if run.kind == "var":
        return False  # an unknown value covers nothing but itself
    if not run.is_colon_free:
        return True
    if token.kind == "lit":
        return token.text != ":"
    return token.is_colon_free


def _single_accepts(single: _Token, token: _Token) -> bool:
    """Whether the one-character token ``single`` produces every character ``token`` does."""
    if single.kind == "lit":
        return token.kind == "lit" and token.text == single.text
    if token.kind == "lit":
        return not (single.is_colon_free and token.text == ":")
    return token.kind == "one" and (token.is_colon_free or not single.is_colon_free)


@lru_cache(maxsize=262144)
def resource_pattern_covers(general: str, specific: str) -> bool:
    """Whether every ARN matched by ``specific`` is also matched by ``general``.

    Sound but not complete: True is always right; False may, in contrived
    cases, hide a coverage (see the module docstring).
    """
    if general == specific:
        return True
    g, s = _resource_tokens(general), _resource_tokens(specific)

    @cache
    def covers(i: int, j: int) -> bool:
        if i == len(g):
            return j == len(s)
        token = g[i]
        if token.kind == "star":
            return covers(i + 1, j) or (j < len(s) and _run_absorbs(token, s[j]) and covers(i, j + 1))
        if j == len(s):
            return False
        if token.kind == "var":
            return s[j] == token and covers(i + 1, j + 1)
        return _single_accepts(token, s[j]) and covers(i + 1, j + 1)

    return covers(0, 0)


def _can_share_char(a: _Token, b: _Token) -> bool:
    """Whether two tokens can both produce one same character (runs: a non-empty text)."""
    if a.kind == "lit" and b.kind == "lit":
        return a.text == b.text
    lit = a if a.kind == "lit" else b if b.kind == "lit" else None
    other = b if lit is a else a
    if lit is not None:
        return not (other.is_colon_free and lit.text == ":")
    return True


@lru_cache(maxsize=262144)
def resource_patterns_overlap(a: str, b: str) -> bool:
    """Whether some ARN may be matched by both patterns (never False when one is)."""
    if a == b:
        return True
    x, y = _resource_tokens(a), _resource_tokens(b)

    @cache
    def overlap(i: int, j: int) -> bool:
        if i == len(x) and j == len(y):
            return True
        if i < len(x) and x[i].is_run:
            if overlap(i + 1, j):
                return True
            if j < len(y) and _can_share_char(x[i], y[j]) and overlap(i, j + 1):
                return True
        if j < len(y) and y[j].is_run:
            if overlap(i, j + 1):
                return True
            if i < len(x) and _can_share_char(x[i], y[j]) and overlap(i + 1, j):
                return True
        if i < len(x) and j < len(y) and x[i].is_single and y[j].is_single:
            return _can_share_char(x[i], y[j]) and overlap(i + 1, j + 1)
        return False

    return overlap(0, 0)


# --- resource scopes: a statement's Resource or NotResource as a whole -------


@dataclass(frozen=True)
class ResourceScope:
    """The resources one grant applies to.

    patterns: resource patterns, case as written.
    is_not_resource: False: any resource matched by one of ``patterns`` (a
        ``Resource`` list; grants keep one pattern per scope). True: every
        resource matched by none of them (a statement's whole ``NotResource``).
    """

    patterns: tuple[str, ...]
    is_not_resource: bool = False


def scope_covers(general: ResourceScope, specific: ResourceScope) -> bool:
    """Whether every resource of ``specific`` is in ``general`` (sound, may answer False in doubt)."""
    if not general.is_not_resource and not specific.is_not_resource:
        return all(any(resource_pattern_covers(g, s) for g in general.patterns) for s in specific.patterns)
    if not general.is_not_resource:
        # The complement of a few patterns is nearly everything: only a match-all pattern covers it.
        return any(resource_pattern_covers(g, "*") for g in general.patterns)
    if not specific.is_not_resource:
        return not any(resource_patterns_overlap(g, s) for g in general.patterns for s in specific.patterns)
    # not(G) contains not(S) when every excluded pattern of G is also excluded by S.
    return all(any(resource_pattern_covers(s, g) for s in specific.patterns) for g in general.patterns)


def scope_overlaps(a: ResourceScope, b: ResourceScope) -> bool:
    """Whether two scopes may share a resource (may answer True in doubt)."""
    if not a.is_not_resource and not b.is_not_resource:
        return any(resource_patterns_overlap(p, q) for p in a.patterns for q in b.patterns)
    if a.is_not_resource and b.is_not_resource:
        return True
    plain, negated = (b, a) if a.is_not_resource else (a, b)
    # Disjoint only when each plain pattern lies wholly inside one excluded pattern.
    return not all(any(resource_pattern_covers(n, p) for n in negated.patterns) for p in plain.patterns)
