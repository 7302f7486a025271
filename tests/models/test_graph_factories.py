"""Named factories for permission-graph scenarios, and checks that they build what they say.

Scenarios are written as identities with policy documents; the grants come
from the real expansion and effective-permission code (``models.iam``), so a
fixture reads like the IAM export it stands for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from models.graph import PermissionGraph, build_graph
from models.iam.effective import resolve_grants, with_group_policies
from models.iam.policy import expand_policies

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions, resources="*", *, condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resources}
    return statement | ({"Condition": condition} if condition else {})


def deny(actions, resources="*", *, condition: dict | None = None) -> dict:
    return allow(actions, resources, condition=condition) | {"Effect": "Deny"}


def service_trust(*services: str) -> dict:
    return policy({"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"})


def aws_trust(*principals: str, condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}
    return policy(statement | ({"Condition": condition} if condition else {}))


def arn(kind: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def root(account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:root"


def managed_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:policy/{name}"


@dataclass(frozen=True)
class Identity:
    """One principal of a scenario: its row in ``identities`` and its policies.

    inline: inline policy documents. managed: (policy ARN, document) pairs.
    groups: names of the groups (same account) a user is in.
    """

    kind: str
    name: str
    account: str = ACCOUNT
    inline: tuple[dict, ...] = ()
    managed: tuple[tuple[str, dict], ...] = ()
    groups: tuple[str, ...] = ()
    trust: dict | None = None
    has_instance_profile: bool = False
    is_ai: bool = False

    @property
    def arn(self) -> str:
        return arn(self.kind, self.name, self.account)


def user(name: str, *, account: str = ACCOUNT, inline=(), managed=(), groups=()) -> Identity:
    return Identity("user", name, account, tuple(inline), tuple(managed), tuple(groups))


def role(name: str, *, account: str = ACCOUNT, trust: dict | None = None, inline=(), managed=(),
         has_instance_profile: bool = False, is_ai: bool = False) -> Identity:
    return Identity("role", name, account, tuple(inline), tuple(managed), (),
                    trust if trust is not None else service_trust("lambda.amazonaws.com"),
                    has_instance_profile, is_ai)


def group(name: str, *, account: str = ACCOUNT, inline=(), managed=()) -> Identity:
    return Identity("group", name, account, tuple(inline), tuple(managed))


@dataclass(frozen=True)
class Scenario:
    """The frames ``build_graph`` reads."""

    identities: pl.DataFrame
    group_memberships: pl.DataFrame
    grants: pl.DataFrame
    resources: pl.DataFrame | None = None
    used_edges: pl.DataFrame | None = None
    workloads: pl.DataFrame | None = None
    extra: dict = field(default_factory=dict)

    def inputs(self) -> dict[str, pl.DataFrame | None]:
        """``build_graph``'s keyword arguments, as the pipeline reads them from the warehouse."""
        return {"identities": self.identities, "group_memberships": self.group_memberships, "grants": self.grants,
                "resources": self.resources, "used_edges": self.used_edges, "workloads": self.workloads}

    def graph(self) -> PermissionGraph:
        return build_graph(**self.inputs())


def identities_frame(identities: list[Identity]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "identity_id": [i.arn for i in identities],
            "kind": [i.kind for i in identities],
            "account": [i.account for i in identities],
            "name": [i.name for i in identities],
            "is_ai": [i.is_ai for i in identities],
            "environment": [None] * len(identities),
            "trust_policy": [json.dumps(i.trust) if i.trust is not None else None for i in identities],
            "instance_profile_arns": [
                [f"arn:aws:iam::{i.account}:instance-profile/{i.name}"] if i.has_instance_profile else []
                for i in identities
            ],
        },
        schema={"identity_id": pl.String, "kind": pl.String, "account": pl.String, "name": pl.String,
                "is_ai": pl.Boolean, "environment": pl.String, "trust_policy": pl.String,
                "instance_profile_arns": pl.List(pl.String)},
    )


def memberships_frame(identities: list[Identity]) -> pl.DataFrame:
    rows = [(i.arn, arn("group", g, i.account)) for i in identities for g in i.groups]
    return pl.DataFrame(rows, schema={"user_arn": pl.String, "group_arn": pl.String}, orient="row")


def grants_frame(identities: list[Identity], memberships: pl.DataFrame) -> pl.DataFrame:
    documents: dict[str, str] = {}
    attachments = []
    for identity in identities:
        for index, document in enumerate(identity.inline):
            policy_id = f"{identity.arn}#inline/p{index}"
            documents[policy_id] = json.dumps(document)
            attachments.append((identity.arn, policy_id, "inline"))
        for policy_arn, document in identity.managed:
            documents[policy_arn] = json.dumps(document)
            attachments.append((identity.arn, policy_arn, "managed"))
    policies = pl.DataFrame({"policy_id": list(documents), "document": list(documents.values())},
                            schema={"policy_id": pl.String, "document": pl.String})
    attached = pl.DataFrame(attachments, schema={"identity_id": pl.String, "policy_id": pl.String, "via": pl.String},
                            orient="row")
    attached = with_group_policies(attached, memberships.select(identity_id="user_arn", group_id="group_arn"))
    return resolve_grants(expand_policies(policies), attached)


def scenario(*identities: Identity, resources: list[tuple[str, str, str | None]] | None = None,
             used: list[tuple[str, str, str | None]] | None = None,
             workloads: list[tuple[str, str, str]] | None = None) -> Scenario:
    """A scenario from identities; ``resources``: (arn, service, tier); ``used``: (source, target, edge type);
    ``workloads``: (resource arn, role arn, kind)."""
    people = list(identities)
    memberships = memberships_frame(people)
    return Scenario(
        identities=identities_frame(people),
        group_memberships=memberships,
        grants=grants_frame(people, memberships),
        resources=None if resources is None else pl.DataFrame(
            resources, schema={"resource_arn": pl.String, "service": pl.String, "sensitivity_tier": pl.String},
            orient="row"),
        used_edges=None if used is None else pl.DataFrame(
            used, schema={"source_id": pl.String, "target_id": pl.String, "edge_type": pl.String}, orient="row"),
        workloads=None if workloads is None else pl.DataFrame(
            workloads, schema={"resource_arn": pl.String, "role_arn": pl.String, "kind": pl.String}, orient="row"),
    )


def graph_of(*identities: Identity, **options) -> PermissionGraph:
    return scenario(*identities, **options).graph()


def edge_set(graph: PermissionGraph, *edge_types: str) -> set[tuple[str, str, str]]:
    """(source, target, method) of the edges of the given types."""
    edges = graph.edges.filter(pl.col("edge_type").is_in(list(edge_types)))
    return set(edges.select("source_id", "target_id", "method").iter_rows())


# --- the factories themselves ------------------------------------------------------


def test_group_members_inherit_group_policies_in_grants():
    s = scenario(group("ops", inline=[policy(allow("s3:GetObject"))]), user("alice", groups=["ops"]))
    alice_rows = s.grants.filter(pl.col("identity_id") == arn("user", "alice"))
    assert alice_rows.select("action", "via").rows() == [("s3:GetObject", f"group:{arn('group', 'ops')}")]


def test_identities_frame_carries_trust_and_instance_profiles():
    frame = identities_frame([role("r", trust=service_trust("ec2.amazonaws.com"), has_instance_profile=True)])
    assert json.loads(frame["trust_policy"][0])["Statement"][0]["Principal"] == {"Service": ["ec2.amazonaws.com"]}
    assert frame["instance_profile_arns"].to_list() == [[f"arn:aws:iam::{ACCOUNT}:instance-profile/r"]]
