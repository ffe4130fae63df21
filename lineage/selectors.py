"""Reads: the lineage graph around a node, walked breadth-first a whole depth level at a time.

Each level costs a fixed handful of queries whatever its width (stored edges of the level's nodes;
generation records and content items for the level's generator, record and item nodes), so an item
with ten thousand upstream nodes is answered in a few dozen queries. Every node is visited once
(cycles end the walk, they do not loop it).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

from lineage.models import LineageDataset, LineageEdge, LineageJob, NodeKind, node_key
from provenance.models import ContentItem, GenerationRecord, Generator

__all__ = ["Graph", "GraphNode", "NodeNotFound", "lineage_graph", "node_resolve"]

DIRECTIONS = ("up", "down", "both")
_CHUNK = 5000
_NODE = re.compile(r"(dataset|job|generator|record|item):(.+)")


class NodeNotFound(LookupError):
    """A node name that is malformed or names nothing known."""


@dataclass
class GraphNode:
    key: str
    kind: str
    label: str = ""
    depth: int = 0
    upstream: bool = False
    downstream: bool = False

    def as_dict(self) -> dict:
        return {"id": self.key, "kind": self.kind, "label": self.label, "depth": self.depth}


@dataclass
class Graph:
    root: str
    depth: int | None
    direction: str
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    truncated: bool = False

    def as_dict(self) -> dict:
        return {
            "root": self.root,
            "depth": self.depth,
            "direction": self.direction,
            "truncated": self.truncated,
            "nodes": [node.as_dict() for node in sorted(self.nodes.values(), key=lambda n: (n.depth, n.key))],
            "edges": [{"source": s, "target": t} for s, t in sorted(self.edges)],
        }


def node_resolve(name: str) -> str:
    """The ``<kind>:<id>`` key of ``name``: ``item:12``, ``record:3``, ``generator:<id or name>``,
    ``dataset:<id or namespace/name>``, ``job:<id or namespace/name>``. Raises :class:`NodeNotFound`."""
    match = _NODE.fullmatch(name or "")
    if not match:
        raise NodeNotFound(
            "a node is kind:id with kind dataset, job, generator, record or item (e.g. item:12)"
        )
    kind, ident = match.groups()
    model = {
        "dataset": LineageDataset,
        "job": LineageJob,
        "generator": Generator,
        "record": GenerationRecord,
        "item": ContentItem,
    }[kind]
    if ident.isdigit():
        found = model.objects.filter(pk=int(ident)).values_list("pk", flat=True).first()
    elif kind == "generator":
        found = Generator.objects.filter(name=ident).values_list("pk", flat=True).first()
    elif kind in ("dataset", "job") and "/" in ident:
        namespace, _, rest = ident.rpartition("/") if kind == "job" else ident.partition("/")
        found = model.objects.filter(namespace=namespace, name=rest).values_list("pk", flat=True).first()
        if found is None and kind == "dataset":
            namespace, _, rest = ident.rpartition("/")
            found = model.objects.filter(namespace=namespace, name=rest).values_list("pk", flat=True).first()
    else:
        found = None
    if found is None:
        raise NodeNotFound(f"no {kind} {ident!r}")
    return node_key(kind, found)


def _chunks(values: list):
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _ids(keys, kind: str) -> list[int]:
    prefix = f"{kind}:"
    return [int(key[len(prefix) :]) for key in keys if key.startswith(prefix)]


def _upstream(frontier: list[str]) -> list[tuple[str, str]]:
    """Edges ``(source, target)`` whose target is in ``frontier``."""
    edges: list[tuple[str, str]] = []
    for chunk in _chunks(frontier):
        edges += LineageEdge.objects.filter(target__in=chunk).values_list("source", "target")
    records = _ids(frontier, NodeKind.RECORD)
    for chunk in _chunks(records):
        for pk, generator_id in GenerationRecord.objects.filter(pk__in=chunk).values_list(
            "pk", "generator_id"
        ):
            edges.append((node_key(NodeKind.GENERATOR, generator_id), node_key(NodeKind.RECORD, pk)))
    items = _ids(frontier, NodeKind.ITEM)
    for chunk in _chunks(items):
        by_digest = defaultdict(list)
        for pk, digest in (
            ContentItem.objects.filter(pk__in=chunk)
            .exclude(content_sha256="")
            .values_list("pk", "content_sha256")
        ):
            by_digest[digest].append(pk)
        matched = GenerationRecord.objects.filter(output_sha256__in=list(by_digest)).values_list(
            "pk", "output_sha256"
        )
        for record_pk, digest in matched:
            for item_pk in by_digest[digest]:
                edges.append((node_key(NodeKind.RECORD, record_pk), node_key(NodeKind.ITEM, item_pk)))
    return edges


def _downstream(frontier: list[str], budget: int) -> list[tuple[str, str]]:
    """Edges ``(source, target)`` whose source is in ``frontier`` (at most ``budget`` derived ones)."""
    edges: list[tuple[str, str]] = []
    for chunk in _chunks(frontier):
        edges += LineageEdge.objects.filter(source__in=chunk).values_list("source", "target")
    generators = _ids(frontier, NodeKind.GENERATOR)
    if generators:
        rows = GenerationRecord.objects.filter(generator_id__in=generators).values_list("generator_id", "pk")
        for generator_id, pk in rows[: budget + 1]:
            edges.append((node_key(NodeKind.GENERATOR, generator_id), node_key(NodeKind.RECORD, pk)))
    records = _ids(frontier, NodeKind.RECORD)
    for chunk in _chunks(records):
        by_digest = defaultdict(list)
        for pk, digest in GenerationRecord.objects.filter(pk__in=chunk).values_list("pk", "output_sha256"):
            by_digest[digest].append(pk)
        items = ContentItem.objects.filter(content_sha256__in=list(by_digest), removed_at__isnull=True)
        for item_pk, digest in items.values_list("pk", "content_sha256")[: budget + 1]:
            for record_pk in by_digest[digest]:
                edges.append((node_key(NodeKind.RECORD, record_pk), node_key(NodeKind.ITEM, item_pk)))
    return edges


def _walk(graph: Graph, upstream: bool, depth: int | None, max_nodes: int) -> None:
    frontier = [graph.root]
    seen = {graph.root}
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        found = _upstream(frontier) if upstream else _downstream(frontier, max_nodes)
        next_frontier = []
        for source, target in found:
            graph.edges.add((source, target))
            reached = source if upstream else target
            if reached in seen:
                continue
            seen.add(reached)
            if reached not in graph.nodes:
                if len(graph.nodes) >= max_nodes:
                    graph.truncated = True
                    graph.edges.discard((source, target))
                    continue
                graph.nodes[reached] = GraphNode(key=reached, kind=reached.split(":", 1)[0], depth=level)
            node = graph.nodes[reached]
            setattr(node, "upstream" if upstream else "downstream", True)
            next_frontier.append(reached)
        frontier = next_frontier


def _label(graph: Graph) -> None:
    by_kind: dict[str, list[int]] = defaultdict(list)
    for key, node in graph.nodes.items():
        by_kind[node.kind].append(int(key.split(":", 1)[1]))
    labels: dict[str, str] = {}
    for kind, ids in by_kind.items():
        for chunk in _chunks(ids):
            if kind == NodeKind.DATASET:
                rows = LineageDataset.objects.filter(pk__in=chunk).values_list("pk", "namespace", "name")
                labels |= {node_key(kind, pk): f"{ns}/{name}" for pk, ns, name in rows}
            elif kind == NodeKind.JOB:
                rows = LineageJob.objects.filter(pk__in=chunk).values_list("pk", "namespace", "name")
                labels |= {node_key(kind, pk): f"{ns}/{name}" for pk, ns, name in rows}
            elif kind == NodeKind.GENERATOR:
                rows = Generator.objects.filter(pk__in=chunk).values_list("pk", "name", "version")
                labels |= {node_key(kind, pk): f"{name} {version}".strip() for pk, name, version in rows}
            elif kind == NodeKind.RECORD:
                rows = GenerationRecord.objects.filter(pk__in=chunk).values_list(
                    "pk", "external_id", "generator_version"
                )
                labels |= {node_key(kind, pk): f"{ext} (v{version})" for pk, ext, version in rows}
            elif kind == NodeKind.ITEM:
                rows = ContentItem.objects.filter(pk__in=chunk).values_list(
                    "pk", "store_code", "surface", "sku", "identifier", "magento_id"
                )
                labels |= {
                    node_key(kind, pk): f"{store} {surface} {sku or ident or mid}"
                    for pk, store, surface, sku, ident, mid in rows
                }
    for key, node in graph.nodes.items():
        node.label = labels.get(key, key)


def lineage_graph(
    *, node: str, depth: int | None = None, direction: str = "up", max_nodes: int | None = None
) -> Graph:
    """The lineage around ``node`` (a ``<kind>:<id>`` key from :func:`node_resolve`): upstream (what
    it was made from), downstream (what was made from it) or both, ``depth`` levels (None: all),
    at most ``max_nodes`` nodes (default ``PROVENANT_LINEAGE_MAX_NODES``; ``truncated`` tells)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction is one of {', '.join(DIRECTIONS)}")
    limit = settings.LINEAGE_MAX_NODES if max_nodes is None else max_nodes
    graph = Graph(root=node, depth=depth, direction=direction)
    graph.nodes[node] = GraphNode(key=node, kind=node.split(":", 1)[0], depth=0)
    if direction in ("up", "both"):
        _walk(graph, True, depth, limit)
    if direction in ("down", "both"):
        _walk(graph, False, depth, limit)
    _label(graph)
    return graph
