"""The graph step hands its what-if index to the same run's recommendations: a saved index is read back with the
figures it was saved with, and an index saved by another run is never used in place of this run's graph."""

from models.graph.whatif import ReachIndex
from pipelines.graph_io import reach_index_of_run, save_reach_index
from tests.models.test_graph_factories import allow, arn, policy, role, scenario, service_trust

DEPLOYER = arn("role", "deployer")


def organisation(*, deployer_can_pass_roles: bool):
    actions = ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"] if deployer_can_pass_roles else [
        "lambda:InvokeFunction"]
    deployer = role("deployer", inline=[policy(allow(actions))])
    admin = role("ops-admin", trust=service_trust("lambda.amazonaws.com"), inline=[policy(allow("*"))])
    return scenario(deployer, admin)


def test_the_index_saved_by_this_run_is_read_back_without_reading_the_inputs(tmp_path):
    path = tmp_path / "reach_index.pickle"
    saved = ReachIndex(organisation(deployer_can_pass_roles=True).graph().graph)
    save_reach_index(path, saved, "run-1")

    def inputs_must_not_be_read():
        raise AssertionError("the saved index should have been used")

    loaded = reach_index_of_run(path, "run-1", inputs_must_not_be_read)

    assert loaded.figures(DEPLOYER) == saved.figures(DEPLOYER)
    assert (loaded.figures(DEPLOYER)["can_reach_admin"], loaded.figures(DEPLOYER)["hops_to_admin"]) == (True, 2)


def test_an_index_saved_by_another_run_gives_way_to_this_runs_graph(tmp_path):
    path = tmp_path / "reach_index.pickle"
    save_reach_index(path, ReachIndex(organisation(deployer_can_pass_roles=True).graph().graph), "run-1")

    index = reach_index_of_run(path, "run-2", organisation(deployer_can_pass_roles=False).inputs)

    figures = index.figures(DEPLOYER)
    assert (figures["can_reach_admin"], figures["hops_to_admin"], figures["reachable_identities"]) == (False, None, 0)


def test_without_a_saved_index_the_graph_is_built_from_the_inputs(tmp_path):
    index = reach_index_of_run(tmp_path / "absent.pickle", "run-1", organisation(deployer_can_pass_roles=True).inputs)

    assert index.figures(DEPLOYER)["can_reach_admin"] is True
