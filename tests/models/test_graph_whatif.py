"""What-if on the graph: one identity's reach searched alone equals the all-at-once blast radius, and edits
change only what they should."""

from models.graph import blast_radius
from models.graph.whatif import ReachIndex
from tests.models.test_graph_factories import aws_trust, arn, graph_of, policy, allow, role, service_trust
from tests.models.test_graph_scale import scenario, synthetic_identities

OTHER = "444455556666"
FIGURES = ("reachable_identities", "reachable_resources", "reachable_sensitive_resources", "can_reach_admin",
           "hops_to_admin", "reachable_admin_ids", "blast_radius_score")


def test_searching_from_one_identity_gives_the_all_at_once_figures():
    graph = scenario(*synthetic_identities(600, per_account=200)).graph()
    expected = blast_radius(graph)
    index = ReachIndex(graph.graph)
    for row in expected.iter_rows(named=True):
        alone = index.figures(row["identity_id"])
        assert {k: alone[k] for k in FIGURES} == {k: row[k] for k in FIGURES}, row["identity_id"]
        assert abs(alone["reach_points"] - row["reach_points"]) < 1e-9
        if row["can_reach_admin"]:
            path = alone["path_to_admin"]
            assert path[0] == row["identity_id"] and path[-1] in row["reachable_admin_ids"]
            assert all(graph.graph.has_edge(u, v) for u, v in zip(path, path[1:]))


def test_removing_the_only_edge_to_admin_ends_admin_reach():
    deployer = role("deployer", inline=[policy(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]))])
    admin = role("ops-admin", trust=service_trust("lambda.amazonaws.com"), inline=[policy(allow("*"))])
    index = ReachIndex(graph_of(deployer, admin).graph)
    before = index.figures(arn("role", "deployer"))
    assert (before["can_reach_admin"], before["hops_to_admin"]) == (True, 2)
    with index.changed(arn("role", "deployer"), remove_edges=[(arn("role", "deployer"), arn("role", "ops-admin"))]):
        after = index.figures(arn("role", "deployer"))
    assert (after["can_reach_admin"], after["hops_to_admin"], after["reachable_identities"]) == (False, None, 0)
    assert index.figures(arn("role", "deployer")) == before  # restored after the block


def test_replacing_an_identitys_grants_replaces_only_its_edges():
    # Across accounts the caller's own sts:AssumeRole grant is needed, so its grants decide the edge.
    caller_arn = arn("role", "caller", OTHER)
    caller = role("caller", account=OTHER, inline=[policy(allow("sts:AssumeRole"))])
    target = role("target", trust=aws_trust(caller_arn), inline=[policy(allow("s3:GetObject"))])
    index = ReachIndex(graph_of(caller, target).graph)
    before = index.figures(caller_arn)
    assert before["reachable_identities"] == 1
    target_before = index.figures(arn("role", "target"))
    narrowed = graph_of(role("caller", account=OTHER, inline=[policy(allow("s3:ListBucket"))]), target)
    with index.changed(caller_arn, replacement=narrowed):
        assert index.figures(caller_arn)["reachable_identities"] == 0
        assert index.figures(arn("role", "target")) == target_before
    with index.changed(caller_arn, retire=True):
        assert index.figures(caller_arn) is None
    assert index.figures(caller_arn) == before
