"""Dagster entry point: the assets under ``defs/`` plus the run-wide resources and executor."""

import dagster as dg

from pipelines.defs_loader import load_project_defs
from pipelines.resources import resources_from_environment


@dg.definitions
def defs() -> dg.Definitions:
    return load_project_defs(resources=resources_from_environment())
