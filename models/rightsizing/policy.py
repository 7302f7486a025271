"""Least-privilege policies proposed from what each identity actually used.

``least_privilege_policy`` builds one identity's policy from its rows of
``marts.identity_action_usage``; ``propose_policies`` does it for every
identity of ``marts.identity_privilege`` at once. The contract:

- The proposal is a subset of today's grant: it keeps every action that was
  used in the window and is granted by the identity's own policies, plus the
  dependent actions the catalog lists for them (``iam:PassRole`` for
  ``lambda:CreateFunction``) where those are granted too. Nothing is added
  that the identity's policies do not grant today, so applying it can only
  remove privilege. Used actions that are not granted (allowed by a resource
  policy, say) and dependencies that are not granted are named in ``notes``.
- Granted actions whose use CloudTrail cannot show (never logged, or data
  events no trail in the inputs records; ``models.usage.observability``) are
  kept where the identity uses their service (``keep_unobservable``), with a
  note: their absence from the logs is no evidence they are unused (a Lambda
  that creates log streams also calls ``logs:PutLogEvents``). Permission-only
  actions are not kept this way: their use shows through the calls that need
  them (the dependency rule above).
- ``Resource``: see ``models.rightsizing.policy_resources.scoped_resources``:
  observed ARNs of the action's resource types, generalised by a small rule
  table, where the action supports resource-level scoping; today's grant
  patterns where no such ARN was seen; ``*`` where the action supports no
  resource scoping or nothing narrower is known. ``iam:PassRole`` is scoped to
  the roles actually passed (``passed_roles``).
- The document: ``Version`` 2012-10-17, one ``Allow`` statement per (service,
  resource set), statements sorted by service then resources, actions and
  resources sorted; the same input always gives the same JSON.
- ``Condition``\\s of today's grants are not carried over (the usage mart does
  not hold them); each kept action whose grant is conditional gets a note.

Limits: "used" is what CloudTrail showed (see ``models.usage.observability``);
an action whose calls carry no ARN in the logs keeps its granted scope; an
action used on some resources in calls that named no ARN can be narrowed to
the ARNs other calls named (the replay check cannot see those calls).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from models.iam.catalog import action_key, lookup
from models.iam.patterns import action_matches
from models.rightsizing.policy_resources import ResourceScoping, arn_applies_to_action, scoped_resources
from models.usage.observability import PERMISSION_ONLY, inferred_dependent_actions

POLICY_VERSION = "2012-10-17"
PASS_ROLE = "iam:PassRole"

PASSED_ROLES_SCHEMA = {"identity_id": pl.String, "role_arn": pl.String}


@dataclass(frozen=True)
class ProposedPolicy:
    """A least-privilege policy proposed for one identity.

    identity_id: the identity it is for.
    document: the IAM policy document (``Version``, ``Statement``); it has no
        statement when the identity used nothing it is granted (IAM rejects
        such a document: detach the policies or retire the identity instead).
    actions: every action the document allows, sorted.
    notes: what a reviewer must know, sorted by kind: short observation,
        used-but-not-granted actions, actions kept only as dependencies,
        dependencies left out, dropped conditions, resources outside the grant.
    is_tight_warning: the identity was observed for fewer days than the
        window, so rarely used actions may be missing.
    """

    identity_id: str
    document: dict
    actions: tuple[str, ...]
    notes: tuple[str, ...]
    is_tight_warning: bool

    @property
    def has_statements(self) -> bool:
        return bool(self.document["Statement"])

    def document_json(self) -> str:
        """The bare policy document, as a file IAM accepts (pretty, stable)."""
        return json.dumps(self.document, indent=2) + "\n"

    def to_json(self) -> str:
        """The whole proposal (document, actions, notes, warning), pretty and stable."""
        record = {
            "identity_id": self.identity_id,
            "is_tight_warning": self.is_tight_warning,
            "actions": list(self.actions),
            "notes": list(self.notes),
            "document": self.document,
        }
        return json.dumps(record, indent=2) + "\n"


@dataclass(frozen=True)
class _KeptAction:
    """One action of the proposal with its resources."""

    action: str
    service: str
    scoping: ResourceScoping


# --- notes -----------------------------------------------------------------------


def _tight_note(observed_days: int, window_days: int) -> str:
    return f"observed {observed_days} of {window_days} days: the policy may be too tight"


def _not_granted_note(action: str) -> str:
    return (f"{action} was used but is not granted by the identity's policies "
            "(something else allowed it, e.g. a resource policy): not added")


def _inferred_note(action: str, inferred_from: Iterable[str]) -> str:
    return f"{action} kept only because {', '.join(inferred_from)} needs it (catalog dependency, not seen in the logs)"


def _dependency_left_out_note(action: str, inferred_from: Iterable[str]) -> str:
    return (f"{action} is listed by the catalog as needed by {', '.join(inferred_from)} "
            "but is not granted today: not added")


def _unobservable_note(service: str, actions: list[str]) -> str:
    shown = ", ".join(actions[:5]) + (f" and {len(actions) - 5} more" if len(actions) > 5 else "")
    return (f"{shown} kept although not seen: CloudTrail does not show these calls, so the logs are no "
            f"evidence of non-use, and the identity uses {service}; review")


def _conditional_note(action: str) -> str:
    return f"{action} is granted under a Condition today; the proposal does not carry conditions over: re-add it"


def _outside_grant_note(action: str, arns: tuple[str, ...]) -> str:
    shown = ", ".join(arns[:3]) + (f" and {len(arns) - 3} more" if len(arns) > 3 else "")
    return f"{action} was used on {shown}, outside the granted resources (allowed by something else): not added"


_NO_USE_NOTE = ("no granted action was used in the window: the document has no statements "
                "(IAM rejects it); detach the policies or retire the identity instead")


# --- inputs ------------------------------------------------------------------------


_ROW_COLUMNS = ["action", "is_granted", "is_used", "resources_touched", "resource_patterns", "is_conditional",
                "is_observable"]


def _usage_rows(identity_usage: pl.DataFrame) -> dict[str, dict]:
    """Rows of one identity's usage, keyed by action key (its ``identity_id`` column is not read)."""
    return _usage_rows_by_identity(identity_usage.with_columns(identity_id=pl.lit(""))).get("", {})


