"""The permission graph's inputs and nothing more: the assets upstream of ``marts/permission_edges``, run into
a warehouse's working copy (``<warehouse>/build/overreach.duckdb``), for the blast-radius measure of
``run_bench.py``. A whole night at 50,000 identities would spend most of its time on proposals and what-ifs,
which that measure does not read.

    .venv/bin/python bench/graph_inputs.py SOURCES... --warehouse DIR --as-of YYYY-MM-DD
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import dagster as dg  # noqa: E402

from pipelines.defs_loader import load_project_defs  # noqa: E402
from pipelines.resources import build_resources  # noqa: E402

GRAPH_ASSET = dg.AssetKey(["marts", "permission_edges"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args()
    defs = load_project_defs(resources=build_resources(sources=args.sources, warehouse_dir=args.warehouse,
                                                       as_of=args.as_of))
    graph = defs.resolve_asset_graph()
    inputs = dg.AssetSelection.assets(GRAPH_ASSET).upstream() - dg.AssetSelection.assets(
        *graph.get(GRAPH_ASSET).execution_set_asset_keys)
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=list(inputs.resolve(graph)), raise_on_error=False, instance=dg.DagsterInstance.ephemeral())
    print(f"graph inputs: {'done' if result.success else 'failed'}", flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
