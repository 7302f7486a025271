"""Close the loop: apply the generated least-privilege policies to a copy of the inputs.

This is what an engineer does with a ``right_size_policy`` recommendation: each chosen identity's
permission policies — attached managed policies, inline policies and group memberships — are replaced by
ONE inline policy holding the generated document of ``<warehouse>/reports/<as-of>/policies/<file>``.
Permissions boundaries, trust policies, tags and every other input file are left as they were, so a
second run on the copy shows the effect of the change and nothing else.

    python -m pipelines.synth.apply SOURCES WAREHOUSE OUT [--identity NAME ...]
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.resources import DATABASE_NAME
from pipelines.sources.detect import AWS_AUTHORIZATION_DETAILS, detect_format
from pipelines.sources.files import describe_file, iter_input_paths, read_content

INLINE_POLICY_NAME = "overreach-least-privilege"
# Where each kind of principal keeps its inline policies in the export.
INLINE_LIST = {"UserDetailList": "UserPolicyList", "RoleDetailList": "RolePolicyList"}


class ApplyError(Exception):
    """Why the proposals cannot be applied, in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ApplyError(message)


@dataclass(frozen=True)
class AppliedPolicy:
    """identity_id: the ARN whose policies are replaced. name: its name.
    policy_path: the generated policy file. document: its content (a policy document)."""

    identity_id: str
    name: str
    policy_path: Path
    document: dict


def _connect(warehouse_dir: Path) -> duckdb.DuckDBPyConnection:
    database = warehouse_dir / DATABASE_NAME
    if not database.is_file():
        raise ApplyError(f"no warehouse at {database}: run `overreach run` first")
    return duckdb.connect(str(database), read_only=True)


def _latest_as_of(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute("SELECT max(as_of)::VARCHAR FROM marts.run_history").fetchall()
    if not rows or rows[0][0] is None:
        raise ApplyError("the warehouse has no run in marts.run_history")
    return rows[0][0]


def _right_sized(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT identity_id FROM marts.recommendations WHERE kind = 'right_size_policy' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _proposal_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None, str]]:
    return con.execute(
        "SELECT identity_id, name, policy_file, document FROM marts.proposed_policies ORDER BY identity_id"
    ).fetchall()


def _choose(rows: list[tuple], wanted: Iterable[str]) -> list[tuple]:
    """The proposal rows named by identity id or name; an unknown or ambiguous name is an error."""
    chosen = []
    for key in wanted:
        matches = [r for r in rows if key in (r[0], r[1])]
        if not matches:
            raise ApplyError(f"no proposed policy for {key!r} in marts.proposed_policies")
        if len(matches) > 1:
            raise ApplyError(f"{key!r} names {len(matches)} identities: give its ARN ({', '.join(r[0] for r in matches)})")
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return chosen


def load_applied_policies(warehouse_dir: Path, identities: Sequence[str] | None = None) -> list[AppliedPolicy]:
    """The generated policies to apply: those of ``identities`` (ARNs or names), or, when None, of every
    identity with a ``right_size_policy`` recommendation. Each file must still hold the document the
    warehouse recorded for it (else the report directory belongs to another run)."""
    with _connect(warehouse_dir) as con:
        as_of = _latest_as_of(con)
        rows = _proposal_rows(con)
        wanted = list(identities) if identities is not None else _right_sized(con)
    policies = []
    for identity_id, name, policy_file, document in _choose(rows, wanted):
        if policy_file is None:
            raise ApplyError(f"{name} has no generated policy (it used nothing in the window): retire it instead")
        path = warehouse_dir / "reports" / as_of / policy_file
        if not path.is_file():
            raise ApplyError(f"generated policy not found: {path}")
        on_disk = json.loads(path.read_text())
        if on_disk != json.loads(document):
            raise ApplyError(f"{path} differs from marts.proposed_policies for {name}: re-run the pipeline")
        policies.append(AppliedPolicy(identity_id, name, path, on_disk))
    return policies


def rewrite_export(export: dict, policies: dict[str, dict]) -> tuple[dict, set[str]]:
    """A copy of one authorization-details export in which each principal whose ARN is a key of
    ``policies`` holds exactly one inline policy (that document): no managed policies, no other inline
    policy, no group. Returns the copy and the ARNs rewritten. Groups are never rewritten: a group's
    grant reaches its members, so it is changed by taking members out of it."""
    rewritten = copy.deepcopy(export)
    changed = set()
    for list_name, inline_key in INLINE_LIST.items():
        for entry in rewritten.get(list_name) or []:
            arn = entry.get("Arn") if isinstance(entry, dict) else None
            if arn not in policies:
                continue
            entry["AttachedManagedPolicies"] = []
            entry[inline_key] = [{"PolicyName": INLINE_POLICY_NAME, "PolicyDocument": policies[arn]}]
            if list_name == "UserDetailList":
                entry["GroupList"] = []
            changed.add(arn)
    return rewritten, changed


