"""Reports written per run under ``<warehouse>/reports/<as-of>/``."""
