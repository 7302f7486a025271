"""``resolved_grant_batches``: the grants resolved a batch at a time from the expansion on disk are the grants
resolved at once, in the same order, and the scratch file does not outlive them."""

import polars as pl

from models.iam.effective import GRANTS_SCHEMA, resolve_grants
from models.iam.policy import expand_policies
from pipelines.grants_io import resolved_grant_batches
from tests.models.test_iam_algebra import attachment, attachments_frame, policies_frame, policy, statement


def organisation() -> tuple[pl.DataFrame, pl.DataFrame]:
    documents = {f"p{i}": policy(statement(actions=["s3:GetObject", "s3:PutObject"], resources=f"arn:aws:s3:::b{i}/*"))
                 for i in range(4)}
    documents["deny"] = policy(statement(effect="Deny", actions="s3:PutObject", resources="arn:aws:s3:::b1/*"))
    attachments = [attachment(f"id-{i}", f"p{i}") for i in range(4)] + [attachment("id-1", "deny"),
                                                                         attachment("id-3", "p0", "inline")]
    return expand_policies(policies_frame(documents)), attachments_frame(attachments)


def test_batches_from_disk_are_the_grants_resolved_at_once(tmp_path):
    expanded, attachments = organisation()
    whole = resolve_grants(expanded, attachments)

    batches = list(resolved_grant_batches(expanded.clone(), attachments, tmp_path, max_rows=3))

    assert len(batches) == 3
    assert pl.concat(batches).equals(whole)
    assert whole.height == 9  # two actions on each of four buckets, one denied, and id-3's inline p0 twice
    assert list(tmp_path.iterdir()) == []


def test_no_attachments_give_one_empty_batch(tmp_path):
    expanded, _ = organisation()
    (batch,) = resolved_grant_batches(expanded, attachments_frame([]), tmp_path)
    assert batch.height == 0 and batch.schema == pl.Schema(GRANTS_SCHEMA)
    assert list(tmp_path.iterdir()) == []
