"""docs/warehouse.md against the sample warehouse: every example query runs and finds what it says it
finds; every table of core / marts / ops is documented, column by column, with its real type, and the
keys the document claims identify rows."""

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "warehouse.md"
SAMPLE = REPO / "data" / "sample"
SAMPLE_AS_OF = "2026-11-27"
SCHEMAS = ("core", "marts", "ops")

ADMIN_EDGE_QUERY = "AI identities that can reach admin through an edge never used"
UNUSED_BY_TEAM_QUERY = "Unused Write and Permissions-management actions by team"
EXPIRING_QUERY = "Credentials expiring in the next 30 days"
RISK_TREND_QUERY = "How an identity's risk moved over the last 30 runs"
REQUIRED_QUERIES = (ADMIN_EDGE_QUERY, UNUSED_BY_TEAM_QUERY, EXPIRING_QUERY, RISK_TREND_QUERY)

_TABLE_HEADING = re.compile(r"^### `(core|marts|ops)\.([a-z_][a-z0-9_]*)`\s*$")
_COLUMN_ROW = re.compile(r"^\| `([a-z_][a-z0-9_]*)` \| `([^`]+)` \|")
_KEY_LINE = re.compile(r"^\*\*Key:\*\*\s*(.*)$")
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
# The document writes DuckDB's short spelling where the catalog reports the long one.
_TYPE_SPELLINGS = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}


@dataclass(frozen=True)
class DocumentedTable:
    """One table as docs/warehouse.md describes it.

    name: ``schema.table``.
    columns: column name -> type as written in the document, in document order.
    key: the columns of its **Key:** line; empty when the document says the table has none.
    """

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]


def documented_tables(text: str) -> dict[str, DocumentedTable]:
    """Every ``### `schema.table``` section: its column table (first cell the column, second the type)
    and its key line. A section ends at the next heading of level 2 or 3."""
    tables: dict[str, DocumentedTable] = {}
    name, columns, key = None, {}, ()

    def close():
        if name is not None:
            tables[name] = DocumentedTable(name, dict(columns), key)

    for line in text.splitlines():
        heading = _TABLE_HEADING.match(line)
        if heading or line.startswith(("## ", "### ")):
            close()
            name, columns, key = (f"{heading[1]}.{heading[2]}" if heading else None), {}, ()
            continue
        if name is None:
            continue
        if row := _COLUMN_ROW.match(line):
            columns[row[1]] = row[2]
        elif key_line := _KEY_LINE.match(line):
            claimed = key_line[1]
            key = () if claimed.lower().startswith("none") else tuple(re.findall(r"`([^`]+)`", claimed))
    close()
    return tables


def example_queries(text: str) -> dict[str, str]:
    """Title -> SQL of every ``### `` section under ``## Example queries`` (its first ```sql block)."""
    section = text.split("\n## Example queries\n", 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    queries: dict[str, str] = {}
    for part in re.split(r"^### ", section, flags=re.MULTILINE)[1:]:
        title, _, body = part.partition("\n")
        block = re.search(r"^```sql\n(.*?)^```", body, flags=re.MULTILINE | re.DOTALL)
        assert block, f"example query {title!r} has no ```sql block"
        queries[title.strip()] = block[1]
    return queries


DOC_TEXT = DOC.read_text()
QUERIES = example_queries(DOC_TEXT)
TABLES = documented_tables(DOC_TEXT)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    target = tmp_path_factory.mktemp("docs") / "warehouse"
    assert main(["run", str(SAMPLE), "--warehouse", str(target), "--as-of", SAMPLE_AS_OF]) == 0
    with duckdb.connect(str(target / "overreach.duckdb"), read_only=True) as con:
        yield con


def rows_of(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def warehouse_columns(con) -> dict[str, dict[str, str]]:
    """``schema.table`` -> column -> DuckDB type, for every table and view of core, marts and ops."""
    found: dict[str, dict[str, str]] = {}
    for schema, table, column, data_type in con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name IN ('core', 'marts', 'ops') ORDER BY schema_name, table_name, column_index"
    ).fetchall():
        found.setdefault(f"{schema}.{table}", {})[column] = data_type
    return found


def warehouse_tables(con) -> set[str]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('core', 'marts', 'ops')"
    ).fetchall()
    return {name for (name,) in rows}


# --- the parsers themselves, on an inline document --------------------------------------------------