def _usage_rows_by_identity(usage: pl.DataFrame) -> dict[str, dict[str, dict]]:
    """Each identity's rows of ``usage`` keyed by action key, in one pass over it."""
    by_identity: dict[str, dict[str, dict]] = {}
    defaults = {"is_conditional": pl.lit(False), "is_observable": pl.lit(True)}
    frame = usage.with_columns(**{c: v for c, v in defaults.items() if c not in usage.columns})
    for row in frame.select("identity_id", *_ROW_COLUMNS).iter_rows(named=True):
        by_identity.setdefault(row.pop("identity_id"), {})[action_key(row["action"])] = row
    return by_identity


def _roles_by_identity(passed_roles: pl.DataFrame) -> dict[str, list[str]]:
    """The sorted role ARNs each identity passed."""
    roles: dict[str, set[str]] = {}
    for identity_id, role_arn in passed_roles.select("identity_id", "role_arn").drop_nulls().iter_rows():
        roles.setdefault(identity_id, set()).add(role_arn)
    return {identity_id: sorted(arns) for identity_id, arns in roles.items()}


def _identity_id(identity_usage: pl.DataFrame, identity_id: str | None) -> str:
    ids = set(identity_usage["identity_id"].drop_nulls().unique().to_list())
    if identity_id is not None:
        ids.add(identity_id)
    if len(ids) != 1:
        raise ValueError(f"least_privilege_policy: expected the rows of one identity, got {len(ids)} identities")
    return ids.pop()


def _passed_role_arns(
    identity_id: str, passed_roles: dict[str, list[str]] | None, needing: list[dict]
) -> list[str]:
    """Roles the identity passed: from ``passed_roles`` (``_roles_by_identity``) when given, else the role ARNs
    seen in the calls of the used actions that need ``iam:PassRole``."""
    if passed_roles is not None:
        return passed_roles.get(identity_id, [])
    return sorted({arn for row in needing for arn in row["resources_touched"] or []
                   if arn_applies_to_action(arn, PASS_ROLE)})


# --- the policy ------------------------------------------------------------------


def _service(action: str) -> str:
    entry = lookup(action)
    return entry.service if entry else action.split(":", 1)[0].lower()


def _sid(service: str, ordinal: int, count: int) -> str:
    words = re.split(r"[^A-Za-z0-9]+", service)
    base = "Allow" + "".join(w[:1].upper() + w[1:] for w in words if w)
    return base if count == 1 else f"{base}{ordinal}of{count}"


