"""Recommendation kinds as data: what triggers each, what to tell the engineer, which frameworks it answers,
and what it changes, so that ``risk_after`` and ``blast_radius_after`` are recomputed, not guessed.

A rule reads one identity's ``IdentityFacts`` and returns zero or more ``Recommendation``s. Each carries a
``Change``: feature values that the change resets (for the risk re-score) and, where the change alters
who can reach what, the graph edit (grants replaced, edges removed, identity retired) for the blast-radius
re-run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from models.risk.config import RiskConfig

OWASP = {
    "NHI1": "OWASP NHI1:2025 Improper Offboarding",
    "NHI2": "OWASP NHI2:2025 Secret Leakage",
    "NHI5": "OWASP NHI5:2025 Overprivileged NHI",
    "NHI7": "OWASP NHI7:2025 Long-Lived Secrets",
    "NHI8": "OWASP NHI8:2025 Environment Isolation",
    "NHI9": "OWASP NHI9:2025 NHI Reuse",
    "NHI10": "OWASP NHI10:2025 Human Use of NHI",
}
NIST = {
    "PR.AA-01": "NIST CSF 2.0 PR.AA-01 Identities and credentials are managed",
    "PR.AA-03": "NIST CSF 2.0 PR.AA-03 Users, services and hardware are authenticated",
    "PR.AA-05": "NIST CSF 2.0 PR.AA-05 Least privilege and separation of duties",
    "PR.IR-01": "NIST CSF 2.0 PR.IR-01 Networks and environments are protected",
    "GV.RR-02": "NIST CSF 2.0 GV.RR-02 Roles, responsibilities and authorities are established",
}


@dataclass(frozen=True)
class Edge:
    """A delegation or escalation edge out of the identity."""

    target_id: str
    target_name: str
    edge_type: str
    method: str
    reason: str
    is_used: bool
    leads_to_admin_unused: bool
    target_environment: str | None = None


@dataclass(frozen=True)
class Credential:
    credential_id: str
    credential_type: str
    days_since_rotation: int | None
    days_to_expiry: int | None
    has_no_expiry: bool
    status: str


@dataclass(frozen=True)
class IdentityFacts:
    """Everything the rules read about one identity (the pipeline assembles it from the marts).

    features: the identity's row of ``marts.risk_features``.
    unused_services: granted services with no used action in the window.
    scopable: (action, observed resources) of used actions granted on ``*`` that could be scoped.
    proposal: ``(granted, proposed, policy_file, is_tight_warning)`` of the least-privilege proposal, if any.
    proposal_actions: the actions that proposal allows.
    """

    identity_id: str
    name: str
    kind: str
    is_ai: bool
    is_service_linked: bool
    environment: str | None
    features: dict
    unused_ratio: float | None
    observed_days: int
    window_days: int
    unused_services: tuple[tuple[str, int], ...] = ()
    scopable: tuple[tuple[str, tuple[str, ...]], ...] = ()
    proposal: tuple[int, int, str | None, bool] | None = None
    proposal_actions: tuple[str, ...] = ()
    edges: tuple[Edge, ...] = ()
    credentials: tuple[Credential, ...] = ()
    agent_names: tuple[str, ...] = ()

    @property
    def can_be_retired_or_owned(self) -> bool:
        return self.kind != "group" and not self.is_service_linked


# A feature value in a Change that is worked out from the change itself (e.g. the unused ratio of the cut grant).
RECOMPUTED = "<recomputed>"


@dataclass(frozen=True)
class Change:
    """What applying a recommendation changes.

    features: risk features set to these values afterwards (``RECOMPUTED``: derived from the change).
    keep_actions: the identity's grants afterwards are limited to these actions (None: unchanged).
    drop_services: the identity's grants of these services go.
    scope: action → resources its grant is narrowed to.
    remove_edges: (source, target) edges that no longer exist.
    retire: the identity is removed altogether.
    """

    features: dict = field(default_factory=dict)
    keep_actions: tuple[str, ...] | None = None
    drop_services: tuple[str, ...] = ()
    scope: tuple[tuple[str, tuple[str, ...]], ...] = ()
    remove_edges: tuple[tuple[str, str], ...] = ()
    retire: bool = False

    @property
    def changes_graph(self) -> bool:
        return bool(self.keep_actions is not None or self.drop_services or self.scope or self.remove_edges or self.retire)


@dataclass(frozen=True)
class Recommendation:
    identity_id: str
    kind: str
    action: str
    evidence: str
    frameworks: tuple[str, ...]
    change: Change


@dataclass(frozen=True)
class Rule:
    """kind: the recommendation kind. frameworks: OWASP NHI and NIST CSF references.
    propose: facts, config → recommendations (none when the rule does not apply)."""

    kind: str
    frameworks: tuple[str, ...]
    propose: Callable[[IdentityFacts, RiskConfig], list[Recommendation]]


def _listed(items: list[str], limit: int = 8, sep: str = ", ") -> str:
    """Items joined, the tail summarised: a recommendation is read by a person."""
    shown = sep.join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _recommendation(rule_kind: str, facts: IdentityFacts, action: str, evidence: str, change: Change) -> Recommendation:
    return Recommendation(facts.identity_id, rule_kind, action, evidence, FRAMEWORKS[rule_kind], change)


RIGHT_SIZE_MIN_UNUSED_RATIO = 0.3
RIGHT_SIZE_MIN_REMOVED_ACTIONS = 3


def _right_size_policy(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    if facts.proposal is None or facts.unused_ratio is None:
        return []
    granted, proposed, policy_file, is_tight = facts.proposal
    if facts.unused_ratio < RIGHT_SIZE_MIN_UNUSED_RATIO or granted - proposed < RIGHT_SIZE_MIN_REMOVED_ACTIONS or proposed == 0:
        return []
    caveat = (
        f" Observed {facts.observed_days} of {facts.window_days} days: review before applying, it may be too tight."
        if is_tight else ""
    )
    action = (
        f"Replace the policies of {facts.name} with the generated least-privilege policy ({policy_file}): "
        f"{proposed} actions instead of {granted}.{caveat}"
    )
    evidence = (
        f"{facts.features['unused_actions']} of {granted} granted actions unused in {facts.window_days} days "
        f"(unused ratio {facts.unused_ratio:.2f}); every action used in the window is kept."
    )
    return [_recommendation("right_size_policy", facts, action, evidence, Change(
        features={"weighted_unused_ratio": RECOMPUTED, "unused_actions": RECOMPUTED, "granted_actions": RECOMPUTED},
        keep_actions=facts.proposal_actions,
    ))]


def _remove_unused_services(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    if not facts.unused_services or facts.features.get("days_since_last_activity") is None:
        return []
    services = _listed([s for s, _ in facts.unused_services])
    count = sum(n for _, n in facts.unused_services)
    action = f"Remove {facts.name}'s grants to {services}: not one of their actions was used in {facts.window_days} days."
    evidence = _listed([f"{s}: {n} granted actions, none used" for s, n in facts.unused_services], sep="; ")
    return [_recommendation("remove_unused_services", facts, action, evidence, Change(
        features={"weighted_unused_ratio": RECOMPUTED, "unused_actions": RECOMPUTED, "granted_actions": RECOMPUTED},
        drop_services=tuple(s for s, _ in facts.unused_services),
    ))] if count else []


def _scope_resources(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    if not facts.scopable:
        return []
    shown = "; ".join(f"{a} → {', '.join(r[:3])}{' …' if len(r) > 3 else ''}" for a, r in facts.scopable[:5])
    action = f"Scope {len(facts.scopable)} of {facts.name}'s actions from every resource ('*') to the resources it uses."
    evidence = f"granted on '*', used only on: {shown}"
    return [_recommendation("scope_resources", facts, action, evidence, Change(scope=facts.scopable))]


def _remove_unused_delegation(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    unused = [e for e in facts.edges if not e.is_used and not e.leads_to_admin_unused]
    if not unused:
        return []
    targets = ", ".join(sorted({e.target_name for e in unused}))
    action = f"Remove {facts.name}'s unused ability to become {targets}."
    evidence = "; ".join(e.reason for e in unused[:5]) + f" — never used in {facts.window_days} days"
    return [_recommendation("remove_unused_delegation", facts, action, evidence, Change(
        remove_edges=tuple((facts.identity_id, e.target_id) for e in unused),
    ))]


def _break_escalation_path(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    to_admin = [e for e in facts.edges if e.leads_to_admin_unused]
    if not to_admin:
        return []
    targets = ", ".join(sorted({e.target_name for e in to_admin}))
    action = (
        f"Break {facts.name}'s path to admin: take away what lets it become {targets} "
        f"({', '.join(sorted({e.method for e in to_admin}))}); it never did so in {facts.window_days} days."
    )
    evidence = "; ".join(e.reason for e in to_admin[:5])
    removed = len(to_admin)
    return [_recommendation("break_escalation_path", facts, action, evidence, Change(
        features={"unused_admin_edges": max(0, int(facts.features.get("unused_admin_edges") or 0) - removed)},
        remove_edges=tuple((facts.identity_id, e.target_id) for e in to_admin),
    ))]


def _retire_dormant(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    idle = facts.features.get("days_since_last_activity")
    observed = facts.features.get("observed_days") or 0
    is_dormant = (idle is not None and idle > config.dormant_days) or (idle is None and observed >= config.dormant_days)
    if not is_dormant or not facts.can_be_retired_or_owned:
        return []
    when = f"last active {idle} days ago" if idle is not None else f"no activity in {observed} observed days"
    action = f"Retire {facts.name}: disable its credentials now, delete it after a grace period if nothing breaks."
    return [_recommendation("retire_dormant", facts, action, when, Change(retire=True))]


def _rotate_credential(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    overdue = [c for c in facts.credentials if c.status == "active" and c.credential_type != "certificate"
               and (c.days_since_rotation or 0) > config.rotation_days]
    if not overdue:
        return []
    listing = ", ".join(f"{c.credential_type} {c.credential_id} ({c.days_since_rotation} days)" for c in overdue)
    action = f"Rotate {facts.name}'s {len(overdue)} credential(s) not rotated for over {config.rotation_days} days."
    return [_recommendation("rotate_credential", facts, action, listing, Change(features={"max_days_since_rotation": 0}))]


def _use_short_lived_credentials(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    keys = int(facts.features.get("long_lived_keys") or 0)
    if not facts.is_ai or keys == 0:
        return []
    action = (
        f"Move {facts.name} off its {keys} long-lived access key(s) to short-lived credentials "
        "(an IAM role assumed by the agent's workload, or IAM Roles Anywhere), then delete the keys."
    )
    age = facts.features.get("oldest_key_age_days")
    evidence = f"{keys} access key(s) in use" + (f", oldest {age} days old" if age is not None else "")
    return [_recommendation("use_short_lived_credentials", facts, action, evidence, Change(
        features={"long_lived_keys": 0, "oldest_key_age_days": None, "max_days_since_rotation": 0},
    ))]


def _renew_expiring_credential(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    soon = [c for c in facts.credentials if c.days_to_expiry is not None and c.days_to_expiry <= config.expiring_within_days
            and c.status in ("active", "expired")]
    if not soon:
        return []
    parts = [
        f"{c.credential_type} {c.credential_id} " + (f"expired {-c.days_to_expiry} days ago" if c.days_to_expiry < 0
                                                     else f"expires in {c.days_to_expiry} days")
        for c in soon
    ]
    action = f"Renew {facts.name}'s {len(soon)} credential(s) before the service using them fails."
    return [_recommendation("renew_expiring_credential", facts, action, "; ".join(parts), Change(
        features={"days_to_nearest_expiry": None},
    ))]


def _assign_owner(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    if facts.features.get("has_owner") or not facts.can_be_retired_or_owned:
        return []
    action = f"Name an owner for {facts.name} in the identity inventory: someone who answers for its access and its retirement."
    return [_recommendation("assign_owner", facts, action, "no owner recorded", Change(features={"has_owner": True}))]


def _split_shared_identity(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    agents = int(facts.features.get("agents_sharing") or 0)
    console = int(facts.features.get("console_events") or 0)
    if agents <= 1 and not (facts.is_ai and console > 0):
        return []
    reasons = []
    if agents > 1:
        reasons.append(f"used by {agents} agents: {', '.join(facts.agent_names)}")
    if facts.is_ai and console > 0:
        reasons.append(f"{console} console event(s): people use this agent identity too")
    action = f"Split {facts.name}: one identity per agent, and none shared with people."
    return [_recommendation("split_shared_identity", facts, action, "; ".join(reasons), Change(
        features={"agents_sharing": 1, "console_events": 0},
    ))]


def _separate_environments(facts: IdentityFacts, config: RiskConfig) -> list[Recommendation]:
    other = facts.features.get("reaches_other_environments")
    if not other:
        return []
    crossing = [
        e for e in facts.edges
        if e.edge_type in ("CAN_ASSUME", "CAN_ESCALATE")
        and e.target_environment is not None and e.target_environment != facts.environment
    ]
    action = f"Keep {facts.name} ({facts.environment}) out of {other}: remove its way into that environment."
    evidence = "; ".join(e.reason for e in crossing[:3]) or f"reaches {other}"
    return [_recommendation("separate_environments", facts, action, evidence, Change(
        features={"reaches_other_environments": None},
        remove_edges=tuple((facts.identity_id, e.target_id) for e in crossing),
    ))]


FRAMEWORKS: dict[str, tuple[str, ...]] = {
    "right_size_policy": (OWASP["NHI5"], NIST["PR.AA-05"]),
    "remove_unused_services": (OWASP["NHI5"], NIST["PR.AA-05"]),
    "scope_resources": (OWASP["NHI5"], NIST["PR.AA-05"]),
    "remove_unused_delegation": (OWASP["NHI5"], NIST["PR.AA-05"]),
    "break_escalation_path": (OWASP["NHI5"], NIST["PR.AA-05"]),
    "retire_dormant": (OWASP["NHI1"], NIST["PR.AA-01"]),
    "rotate_credential": (OWASP["NHI7"], OWASP["NHI2"], NIST["PR.AA-01"]),
    "use_short_lived_credentials": (OWASP["NHI7"], NIST["PR.AA-03"]),
    "renew_expiring_credential": (OWASP["NHI7"], NIST["PR.AA-01"]),
    "assign_owner": (OWASP["NHI1"], NIST["GV.RR-02"]),
    "split_shared_identity": (OWASP["NHI9"], OWASP["NHI10"], NIST["PR.AA-05"]),
    "separate_environments": (OWASP["NHI8"], NIST["PR.IR-01"]),
}

RULES: tuple[Rule, ...] = tuple(
    Rule(kind, FRAMEWORKS[kind], propose)
    for kind, propose in (
        ("break_escalation_path", _break_escalation_path),
        ("right_size_policy", _right_size_policy),
        ("remove_unused_services", _remove_unused_services),
        ("scope_resources", _scope_resources),
        ("remove_unused_delegation", _remove_unused_delegation),
        ("retire_dormant", _retire_dormant),
        ("use_short_lived_credentials", _use_short_lived_credentials),
        ("rotate_credential", _rotate_credential),
        ("renew_expiring_credential", _renew_expiring_credential),
        ("assign_owner", _assign_owner),
        ("split_shared_identity", _split_shared_identity),
        ("separate_environments", _separate_environments),
    )
)
KINDS = tuple(rule.kind for rule in RULES)


def recommend(facts: IdentityFacts, config: RiskConfig | None = None) -> list[Recommendation]:
    """Every recommendation the rules make for one identity, in rule order."""
    config = config or RiskConfig()
    return [r for rule in RULES for r in rule.propose(facts, config)]
