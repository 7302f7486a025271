"""Load the project's definitions with chosen resources (the CLI and tests use this)."""

from pathlib import Path

import dagster as dg


def load_project_defs(resources: dict, loggers: dict | None = None) -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        # One process: DuckDB lets a single process write the warehouse file.
        dg.Definitions(resources=resources, executor=dg.in_process_executor, loggers=loggers or {}),
    )