def _authorization_exports(root: Path) -> list[Path]:
    """The authorization-details files under ``root``, recognised by content as the pipeline does."""
    return [p for p in iter_input_paths([root]) if detect_format(describe_file(p)).format == AWS_AUTHORIZATION_DETAILS]


def _copy_sources(sources_dir: Path, out_dir: Path) -> None:
    if not sources_dir.is_dir():
        raise ApplyError(f"sources must be a directory: {sources_dir}")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ApplyError(f"output directory is not empty: {out_dir}")
    if out_dir.resolve().is_relative_to(sources_dir.resolve()):
        raise ApplyError(f"output directory {out_dir} is inside the sources {sources_dir}")
    shutil.copytree(sources_dir, out_dir, dirs_exist_ok=True)


def _write_export(path: Path, export: dict, *, is_gzip: bool) -> None:
    data = (json.dumps(export, indent=4) + "\n").encode()
    path.write_bytes(gzip.compress(data, mtime=0) if is_gzip else data)


def apply_proposed_policies(
    sources_dir: Path | str, warehouse_dir: Path | str, out_dir: Path | str, *, identities: Sequence[str] | None = None
) -> list[AppliedPolicy]:
    """Copy ``sources_dir`` to ``out_dir`` and, in the copy's authorization-details export(s), replace the
    permission policies of each chosen identity (``identities``: ARNs or names; None: every identity with a
    ``right_size_policy`` recommendation in ``warehouse_dir``) by one inline policy holding its generated
    least-privilege document. Returns what was applied; raises ``ApplyError`` when a chosen identity is
    not an IAM user or role of the exports."""
    sources_dir, warehouse_dir, out_dir = Path(sources_dir), Path(warehouse_dir), Path(out_dir)
    policies = load_applied_policies(warehouse_dir, identities)
    documents = {p.identity_id: p.document for p in policies}
    _copy_sources(sources_dir, out_dir)
    applied: set[str] = set()
    for path in _authorization_exports(out_dir):
        source = describe_file(path)
        export = json.loads(read_content(source))
        if not isinstance(export, dict):
            continue
        rewritten, changed = rewrite_export(export, documents)
        if changed:
            _write_export(path, rewritten, is_gzip=source.is_gzip)
            applied |= changed
    missing = sorted(set(documents) - applied)
    if missing:
        raise ApplyError(f"not an IAM user or role of the authorization-details exports: {', '.join(missing)}")
    return policies


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(
        prog="python -m pipelines.synth.apply",
        description="Apply the generated least-privilege policies to a copy of the inputs, for a second run.",
    )
    parser.add_argument("sources", type=Path, metavar="SOURCES", help="the input directory the warehouse was built from")
    parser.add_argument("warehouse", type=Path, metavar="WAREHOUSE", help="the warehouse of that run")
    parser.add_argument("out", type=Path, metavar="OUT", help="where to write the rewritten copy (new or empty)")
    parser.add_argument("--identity", action="append", metavar="NAME",
                        help="an identity name or ARN (repeatable; default: every right_size_policy recommendation)")
    try:
        args = parser.parse_args(argv)
    except ApplyError as error:
        print(f"apply: error: {error}", file=sys.stderr)
        return 2
    try:
        applied = apply_proposed_policies(args.sources, args.warehouse, args.out, identities=args.identity)
    except (ApplyError, OSError, ValueError, duckdb.Error) as error:
        print(f"apply: error: {(str(error).splitlines() or [type(error).__name__])[0]}", file=sys.stderr)
        return 1
    print(f"applied {len(applied)} generated policies to {args.out}:")
    for policy in applied:
        print(f"  {policy.name}: {len(_actions(policy.document))} actions from {policy.policy_path}")
    return 0


def _actions(document: dict) -> list[str]:
    actions: list[str] = []
    for statement in document.get("Statement") or []:
        listed = statement.get("Action") or []
        actions += [listed] if isinstance(listed, str) else list(listed)
    return actions


if __name__ == "__main__":
    sys.exit(main())
