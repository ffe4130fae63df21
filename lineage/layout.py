"""A layered drawing of a lineage graph for the admin's SVG: one column per depth level, upstream to
the left of the root and downstream to its right, so edges run left to right; and the same drawing of
columns given by the caller (the audit package's data-flow diagram)."""

from __future__ import annotations

from dataclasses import dataclass

from lineage.selectors import Graph, GraphNode

__all__ = ["Drawing", "columns_drawing", "graph_drawing"]

NODE_WIDTH = 230
NODE_HEIGHT = 34
COLUMN_GAP = 70
ROW_GAP = 14
MARGIN = 16
LABEL_CHARS = 30
KIND_COLOURS = {  # fill, stroke: light fills keep the dark label text at AA contrast
    "item": ("#e8f0fe", "#1a56db"),
    "record": ("#f3e8ff", "#6b21a8"),
    "generator": ("#fef3c7", "#92400e"),
    "job": ("#ecfdf5", "#065f46"),
    "dataset": ("#f1f5f9", "#334155"),
    "output": ("#f3e8ff", "#6b21a8"),
    "store": ("#fff7ed", "#9a3412"),
}


@dataclass(frozen=True)
class DrawnNode:
    key: str
    kind: str
    label: str
    short_label: str
    x: int
    y: int
    fill: str
    stroke: str
    is_root: bool

    @property
    def text_x(self) -> int:
        return self.x + 10

    @property
    def text_y(self) -> int:
        return self.y + NODE_HEIGHT // 2 + 5


@dataclass(frozen=True)
class DrawnEdge:
    x1: int
    y1: int
    x2: int
    y2: int
    source: str
    target: str
    source_key: str = ""
    target_key: str = ""


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    nodes: list[DrawnNode]
    edges: list[DrawnEdge]
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def graph_drawing(graph: Graph) -> Drawing:
    by_column: dict[int, list[GraphNode]] = {}
    for node in graph.nodes.values():
        column = -node.depth if node.upstream or node.key == graph.root else node.depth
        by_column.setdefault(column, []).append(node)
    if not by_column:
        return Drawing(width=0, height=0, nodes=[], edges=[])
    columns = [
        sorted(by_column.get(column, []), key=lambda n: (n.kind, n.label, n.key))
        for column in range(min(by_column), max(by_column) + 1)
    ]
    return columns_drawing(columns, graph.edges, root=graph.root)


def columns_drawing(
    columns: list[list[GraphNode]], edges, *, root: str | None = None, top: int = MARGIN
) -> Drawing:
    """Nodes in the given columns (left to right) and rows (top to bottom), ``edges`` as
    ``(source key, target key)`` pairs between drawn nodes; ``top`` leaves room above the nodes."""
    if not any(columns):
        return Drawing(width=0, height=0, nodes=[], edges=[])
    drawn: dict[str, DrawnNode] = {}
    tallest = max(len(nodes) for nodes in columns)
    for column, nodes in enumerate(columns):
        for row, node in enumerate(nodes):
            fill, stroke = KIND_COLOURS.get(node.kind, ("#ffffff", "#000000"))
            drawn[node.key] = DrawnNode(
                key=node.key,
                kind=node.kind,
                label=node.label,
                short_label=_short(node.label),
                x=MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
                y=top + row * (NODE_HEIGHT + ROW_GAP),
                fill=fill,
                stroke=stroke,
                is_root=node.key == root,
            )
    drawn_edges = []
    for source, target in sorted(edges):
        a, b = drawn.get(source), drawn.get(target)
        if a is None or b is None:
            continue
        drawn_edges.append(
            DrawnEdge(
                x1=a.x + NODE_WIDTH,
                y1=a.y + NODE_HEIGHT // 2,
                x2=b.x - 2,
                y2=b.y + NODE_HEIGHT // 2,
                source=a.label,
                target=b.label,
                source_key=source,
                target_key=target,
            )
        )
    width = 2 * MARGIN + len(columns) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP
    height = top + MARGIN + tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    return Drawing(width=width, height=height, nodes=list(drawn.values()), edges=drawn_edges)
