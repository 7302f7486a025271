"""The permission graph: who can become whom, who can reach full control, and how far each identity gets.

``build_graph`` turns identities, memberships, effective grants (and
optionally resources, used edges, workloads) into a ``PermissionGraph``;
``blast_radius`` gives one row per identity; ``escalation_paths`` every path
to full control within bounds; ``edges_frame`` / ``export_graph`` the graph
for tables and for GraphML. Escalation methods are the rows of
``ESCALATION_RULES``. Nothing here loads anything at import time.
"""

from models.graph.build import build_graph
from models.graph.grant_summary import GRANT_COLUMNS, GrantSummary, combine, summarize_grants
from models.graph.escalation import ESCALATION_RULES, EscalationRule, available_rules
from models.graph.export import edges_frame, export_graph, findings_frame, nodes_frame
from models.graph.model import Edge, Finding, Node, PermissionGraph
from models.graph.paths import ESCALATION_PATHS_SCHEMA, escalation_paths
from models.graph.reach import BLAST_RADIUS_SCHEMA, blast_radius
from models.graph.scoring import scoring_weights_frame

__all__ = [
    "BLAST_RADIUS_SCHEMA",
    "ESCALATION_PATHS_SCHEMA",
    "ESCALATION_RULES",
    "GRANT_COLUMNS",
    "GrantSummary",
    "Edge",
    "EscalationRule",
    "Finding",
    "Node",
    "PermissionGraph",
    "available_rules",
    "blast_radius",
    "build_graph",
    "combine",
    "edges_frame",
    "escalation_paths",
    "export_graph",
    "findings_frame",
    "nodes_frame",
    "scoring_weights_frame",
    "summarize_grants",
]
