"""A synthetic organisation of any size, for the graph's invariants at scale and a timing run.

``python -m tests.models.test_graph_scale 50000`` builds a 50k-principal
organisation and prints how long each step takes (no timed assertion in the
tests: machines differ). The tests run the same generator at a small size.
"""

from __future__ import annotations

import random
import sys
import time

import networkx as nx
import polars as pl

from models.graph import blast_radius, escalation_paths
from tests.models.test_graph_factories import (
    Identity,
    allow,
    aws_trust,
    group,
    managed_arn,
    policy,
    role,
    root,
    scenario,
    service_trust,
    user,
)

SERVICES = ("lambda.amazonaws.com", "ec2.amazonaws.com", "glue.amazonaws.com", "ecs-tasks.amazonaws.com",
            "sagemaker.amazonaws.com", "bedrock.amazonaws.com")


def _account(index: int) -> str:
    return f"{100000000000 + index:012d}"


def _shared(name: str, account: str, *statements: dict) -> tuple[str, dict]:
    return managed_arn(name, account), policy(*statements)


def _account_identities(index: int, size: int, accounts: int, rng: random.Random) -> list[Identity]:
    """One account: an admin group and its users, data roles, CI roles trusting the account, agents, people."""
    account = _account(index)
    admin = _shared("admin", account, allow("*"))
    readers = [_shared(f"reader-{k}", account, allow(["s3:GetObject", "s3:ListBucket"], f"arn:aws:s3:::data-{k}/*"),
                       allow("dynamodb:Query", f"arn:aws:dynamodb:us-east-1:{account}:table/t{k}")) for k in range(8)]
    deployer = _shared("deployer", account, allow(["lambda:*", "cloudformation:*", "iam:PassRole"]))
    assumer = _shared("assumer", account, allow("sts:AssumeRole", f"arn:aws:iam::{account}:role/ci-*"),
                      allow("sts:AssumeRole", f"arn:aws:iam::{_account((index + 1) % accounts)}:role/ci-*"))
    self_attach = _shared("self-attach", account, allow("iam:AttachRolePolicy", f"arn:aws:iam::{account}:role/tool-*"))
    identities: list[Identity] = [group("admins", account=account, managed=[admin])]
    identities += [user(f"admin-{i}", account=account, groups=["admins"]) for i in range(2)]
    for i in range(size - 3):
        draw = rng.random()
        if draw < 0.45:
            identities.append(role(f"data-{i}", account=account, trust=service_trust(rng.choice(SERVICES)),
                                   managed=[rng.choice(readers)], has_instance_profile=rng.random() < 0.3))
        elif draw < 0.50:
            trust = aws_trust(root(account), root(_account((index - 1) % accounts)))
            identities.append(role(f"ci-{i}", account=account, trust=trust, managed=[deployer]))
        elif draw < 0.51:
            identities.append(role(f"tool-{i}", account=account, managed=[self_attach, rng.choice(readers)]))
        elif draw < 0.60:
            identities.append(user(f"dev-{i}", account=account, managed=[assumer, rng.choice(readers)]))
        else:
            identities.append(user(f"person-{i}", account=account, managed=[rng.choice(readers)]))
    return identities


def synthetic_identities(principals: int, *, per_account: int = 1000, seed: int = 7) -> list[Identity]:
    rng = random.Random(seed)
    accounts = max(1, principals // per_account)
    sizes = [principals // accounts + (1 if i < principals % accounts else 0) for i in range(accounts)]
    return [i for index, size in enumerate(sizes) for i in _account_identities(index, size, accounts, rng)]


def test_synthetic_org_invariants_at_small_scale():
    graph = scenario(*synthetic_identities(600, per_account=200)).graph()
    radius = blast_radius(graph)
    assert radius.height == 600
    # Everyone in an admins group reaches admin in one hop; a pure data role reaches nothing else.
    admins = radius.filter(pl.col("identity_id").str.contains(":user/admin-"))
    assert admins["hops_to_admin"].to_list() == [1] * 6
    data_roles = radius.filter(pl.col("identity_id").str.contains(":role/data-"))
    assert data_roles["reachable_identities"].max() == 0
    assert not data_roles["can_reach_admin"].any()
    # Self-attaching tool roles are admin by rewriting their own policies.
    tools = radius.filter(pl.col("identity_id").str.contains(":role/tool-"))
    assert tools.height > 0 and tools["hops_to_admin"].to_list() == [1] * tools.height
    # CI roles trust their own and the previous account and hold lambda + PassRole: deployers pass data roles.
    ci = radius.filter(pl.col("identity_id").str.contains(":role/ci-"))
    assert ci["reachable_identities"].min() > 0
    # Reach agrees with a plain search on the delegation graph for every identity.
    delegation = graph.delegation_graph()
    for identity_id, reachable in radius.select("identity_id", "reachable_identities").iter_rows():
        expected = {n for n in nx.descendants(delegation, identity_id)
                    if graph.graph.nodes[n]["node_type"] == "identity" and graph.graph.nodes[n]["kind"] != "group"}
        assert reachable == len(expected - {identity_id}), identity_id
    paths = escalation_paths(graph)
    assert set(paths["identity_id"]) == set(radius.filter("can_reach_admin")["identity_id"])


def main(principals: int) -> None:
    started = time.perf_counter()
    identities = synthetic_identities(principals)
    s = scenario(*identities)
    prepared = time.perf_counter()
    print(f"inputs: {len(identities)} principals, {s.grants.height} grant rows in {prepared - started:.1f}s")
    graph = s.graph()
    built = time.perf_counter()
    print(f"build_graph: {graph.graph.number_of_nodes()} nodes, {graph.graph.number_of_edges()} edges "
          f"in {built - prepared:.1f}s")
    radius = blast_radius(graph)
    measured = time.perf_counter()
    print(f"blast_radius: {radius.height} rows, {radius['can_reach_admin'].sum()} reach admin "
          f"in {measured - built:.1f}s")
    paths = escalation_paths(graph)
    print(f"escalation_paths: {paths.height} paths in {time.perf_counter() - measured:.1f}s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
