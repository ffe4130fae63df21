"""``manage.py lineage_graph NODE``: the lineage around a node, as an indented tree or JSON."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from lineage.selectors import DIRECTIONS, NodeNotFound, lineage_graph, node_resolve


class Command(BaseCommand):
    help = (
        "Print the lineage of NODE: upstream (generation record, generator, training jobs, source "
        "datasets), downstream (what was made from it) or both. NODE is item:<id>, record:<id>, "
        "generator:<id or name>, dataset:<id or namespace/name> or job:<id or namespace/name>."
    )

    def add_arguments(self, parser):
        parser.add_argument("node", help="e.g. item:12, generator:patient-synth, dataset:pg://ehr/patients")
        parser.add_argument("--depth", type=int, default=None, help="Levels to walk (default: all).")
        parser.add_argument("--direction", choices=DIRECTIONS, default="up", help="Default: up.")
        parser.add_argument("--json", action="store_true", help="Print the graph as JSON.")

    def handle(self, *args, **options):
        if options["depth"] is not None and options["depth"] < 0:
            raise CommandError("--depth is 0 or more")
        try:
            node = node_resolve(options["node"])
        except NodeNotFound as exc:
            raise CommandError(str(exc)) from None
        graph = lineage_graph(node=node, depth=options["depth"], direction=options["direction"])
        if options["json"]:
            self.stdout.write(json.dumps(graph.as_dict(), indent=2))
            return
        up: dict[str, list[str]] = {}
        down: dict[str, list[str]] = {}
        for source, target in sorted(graph.edges):
            up.setdefault(target, []).append(source)
            down.setdefault(source, []).append(target)
        printed: set[str] = set()

        def show(key: str, indent: int, children: dict[str, list[str]], arrow: str) -> None:
            node_ = graph.nodes.get(key)
            if node_ is None:
                return
            again = key in printed and indent > 0
            mark = " (shown above)" if again else ""
            self.stdout.write(f"{'  ' * indent}{arrow}{node_.kind} {node_.label} [{key}]{mark}")
            if again:
                return
            printed.add(key)
            for child in children.get(key, []):
                show(child, indent + 1, children, arrow="← " if children is up else "→ ")

        if options["direction"] in ("up", "both"):
            show(graph.root, 0, up, "")
        if options["direction"] in ("down", "both"):
            printed.discard(graph.root)
            show(graph.root, 0, down, "")
        summary = f"{len(graph.nodes)} nodes, {len(graph.edges)} edges"
        if graph.truncated:
            summary += " (cut at PROVENANT_LINEAGE_MAX_NODES)"
        self.stdout.write(summary)
