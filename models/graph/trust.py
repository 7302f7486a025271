"""Role trust policies: who may call ``sts:AssumeRole`` on a role, as the role sees it.

A trust policy names principals of four kinds here:

- an IAM user or role ARN (or an assumed-role session ARN, read as its role):
  in the role's own account that principal may assume the role on the trust
  policy's word alone; from another account it also needs ``sts:AssumeRole``
  on the role in its own policies;
- an account (``arn:aws:iam::<id>:root`` or the bare id): delegates to that
  account's IAM, so any of its principals whose own policies allow
  ``sts:AssumeRole`` on the role;
- ``*`` (``"Principal": "*"`` or ``{"AWS": "*"}``): any principal anywhere,
  read like a named principal (the same account needs no identity permission);
- a service (``lambda.amazonaws.com``): not a graph principal; it matters to
  ``iam:PassRole`` escalations, which need a role the service may assume.

Only statements whose actions cover ``sts:AssumeRole`` count (web-identity
and SAML federation are not modelled). A Deny statement removes the
principals it names when unconditional and makes them conditional otherwise.
``NotPrincipal`` statements are ignored (IAM rejects them in Allow trust
statements). Condition values are not evaluated: a conditional statement
yields a conditional edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.graph.capabilities import Access
from models.iam.patterns import action_matches
from models.iam.policy import PolicyParseError, Statement, parse_policy_document

ASSUME_ROLE = "sts:AssumeRole"

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")
_SESSION_ARN = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")


@dataclass(frozen=True)
class Trusted:
    """One principal a trust policy lets in.

    kind: ``principal`` (an ARN), ``account`` (an account id), ``any`` or ``service``.
    value: the principal ARN (a session ARN is rewritten to its role's
        ``role_name_key``), the account id, ``*``, or the service principal
        (lowercased).
    is_conditional: the statement has a ``Condition``.
    """

    kind: str
    value: str
    is_conditional: bool


@dataclass(frozen=True)
class TrustPolicy:
    """What one role's trust policy allows.

    trusted: the principals its Allow statements let in.
    denied: the principals its Deny statements shut out (a conditional Deny
        only makes the way in conditional).
    """

    trusted: tuple[Trusted, ...]
    denied: tuple[Trusted, ...] = ()

    def of_kind(self, kind: str) -> tuple[Trusted, ...]:
        return tuple(t for t in self.trusted if t.kind == kind)

    def service(self, service_principal: str) -> Trusted | None:
        return next((t for t in self.trusted if t.kind == "service" and t.value == service_principal.lower()), None)

    def deny_verdict(self, *, caller_keys: frozenset[str], caller_account: str | None) -> Access:
        """How the Deny statements treat a caller known by ``caller_keys`` (its ARN, ``role-name:...``)."""
        verdict = Access.ALLOWED
        for deny in self.denied:
            hits = (
                deny.kind == "any"
                or (deny.kind == "principal" and deny.value in caller_keys)
                or (deny.kind == "account" and deny.value == caller_account)
            )
            if hits and not deny.is_conditional:
                return Access.NONE
            if hits:
                verdict = Access.CONDITIONAL
        return verdict


EMPTY_TRUST = TrustPolicy(trusted=())


def role_name_key(account: str, name: str) -> str:
    """How a trust policy's assumed-role session ARN names its role."""
    return f"role-name:{account}:{name}"


def _allows_assume_role(statement: Statement) -> bool:
    hit = any(action_matches(a, ASSUME_ROLE) for a in statement.actions)
    return not hit if statement.is_not_action else hit


def _trusted_of(kind: str, value: str, is_conditional: bool) -> Trusted | None:
    if kind == "*" or (kind == "AWS" and value == "*"):
        return Trusted("any", "*", is_conditional)
    if kind == "Service":
        return Trusted("service", value.lower(), is_conditional)
    if kind != "AWS":
        return None  # Federated / CanonicalUser: not graph principals
    if _ACCOUNT_ID.match(value):
        return Trusted("account", value, is_conditional)
    root = _ROOT_ARN.match(value)
    if root:
        return Trusted("account", root.group(1), is_conditional)
    session = _SESSION_ARN.match(value)
    if session:
        return Trusted("principal", role_name_key(session.group(2), session.group(3)), is_conditional)
    return Trusted("principal", value, is_conditional)


def _statement_principals(statement: Statement) -> list[Trusted]:
    return [
        t
        for kind, value in statement.principals
        if (t := _trusted_of(kind, value, statement.is_conditional)) is not None
    ]


def parse_trust_policy(document) -> TrustPolicy:
    """The principals a trust policy (dict or JSON text) lets in and shuts out; raises ``PolicyParseError``."""
    statements = [s for s in parse_policy_document(document) if not s.is_not_principal and _allows_assume_role(s)]
    allowed: dict[tuple[str, str], Trusted] = {}
    for trusted in (t for s in statements if s.effect == "Allow" for t in _statement_principals(s)):
        key = (trusted.kind, trusted.value)
        if key not in allowed or allowed[key].is_conditional:
            allowed[key] = trusted  # an unconditional statement beats a conditional one
    denied = [t for s in statements if s.effect == "Deny" for t in _statement_principals(s)]
    return TrustPolicy(trusted=tuple(allowed[k] for k in sorted(allowed)), denied=tuple(denied))


__all__ = ["ASSUME_ROLE", "EMPTY_TRUST", "PolicyParseError", "TrustPolicy", "Trusted", "parse_trust_policy",
           "role_name_key"]