def test_parsers_read_tables_keys_and_queries():
    text = "\n".join([
        "## Schema `core`",
        "### `core.things`",
        "One row per thing.",
        "**Key:** `thing_id`, `day`",
        "| column | type | meaning |",
        "| --- | --- | --- |",
        "| `thing_id` | `VARCHAR` | The thing. |",
        "| `day` | `DATE` | The day. |",
        "### `marts.paths`",
        "**Key:** none (a path is its steps)",
        "| `steps` | `STRUCT(\"from\" VARCHAR)[]` | Steps. |",
        "## Example queries",
        "### Things by day",
        "Prose.",
        "```sql",
        "SELECT day, count(*) FROM core.things GROUP BY ALL",
        "```",
        "### Paths",
        "```sql",
        "SELECT 1",
        "```",
        "## Afterwords",
        "### `core.not_a_table_section`",
    ])
    assert documented_tables(text) == {
        "core.things": DocumentedTable("core.things", {"thing_id": "VARCHAR", "day": "DATE"}, ("thing_id", "day")),
        "marts.paths": DocumentedTable("marts.paths", {"steps": 'STRUCT("from" VARCHAR)[]'}, ()),
        "core.not_a_table_section": DocumentedTable("core.not_a_table_section", {}, ()),
    }
    assert example_queries(text) == {
        "Things by day": "SELECT day, count(*) FROM core.things GROUP BY ALL\n",
        "Paths": "SELECT 1\n",
    }


# --- example queries ---------------------------------------------------------------------------------

def test_the_required_example_queries_are_there():
    missing = [title for title in REQUIRED_QUERIES if title not in QUERIES]
    assert not missing, f"docs/warehouse.md lacks the example queries {missing}"
    assert 6 <= len(QUERIES) <= 8  # the four asked for, and two to four more


@pytest.mark.parametrize("title", sorted(QUERIES))
def test_example_query_runs_and_finds_something(warehouse, title):
    assert rows_of(warehouse, QUERIES[title]), f"example query {title!r} returned no rows on the sample"


def test_admin_edge_query_finds_the_passrole_agent_and_not_the_support_agent(warehouse):
    identities = {row["identity"] for row in rows_of(warehouse, QUERIES[ADMIN_EDGE_QUERY])}
    assert "deploy-agent" in identities
    assert "support-agent" not in identities  # reaches no admin at all
    assert "prod-deployer" not in identities  # reaches admin through an unused edge, but is not AI


def test_expiring_credentials_query_finds_the_expiring_certificates(warehouse):
    days = {row["identity"]: row["days_to_expiry"] for row in rows_of(warehouse, QUERIES[EXPIRING_QUERY])}
    assert days["embeddings.models.internal"] == 7
    assert days["reranker.models.internal"] == 22
    assert "inference-gateway.models.internal" not in days  # valid until 2027-08-31


def test_risk_trend_query_follows_one_identity(warehouse):
    rows = rows_of(warehouse, QUERIES[RISK_TREND_QUERY])
    assert [row["as_of"].isoformat() for row in rows] == [SAMPLE_AS_OF]
    assert rows[0]["change_since_previous_run"] is None  # the first snapshot has nothing to compare with


# --- completeness ------------------------------------------------------------------------------------

def test_every_warehouse_table_is_documented_and_every_documented_table_exists(warehouse):
    actual = warehouse_tables(warehouse)
    assert actual, "the sample warehouse has no core / marts / ops tables"
    assert sorted(actual - set(TABLES)) == [], "tables missing from docs/warehouse.md"
    assert sorted(set(TABLES) - actual) == [], "documented tables not in the warehouse"


def test_every_documented_column_exists_with_its_type(warehouse):
    actual = warehouse_columns(warehouse)
    wrong = [
        f"{table.name}.{column}: documented {written}, is {actual.get(table.name, {}).get(column)}"
        for table in TABLES.values()
        for column, written in table.columns.items()
        if _TYPE_SPELLINGS.get(written, written) != actual.get(table.name, {}).get(column)
    ]
    assert wrong == []


def test_every_warehouse_column_is_documented(warehouse):
    undocumented = [
        f"{name}.{column}"
        for name, columns in warehouse_columns(warehouse).items()
        for column in columns
        if column not in TABLES.get(name, DocumentedTable(name, {}, ())).columns
    ]
    assert undocumented == []


def test_every_table_says_what_its_key_is():
    unstated = [name for name in TABLES if "**Key:**" not in _section_of(name)]
    assert unstated == []


@pytest.mark.parametrize("name", sorted(n for n, t in TABLES.items() if t.key))
def test_documented_key_identifies_rows(warehouse, name):
    key = TABLES[name].key
    columns = warehouse_columns(warehouse)[name]
    assert set(key) <= set(columns), f"{name}: key columns {set(key) - set(columns)} do not exist"
    assert all(_IDENTIFIER.fullmatch(c) for c in key)  # checked against the catalog above, safe to quote
    listed = ", ".join(f'"{c}"' for c in key)
    repeated = warehouse.execute(
        f"SELECT count(*) FROM (SELECT {listed} FROM {name} GROUP BY ALL HAVING count(*) > 1)"
    ).fetchall()[0][0]
    assert repeated == 0, f"{name}: {repeated} values of ({listed}) name more than one row"


def _section_of(name: str) -> str:
    start = DOC_TEXT.index(f"### `{name}`")
    following = re.search(r"^#{2,3} ", DOC_TEXT[start + 4:], flags=re.MULTILINE)
    return DOC_TEXT[start: start + 4 + following.start()] if following else DOC_TEXT[start:]
