"""Privilege-escalation methods as data, and the one function that evaluates them.

Each ``EscalationRule`` row names the actions a source principal must hold on
a target (``actions_on_target``, all of them, matched against the target's
ARN) and, for services that run code, the actions it must hold on some
resource (``service_action_sets``: alternatives, each needing all its
actions). ``target_kind`` says what the targets are and where the edge goes:

| target_kind             | targets (same account as the source)                     | edge to          |
| ----------------------- | -------------------------------------------------------- | ---------------- |
| ``other_user``          | IAM users other than the source                          | the user         |
| ``role_trust``          | roles other than the source                              | the role         |
| ``group``               | groups                                                   | the group        |
| ``principal_policies``  | the source, and principals it reaches, of one kind       | ``admin:<acct>`` |
| ``attached_policy``     | customer-managed policies attached to those principals   | ``admin:<acct>`` |
| ``passable_role``       | roles the named service may assume (trust policy)        | the role         |
| ``workload``            | known workloads (``workloads`` input) that run as a role | the workload's role |

A source that holds a rule's actions on every user (role, group) of its
account alike, as ``Resource: "*"`` gives, gets one edge to the account's
principal set (``principals:<kind>:<account>``, see ``models.graph.model``)
instead of one to each member.

Rewriting the permissions of oneself, or of a principal one can become, is
full control of the account, hence the admin node. Rewriting a role's trust
policy needs no ``sts:AssumeRole`` beside it: a trust policy that names the
caller in the role's own account is enough (see ``models.graph.trust``). ``iam:PassRole`` is one of
``actions_on_target``, so a ``Resource`` narrowed to some roles reaches only
those. Rules whose actions are missing from the AWS catalog are skipped
(``available_rules``) rather than guessed.

Not evaluated: condition values (a rule satisfied only through conditional
statements gives a conditional edge); whether a user already has a login
profile (``CreateLoginProfile`` vs ``UpdateLoginProfile``); service quotas,
networking, or whether the passed role's service can actually be reached;
escalations that need two different reached principals at once (one
rewrites, another benefits) beyond the source itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

from models.graph.capabilities import NO_CAPABILITIES, Access, Capabilities
from models.graph.model import CAN_ESCALATE, Edge, admin_node_id, principal_set_id
from models.graph.trust import EMPTY_TRUST, TrustPolicy
from models.iam.catalog import action_key, lookup

INSTANCE_PROFILE_ACTIONS = ("iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile")
PRINCIPAL_KINDS = ("user", "role", "group")


@dataclass(frozen=True)
class EscalationRule:
    """One escalation method.

    code: short, stable name (the edge's ``method``).
    target_kind: see the module docstring's table.
    actions_on_target: actions the source needs on the target's ARN, all of them.
    reason: template of the edge's reason; ``{source}``, ``{target}``,
        ``{actions}`` (the actions that satisfied the rule) and ``{subject}``
        (the principal rewritten, for admin edges) are filled in.
    service_action_sets: alternatives of actions needed on any resource.
    target_principal_kind: ``principal_policies``: the kind rewritten.
    service_principal: ``passable_role``: the service the role must trust.
    workload_service: ``workload``: the ARN service of the workload.
    needs_instance_profile: the role must sit in an instance profile, or the
        source must be able to make one (``INSTANCE_PROFILE_ACTIONS``).
    source_kinds: principal kinds the rule applies to (a group stands for
        what any of its members can do through the group's policies).
    """

    code: str
    target_kind: str
    actions_on_target: tuple[str, ...]
    reason: str
    service_action_sets: tuple[tuple[str, ...], ...] = ()
    target_principal_kind: str | None = None
    service_principal: str | None = None
    workload_service: str | None = None
    needs_instance_profile: bool = False
    source_kinds: tuple[str, ...] = PRINCIPAL_KINDS

    @property
    def is_reach_dependent(self) -> bool:
        """Whether the targets depend on what the source can already reach."""
        return self.target_kind in ("principal_policies", "attached_policy")

    @property
    def actions(self) -> frozenset[str]:
        extra = INSTANCE_PROFILE_ACTIONS if self.needs_instance_profile else ()
        return frozenset(self.actions_on_target).union(*self.service_action_sets, extra)


def _pass_role(code: str, service_principal: str, service: str, *action_sets: tuple[str, ...],
               needs_instance_profile: bool = False) -> EscalationRule:
    return EscalationRule(
        code=code,
        target_kind="passable_role",
        actions_on_target=("iam:PassRole",),
        service_action_sets=action_sets,
        service_principal=service_principal,
        needs_instance_profile=needs_instance_profile,
        reason=f"{{source}} can pass role {{target}} to {service} ({{actions}}) and run code as it",
    )


def _policies(code: str, action: str, kind: str, verb: str) -> EscalationRule:
    return EscalationRule(
        code=code,
        target_kind="principal_policies",
        actions_on_target=(action,),
        target_principal_kind=kind,
        reason=f"{{source}} can {verb} {{subject}} ({{actions}}): full control",
    )


def _workload(code: str, service: str, action: str, what: str) -> EscalationRule:
    return EscalationRule(
        code=code,
        target_kind="workload",
        actions_on_target=(action,),
        workload_service=service,
        reason=f"{{source}} can {what} ({{actions}}), which runs as role {{target}}",
    )


ESCALATION_RULES: tuple[EscalationRule, ...] = (
    EscalationRule("create_access_key", "other_user", ("iam:CreateAccessKey",),
                   "{source} can create an access key for {target} ({actions}) and act as it"),
    EscalationRule("create_login_profile", "other_user", ("iam:CreateLoginProfile",),
                   "{source} can set a console password for {target} ({actions}) and sign in as it"),
    EscalationRule("update_login_profile", "other_user", ("iam:UpdateLoginProfile",),
                   "{source} can change the console password of {target} ({actions}) and sign in as it"),
    EscalationRule("update_assume_role_policy", "role_trust", ("iam:UpdateAssumeRolePolicy",),
                   "{source} can rewrite the trust policy of {target} ({actions}) to let itself assume it"),
    EscalationRule("add_user_to_group", "group", ("iam:AddUserToGroup",),
                   "{source} can add a user it controls to {target} ({actions}) and gain its policies",
                   source_kinds=("user", "group")),
    _policies("attach_user_policy", "iam:AttachUserPolicy", "user", "attach any managed policy to"),
    _policies("attach_role_policy", "iam:AttachRolePolicy", "role", "attach any managed policy to"),
    _policies("attach_group_policy", "iam:AttachGroupPolicy", "group", "attach any managed policy to"),
    _policies("put_user_policy", "iam:PutUserPolicy", "user", "write any inline policy of"),
    _policies("put_role_policy", "iam:PutRolePolicy", "role", "write any inline policy of"),
    _policies("put_group_policy", "iam:PutGroupPolicy", "group", "write any inline policy of"),
    EscalationRule("create_policy_version", "attached_policy", ("iam:CreatePolicyVersion",),
                   "{source} can publish a new default version of policy {target} ({actions}), "
                   "which applies to {subject}: full control"),
    EscalationRule("set_default_policy_version", "attached_policy", ("iam:SetDefaultPolicyVersion",),
                   "{source} can switch policy {target} to another stored version ({actions}), "
                   "which applies to {subject}: possibly full control"),
    _pass_role("passrole_lambda", "lambda.amazonaws.com", "a new Lambda function",
               ("lambda:CreateFunction", "lambda:InvokeFunction"),
               ("lambda:CreateFunction", "lambda:CreateEventSourceMapping")),
    _pass_role("passrole_ec2", "ec2.amazonaws.com", "a new EC2 instance", ("ec2:RunInstances",),
               needs_instance_profile=True),
    _pass_role("passrole_ecs", "ecs-tasks.amazonaws.com", "a new ECS task",
               ("ecs:RegisterTaskDefinition", "ecs:RunTask"), ("ecs:RegisterTaskDefinition", "ecs:StartTask")),
    _pass_role("passrole_cloudformation_create_stack", "cloudformation.amazonaws.com", "a new CloudFormation stack",
               ("cloudformation:CreateStack",)),
    _pass_role("passrole_cloudformation_update_stack", "cloudformation.amazonaws.com",
               "an existing CloudFormation stack", ("cloudformation:UpdateStack",)),
    _pass_role("passrole_cloudformation_change_set", "cloudformation.amazonaws.com", "a CloudFormation change set",
               ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet")),
    _pass_role("passrole_glue_dev_endpoint", "glue.amazonaws.com", "a new Glue development endpoint",
               ("glue:CreateDevEndpoint",)),
    _pass_role("passrole_glue_job", "glue.amazonaws.com", "a new Glue job", ("glue:CreateJob", "glue:StartJobRun")),
    _pass_role("passrole_sagemaker_notebook", "sagemaker.amazonaws.com", "a new SageMaker notebook instance",
               ("sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl")),
    _pass_role("passrole_sagemaker_training_job", "sagemaker.amazonaws.com", "a new SageMaker training job",
               ("sagemaker:CreateTrainingJob",)),
    _pass_role("passrole_sagemaker_processing_job", "sagemaker.amazonaws.com", "a new SageMaker processing job",
               ("sagemaker:CreateProcessingJob",)),
    _pass_role("passrole_codebuild", "codebuild.amazonaws.com", "a new CodeBuild project",
               ("codebuild:CreateProject", "codebuild:StartBuild"),
               ("codebuild:CreateProject", "codebuild:StartBuildBatch")),
    _pass_role("passrole_autoscaling", "ec2.amazonaws.com", "instances of a new Auto Scaling group",
               ("autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"),
               ("ec2:CreateLaunchTemplate", "autoscaling:CreateAutoScalingGroup"),
               needs_instance_profile=True),
    _pass_role("passrole_bedrock_agent", "bedrock.amazonaws.com", "a new Bedrock agent",
               ("bedrock:CreateAgent", "bedrock:PrepareAgent", "bedrock:InvokeAgent")),
    _pass_role("passrole_agentcore_code_interpreter", "bedrock-agentcore.amazonaws.com",
               "a new AgentCore code interpreter",
               ("bedrock-agentcore:CreateCodeInterpreter", "bedrock-agentcore:StartCodeInterpreterSession",
                "bedrock-agentcore:InvokeCodeInterpreter")),
    _pass_role("passrole_agentcore_runtime", "bedrock-agentcore.amazonaws.com", "a new AgentCore runtime",
               ("bedrock-agentcore:CreateAgentRuntime", "bedrock-agentcore:InvokeAgentRuntime")),
    _workload("lambda_update_function_code", "lambda", "lambda:UpdateFunctionCode",
              "replace the code of Lambda function {workload}"),
    _workload("lambda_update_function_configuration", "lambda", "lambda:UpdateFunctionConfiguration",
              "change the configuration (layers, environment) of Lambda function {workload}"),
    _workload("ssm_send_command", "ec2", "ssm:SendCommand", "run commands on instance {workload}"),
    _workload("ssm_start_session", "ec2", "ssm:StartSession", "open a shell on instance {workload}"),
    _workload("codebuild_start_build", "codebuild", "codebuild:StartBuild",
              "start project {workload} with its own buildspec"),
)


@cache
def available_rules() -> tuple[EscalationRule, ...]:
    """The rules whose every action is in the AWS catalog."""
    return tuple(r for r in ESCALATION_RULES if all(lookup(a) is not None for a in r.actions))


def rule_actions(rules: tuple[EscalationRule, ...]) -> frozenset[str]:
    return frozenset().union(*(r.actions for r in rules))


# --- inputs ------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """What the rules need to know of an identity.

    identity_id, kind, account, name: from ``identities``.
    trust: a role's parsed trust policy (empty for others or when invalid).
    has_instance_profile: a role listed in some instance profile.
    """

    identity_id: str
    kind: str
    account: str | None
    name: str
    trust: TrustPolicy = EMPTY_TRUST
    has_instance_profile: bool = False


@dataclass(frozen=True)
class Workload:
    """Something that runs as a role: resource_arn, the role, the ARN's service and account, the input's kind."""

    resource_arn: str
    role_id: str
    service: str
    account: str | None
    kind: str | None


@dataclass(frozen=True)
class PrincipalSet:
    """Every principal of one kind of one account, as one target.

    set_id: ``principals:<kind>:<account>``. pattern: an ARN pattern every
    member matches. members: their identity ids, sorted.
    """

    set_id: str
    kind: str
    account: str
    pattern: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class EscalationInputs:
    """Everything the rules look at.

    principals: identity id -> ``Principal``.
    capabilities: identity id -> its ``Capabilities`` for the rules' actions.
    members: (account, kind) -> identity ids of that kind, sorted.
    service_roles: (account, service principal) -> (role id, whether only
        conditionally) of the roles whose trust policy lets that service in.
    attached_policies: identity id -> customer-managed policy ARNs whose
        statements it holds (its own, and its groups').
    workloads: known workloads, or None when the input was not given.
    skipped_sources: identities that get no escalation edges (full-access
        principals already control their account).
    principal_sets: (account, kind) -> its ``PrincipalSet``: a source that holds
        a rule's actions on every member alike gets one edge to the set.
    reachable: (identity id, account, kind or None) -> the principals of that
        account (and kind) it reaches through the edges found so far (never
        itself), in id order; needed by reach-dependent rules only.
    """

    principals: dict[str, Principal]
    capabilities: dict[str, Capabilities]
    members: dict[tuple[str | None, str], tuple[str, ...]]
    service_roles: dict[tuple[str | None, str], tuple[tuple[str, bool], ...]]
    attached_policies: dict[str, tuple[str, ...]]
    workloads: tuple[Workload, ...] | None = None
    skipped_sources: frozenset[str] = frozenset()
    principal_sets: dict[tuple[str, str], PrincipalSet] = field(default_factory=dict)
    reachable: Callable[[str, str | None, str | None], Iterable[str]] | None = None


class _Target(NamedTuple):
    """One candidate target of a rule: the ARN the actions must match and where the edge goes. A named tuple:
    rules make millions of candidates and keep few, and a frozen dataclass took three times as long to make."""

    arn: str
    edge_target_id: str
    label: str
    subject_id: str | None = None
    subject_label: str | None = None
    workload_label: str | None = None
    floor: Access = Access.ALLOWED
    note: str = ""


def service_roles_index(principals: dict[str, Principal]) -> dict[tuple[str | None, str], tuple[tuple[str, bool], ...]]:
    """``EscalationInputs.service_roles`` from the principals' trust policies."""
    index: dict[tuple[str | None, str], list[tuple[str, bool]]] = {}
    for role in sorted((p for p in principals.values() if p.kind == "role"), key=lambda p: p.identity_id):
        for trusted in role.trust.of_kind("service"):
            index.setdefault((role.account, trusted.value), []).append((role.identity_id, trusted.is_conditional))
    return {k: tuple(v) for k, v in index.items()}


def _same_account(inputs: EscalationInputs, source: Principal, kind: str) -> tuple[str, ...]:
    return inputs.members.get((source.account, kind), ())


def _other_principals(kind: str) -> Callable[[EscalationRule, Principal, EscalationInputs], Iterator[_Target]]:
    def targets(rule: EscalationRule, source: Principal, inputs: EscalationInputs) -> Iterator[_Target]:
        for target_id in _same_account(inputs, source, kind):
            if target_id != source.identity_id:
                yield _Target(target_id, target_id, f"{kind} {inputs.principals[target_id].name}")
    return targets


def principal_sets(principals: dict[str, Principal],
                   members: dict[tuple[str | None, str], tuple[str, ...]]) -> dict[tuple[str, str], PrincipalSet]:
    """A set for each account's users, roles and groups of two or more whose ARNs one pattern matches
    (``arn:<partition>:iam::<account>:<kind>/*``); kinds or ids that fit no such pattern get none."""
    sets = {}
    for (account, kind), ids in members.items():
        if account is None or kind not in PRINCIPAL_KINDS or len(ids) < 2:
            continue
        partition = ids[0].split(":")[1] if ids[0].startswith("arn:") else ""
        prefix = f"arn:{partition}:iam::{account}:{kind}/"
        if partition and all(i.startswith(prefix) for i in ids):
            sets[(account, kind)] = PrincipalSet(principal_set_id(kind, account), kind, account, prefix + "*", ids)
    return sets


# The rules whose targets are every principal of a kind in the source's account, and that kind.
_SET_TARGET_KINDS = {"other_user": "user", "role_trust": "role", "group": "group"}


def _set_target(rule: EscalationRule, source: Principal, inputs: EscalationInputs) -> tuple[_Target, Access] | None:
    """The source's principal set target, and the access it holds on every member alike: None where it holds
    the rule's actions on some members and not others, or where fewer than two members are not itself."""
    kind = _SET_TARGET_KINDS.get(rule.target_kind)
    group = inputs.principal_sets.get((source.account, kind)) if kind and source.account else None
    # the members are every principal of the kind in the source's account: the source is one if of that kind
    if group is None or len(group.members) - (source.kind == kind) < 2:
        return None
    access = inputs.capabilities[source.identity_id].all_of_alike(rule.actions_on_target, group.pattern)
    if access is None:
        return None
    label = f"any {kind} of account {group.account} ({len(group.members):,} {kind}s)"
    return _Target(group.pattern, group.set_id, label), access


def _reached_principals(source: Principal, inputs: EscalationInputs, kind: str | None = None) -> Iterator[Principal]:
    """The source first, then the same-account principals it reaches, by id, of ``kind`` when given (read
    lazily: a rule stops at the first that gives it an unconditional edge)."""
    if kind is None or source.kind == kind:
        yield source
    for reached_id in inputs.reachable(source.identity_id, source.account, kind) if inputs.reachable else ():
        yield inputs.principals[reached_id]


def _subject_label(subject: Principal, source: Principal) -> str:
    return "itself" if subject is source else f"{subject.kind} {subject.name}, which it can reach"


def _principal_policy_targets(rule: EscalationRule, source: Principal, inputs: EscalationInputs) -> Iterator[_Target]:
    if source.account is None:
        return
    for subject in _reached_principals(source, inputs, rule.target_principal_kind):
        if subject.kind == rule.target_principal_kind:
            yield _Target(subject.identity_id, admin_node_id(source.account), f"full control of {source.account}",
                          subject.identity_id, _subject_label(subject, source))


def _attached_policy_targets(rule: EscalationRule, source: Principal, inputs: EscalationInputs) -> Iterator[_Target]:
    """Each policy attached to the source or a principal it reaches, once: the source's access to a policy is
    the same whoever holds it, so the first holder's way is the one kept (reached principals share policies:
    at 50,000 identities most targets were a policy met before)."""
    if source.account is None:
        return
    seen: set[str] = set()
    for subject in _reached_principals(source, inputs):
        for policy_arn in inputs.attached_policies.get(subject.identity_id, ()):
            if policy_arn in seen:
                continue
            seen.add(policy_arn)
            yield _Target(policy_arn, admin_node_id(source.account), policy_arn.rsplit("/", 1)[-1],
                          subject.identity_id, _subject_label(subject, source))


def _instance_profile_floor(rule: EscalationRule, role: Principal, caps: Capabilities) -> tuple[Access, str]:
    if not rule.needs_instance_profile or role.has_instance_profile:
        return Access.ALLOWED, ""
    return caps.all_of(INSTANCE_PROFILE_ACTIONS), " through a new instance profile"


def _passable_role_targets(rule: EscalationRule, source: Principal, inputs: EscalationInputs) -> Iterator[_Target]:
    caps = inputs.capabilities.get(source.identity_id, NO_CAPABILITIES)
    for role_id, is_conditional in inputs.service_roles.get((source.account, rule.service_principal or ""), ()):
        if role_id == source.identity_id:
            continue
        role = inputs.principals[role_id]
        floor, note = _instance_profile_floor(rule, role, caps)
        floor = min(floor, Access.CONDITIONAL if is_conditional else Access.ALLOWED)
        yield _Target(role_id, role_id, role.name, floor=floor, note=note)


def _workload_targets(rule: EscalationRule, source: Principal, inputs: EscalationInputs) -> Iterator[_Target]:
    for workload in inputs.workloads or ():
        role = inputs.principals.get(workload.role_id)
        if (workload.service == rule.workload_service and workload.account in (None, source.account)
                and role is not None and workload.role_id != source.identity_id):
            yield _Target(workload.resource_arn, workload.role_id, role.name,
                          workload_label=workload.resource_arn.rsplit(":", 1)[-1])


_TARGETS: dict[str, Callable[[EscalationRule, Principal, EscalationInputs], Iterator[_Target]]] = {
    "other_user": _other_principals("user"),
    "role_trust": _other_principals("role"),
    "group": _other_principals("group"),
    "principal_policies": _principal_policy_targets,
    "attached_policy": _attached_policy_targets,
    "passable_role": _passable_role_targets,
    "workload": _workload_targets,
}


def _service_access(rule: EscalationRule, caps: Capabilities) -> tuple[Access, tuple[str, ...]]:
    """The best alternative among the rule's service action sets, and its actions."""
    if not rule.service_action_sets:
        return Access.ALLOWED, ()
    best = max(rule.service_action_sets, key=caps.all_of)
    return caps.all_of(best), best


def _holders(capabilities: dict[str, Capabilities]) -> dict[str, frozenset[str]]:
    """Action key -> the identities some statement allows it to (on some resource)."""
    held: dict[str, set[str]] = defaultdict(set)
    for identity_id, caps in capabilities.items():
        for key, scopes in caps.allows.items():
            if scopes:
                held[key].add(identity_id)
    return {key: frozenset(ids) for key, ids in held.items()}


def _sources(rule: EscalationRule, inputs: EscalationInputs, held: dict[str, frozenset[str]]) -> list[Principal]:
    needed = [held.get(action_key(a), frozenset()) for a in rule.actions_on_target]
    return [
        inputs.principals[i]
        for i in inputs.capabilities
        if all(i in ids for ids in needed)
        and i in inputs.principals
        and i not in inputs.skipped_sources
        and inputs.principals[i].kind in rule.source_kinds
    ]


def _edge(rule: EscalationRule, source: Principal, target: _Target, access: Access, actions: tuple[str, ...]) -> Edge:
    reason = rule.reason.format(
        source=source.name,
        target=target.label,
        subject=target.subject_label or "",
        workload=target.workload_label or "",
        actions=", ".join(rule.actions_on_target + actions),
    )
    return Edge(
        source_id=source.identity_id,
        target_id=target.edge_target_id,
        edge_type=CAN_ESCALATE,
        method=rule.code,
        reason=reason + target.note,
        is_conditional=access == Access.CONDITIONAL,
        subject_id=target.subject_id,
    )


# Every target of these rules leads to the source's own admin node: one edge per source and rule.
_ONE_EDGE_PER_SOURCE = frozenset({"principal_policies", "attached_policy"})


def evaluate_rules(rules: tuple[EscalationRule, ...], inputs: EscalationInputs) -> list[Edge]:
    """Every CAN_ESCALATE edge the rules find: one per (source, target, rule), the strongest way.

    Where a rule reaches one target several ways (an admin node through the
    source itself or through a reached principal), the unconditional way wins,
    then the source itself, then the first by id.
    """
    found: dict[tuple[str, str, str], Edge] = {}
    held = _holders(inputs.capabilities)
    for rule in rules:
        if rule.target_kind == "workload" and inputs.workloads is None:
            continue
        for source in _sources(rule, inputs, held):
            caps = inputs.capabilities[source.identity_id]
            service_access, actions = _service_access(rule, caps)
            if service_access == Access.NONE:
                continue
            whole_set = _set_target(rule, source, inputs)
            if whole_set is not None:
                target, access = whole_set
                if min(service_access, access) != Access.NONE:
                    found[(source.identity_id, target.edge_target_id, rule.code)] = _edge(
                        rule, source, target, min(service_access, access), actions)
                continue
            # the same answer on every ARN (a Resource "*", conditional or not, undenied) is asked once, and a rule
            # whose targets all lead to one edge needs its first target only (a conditional admin walked thousands)
            alike = caps.all_of_alike(rule.actions_on_target, "*")
            for target in _TARGETS[rule.target_kind](rule, source, inputs):
                key = (source.identity_id, target.edge_target_id, rule.code)
                if key in found and not found[key].is_conditional:
                    # an unconditional way is already found: nothing later can replace it
                    if rule.target_kind in _ONE_EDGE_PER_SOURCE:
                        break
                    continue
                on_target = alike if alike is not None else caps.all_of(rule.actions_on_target, target.arn)
                access = min(service_access, target.floor, on_target)
                if access != Access.NONE and not (key in found and access == Access.CONDITIONAL):
                    found[key] = _edge(rule, source, target, access, actions)
                if alike is not None and rule.target_kind in _ONE_EDGE_PER_SOURCE:
                    break
    return list(found.values())