def _statements(kept: list[_KeptAction]) -> list[dict]:
    """One Allow statement per (service, resource set), sorted."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for k in kept:
        groups.setdefault((k.service, k.scoping.resources), []).append(k.action)
    per_service: dict[str, int] = {}
    for service, _ in groups:
        per_service[service] = per_service.get(service, 0) + 1
    statements, ordinal = [], {}
    for service, resources in sorted(groups):
        ordinal[service] = ordinal.get(service, 0) + 1
        statements.append({
            "Sid": _sid(service, ordinal[service], per_service[service]),
            "Effect": "Allow",
            "Action": sorted(groups[(service, resources)]),
            "Resource": resources[0] if len(resources) == 1 else list(resources),
        })
    return statements


Dependencies = dict[str, tuple[str, ...]]


def _dependencies(used_actions: list[str]) -> Dependencies:
    """Dependent action -> the used actions that need it (catalog spelling, sorted)."""
    if not used_actions:
        return {}
    implied = inferred_dependent_actions(used_actions).with_columns(identity_id=pl.lit(""))
    return _dependencies_by_identity(implied).get("", {})


def _dependencies_by_identity(implied: pl.DataFrame) -> dict[str, Dependencies]:
    """``_dependencies`` per identity, from ``inferred_dependent_actions`` rows that carry ``identity_id``."""
    needed: dict[str, dict[str, set[str]]] = {}
    for identity_id, dependent, source in implied.select("identity_id", "action", "inferred_from").iter_rows():
        needed.setdefault(identity_id, {}).setdefault(dependent, set()).add(source)
    return {identity_id: {d: tuple(sorted(s)) for d, s in sorted(of.items())} for identity_id, of in needed.items()}


def _is_permission_only(action: str) -> bool:
    return any(action_matches(pattern, action) for pattern in PERMISSION_ONLY)


def _kept_used(rows: dict[str, dict]) -> list[_KeptAction]:
    """The used and granted actions, scoped by the ARNs their calls touched."""
    used = sorted((r for r in rows.values() if r["is_used"] and r["is_granted"]), key=lambda r: action_key(r["action"]))
    return [
        _KeptAction(r["action"], _service(r["action"]),
                    scoped_resources(r["action"], r["resources_touched"] or [], r["resource_patterns"]))
        for r in used
    ]


def _kept_dependencies(
    identity_id: str, rows: dict[str, dict], kept: list[_KeptAction], passed_roles: dict[str, list[str]] | None,
    needed: Dependencies,
) -> tuple[list[_KeptAction], list[str]]:
    """The granted dependencies (``needed``: those of the kept actions) of the kept actions, and notes on them
    (kept only as such, or not granted)."""
    kept_keys = {action_key(k.action) for k in kept}
    dependencies, notes = [], []
    for dependent, sources in needed.items():
        key = action_key(dependent)
        if key in kept_keys:
            continue
        row = rows.get(key)
        if row is None or not row["is_granted"]:
            notes.append(_dependency_left_out_note(dependent, sources))
            continue
        observed_arns: list[str] = []
        if key == action_key(PASS_ROLE):
            observed_arns = _passed_role_arns(identity_id, passed_roles, [rows[action_key(s)] for s in sources])
        scoping = scoped_resources(row["action"], observed_arns, row["resource_patterns"])
        dependencies.append(_KeptAction(row["action"], _service(row["action"]), scoping))
        notes.append(_inferred_note(row["action"], sources))
    return dependencies, notes


def _kept_unobservable(rows: dict[str, dict], kept: list[_KeptAction]) -> tuple[list[_KeptAction], list[str]]:
    """Granted, unused, unobservable, not permission-only actions of the services ``kept`` uses,
    and one note per service."""
    services = {k.service for k in kept}
    kept_keys = {action_key(k.action) for k in kept}
    chosen: dict[str, list[dict]] = {}
    for key, row in sorted(rows.items()):
        if (row["is_granted"] and not row["is_used"] and row["is_observable"] is False and key not in kept_keys
                and _service(row["action"]) in services and not _is_permission_only(row["action"])):
            chosen.setdefault(_service(row["action"]), []).append(row)
    actions = [
        _KeptAction(r["action"], service, scoped_resources(r["action"], [], r["resource_patterns"]))
        for service, service_rows in chosen.items() for r in service_rows
    ]
    notes = [_unobservable_note(service, [r["action"] for r in service_rows])
             for service, service_rows in chosen.items()]
    return actions, notes


def _observation_notes(rows: dict[str, dict], observed_days: int, window_days: int) -> list[str]:
    notes = [_tight_note(observed_days, window_days)] if observed_days < window_days else []
    not_granted = sorted(r["action"] for r in rows.values() if r["is_used"] and not r["is_granted"])
    return notes + [_not_granted_note(action) for action in not_granted]


def _kept_action_notes(rows: dict[str, dict], kept: list[_KeptAction]) -> list[str]:
    """Conditions dropped and resources outside the grant, per kept action."""
    notes = []
    for k in sorted(kept, key=lambda k: k.action):
        if rows[action_key(k.action)]["is_conditional"]:
            notes.append(_conditional_note(k.action))
        if k.scoping.outside_grant:
            notes.append(_outside_grant_note(k.action, k.scoping.outside_grant))
    return notes


def least_privilege_policy(
    identity_usage: pl.DataFrame,
    *,
    identity_id: str | None = None,
    passed_roles: pl.DataFrame | None = None,
    observed_days: int | None,
    window_days: int,
    keep_unobservable: bool = True,
) -> ProposedPolicy:
    """The least-privilege policy for one identity (contract in the module docstring).

    identity_usage: the identity's rows of ``marts.identity_action_usage``
        (``identity_id, action, is_granted, is_used, resources_touched,
        resource_patterns``, optionally ``is_conditional, is_observable``);
        every granted row is needed for dependencies to be found granted.
    identity_id: needed only when ``identity_usage`` may be empty.
    passed_roles: ``identity_id, role_arn`` rows (``PASSED_ROLES_SCHEMA``):
        the roles the identity passed to services. None: the role ARNs seen in
        the calls that need ``iam:PassRole`` are used instead.
    observed_days / window_days: from ``marts.identity_privilege``; None
        observed days count as 0.
    keep_unobservable: keep the granted actions CloudTrail cannot show in the
        services the identity uses (see the module docstring).
    """
    identity_id = _identity_id(identity_usage, identity_id)
    roles = _roles_by_identity(passed_roles) if passed_roles is not None else None
    return _policy(identity_id, _usage_rows(identity_usage), roles, observed_days, window_days, keep_unobservable)


def _policy(identity_id: str, rows: dict[str, dict], passed_roles: dict[str, list[str]] | None,
            observed_days: int | None, window_days: int, keep_unobservable: bool,
            dependencies_of_used: Dependencies | None = None) -> ProposedPolicy:
    """``least_privilege_policy`` of one identity's rows (``_usage_rows``); ``dependencies_of_used``: those of
    its used and granted actions, when known already."""
    observed = observed_days or 0
    notes = _observation_notes(rows, observed, window_days)
    kept = _kept_used(rows)
    needed = dependencies_of_used if dependencies_of_used is not None else _dependencies([k.action for k in kept])
    dependencies, dependency_notes = _kept_dependencies(identity_id, rows, kept, passed_roles, needed)
    kept, notes = kept + dependencies, notes + dependency_notes
    if keep_unobservable:
        unobservable, unobservable_notes = _kept_unobservable(rows, kept)
        kept, notes = kept + unobservable, notes + unobservable_notes
    notes += _kept_action_notes(rows, kept) if kept else [_NO_USE_NOTE]
    return ProposedPolicy(
        identity_id=identity_id,
        document={"Version": POLICY_VERSION, "Statement": _statements(kept)},
        actions=tuple(sorted(k.action for k in kept)),
        notes=tuple(notes),
        is_tight_warning=observed < window_days,
    )


def _relevant_rows(action_usage: pl.DataFrame, dependents: pl.DataFrame) -> pl.DataFrame:
    """Used rows, the rows of their dependent actions (``dependents``: those of the used and granted ones) and
    the unobservable granted rows: all a proposal reads."""
    used = action_usage.filter(pl.col("is_used"))
    needed = pl.concat([used.select("identity_id", "action"), dependents.select("identity_id", "action")])
    is_unobservable = (
        pl.col("is_granted") & pl.col("is_observable").not_().fill_null(False)
        if "is_observable" in action_usage.columns
        else pl.lit(False)
    )
    return pl.concat([
        action_usage.join(needed.unique(), on=["identity_id", "action"], how="semi"),
        action_usage.filter(is_unobservable),
    ]).unique(subset=["identity_id", "action"], maintain_order=True)


def propose_policies(
    action_usage: pl.DataFrame,
    passed_roles: pl.DataFrame | None,
    privilege: pl.DataFrame,
    *,
    keep_unobservable: bool = True,
) -> dict[str, ProposedPolicy]:
    """``least_privilege_policy`` for every identity of ``privilege`` that is granted something.

    action_usage: ``marts.identity_action_usage`` (all identities).
    passed_roles: as for ``least_privilege_policy`` (all identities), or None.
    privilege: ``marts.identity_privilege`` (``identity_id, observed_days,
        window_days``).

    Returns proposals keyed by identity id, in identity-id order. Identities
    with no granted action (non-IAM principals, credentials without
    policies) get none.
    """
    granted_ids = set(action_usage.filter(pl.col("is_granted"))["identity_id"].unique().to_list())
    used_and_granted = action_usage.filter(pl.col("is_used") & pl.col("is_granted")).select("identity_id", "action")
    dependents = inferred_dependent_actions(used_and_granted)
    rows_of = _usage_rows_by_identity(_relevant_rows(action_usage, dependents))
    dependencies_of = _dependencies_by_identity(dependents)
    roles = _roles_by_identity(passed_roles) if passed_roles is not None else None
    proposals: dict[str, ProposedPolicy] = {}
    for identity_id, observed_days, window_days in (
        privilege.select("identity_id", "observed_days", "window_days").sort("identity_id").iter_rows()
    ):
        if identity_id not in granted_ids:
            continue
        proposals[identity_id] = _policy(identity_id, rows_of.get(identity_id, {}), roles, observed_days,
                                         window_days, keep_unobservable, dependencies_of.get(identity_id, {}))
    return proposals
