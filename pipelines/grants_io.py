"""``core.grants`` resolved a batch of identities at a time, with the policies' expansion kept on disk.

The expansion of an organisation's distinct policies is the largest frame of the step (3M rows, 0.6 GiB in
Polars at 10k identities), and each batch needs only its own policies' rows. Written once to a scratch Parquet
file, it is read back a batch's policies at a time, so Python never holds it whole beside a batch.
"""

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from models.iam.effective import GRANT_BATCH_ROWS, policy_row_counts, resolve_batches


def resolved_grant_batches(expanded: pl.DataFrame, attachments: pl.DataFrame, scratch: Path,
                           max_rows: int = GRANT_BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """The frames of ``resolve_grants_in_batches(expanded, attachments, max_rows)``, one after the other.

    ``expanded`` goes to ``scratch`` at once; the caller passes it without keeping a name for it
    (``resolved_grant_batches(expand_policies(...), ...)``), so that it is freed before the first batch.
    """
    rows_of_policy = policy_row_counts(expanded)
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / "policy_expansion.parquet"
    expanded.write_parquet(path)
    del expanded
    return _batches(path, rows_of_policy, attachments, max_rows)


def _batches(path: Path, rows_of_policy: pl.DataFrame, attachments: pl.DataFrame,
             max_rows: int) -> Iterator[pl.DataFrame]:
    def expansion_of(policies: list[str] | None) -> pl.DataFrame:
        # the file keeps the expansion's order, which a scan with a filter preserves
        scan = pl.scan_parquet(path)
        return (scan if policies is None else scan.filter(pl.col("policy_id").is_in(policies))).collect()

    try:
        yield from resolve_batches(rows_of_policy, attachments, expansion_of, max_rows)
    finally:
        path.unlink(missing_ok=True)
