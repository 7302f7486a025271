"""Everything a report shows, read from the warehouse once (SQL in sql/reports/)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from models.recommendations.rules import RIGHT_SIZE_MIN_UNUSED_RATIO
from pipelines.sql import query_frame

TOP_IDENTITIES = 5


@dataclass(frozen=True)
class ReportData:
    as_of: date
    window_days: int
    headline: dict
    distributions: pl.DataFrame
    riskiest: pl.DataFrame
    service_usage: pl.DataFrame
    admin_paths: pl.DataFrame
    recommendations: pl.DataFrame
    sections: pl.DataFrame
    services: pl.DataFrame
    credentials: pl.DataFrame
    trend: pl.DataFrame
    quality: dict
    quarantine: pl.DataFrame


def read_report_data(con: duckdb.DuckDBPyConnection, *, as_of: date, window_days: int) -> ReportData:
    window = {"as_of": as_of, "window_days": window_days}
    headline = query_frame(con, "reports/headline", as_of=as_of, over_privileged_ratio=RIGHT_SIZE_MIN_UNUSED_RATIO)
    return ReportData(
        as_of=as_of,
        window_days=window_days,
        headline=headline.row(0, named=True) if headline.height else {},
        distributions=query_frame(con, "reports/distributions"),
        riskiest=query_frame(con, "reports/riskiest"),
        service_usage=query_frame(con, "reports/service_usage", top_identities=TOP_IDENTITIES),
        admin_paths=query_frame(con, "reports/admin_paths"),
        recommendations=query_frame(con, "reports/recommendations"),
        sections=query_frame(con, "reports/identity_sections"),
        services=query_frame(con, "reports/identity_services"),
        credentials=query_frame(con, "reports/identity_credentials", as_of=as_of),
        trend=query_frame(con, "reports/trend", as_of=as_of),
        quality=query_frame(con, "reports/data_quality", **window).row(0, named=True),
        quarantine=query_frame(con, "reports/quarantine_by_reason"),
    )
