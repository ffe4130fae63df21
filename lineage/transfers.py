"""The GDPR Chapter V transfer check: EU personal or health data (Art. 9) that no one has assessed
as anonymous must not reach processing outside the EEA without a transfer mechanism — an adequacy
decision (Art. 45, including the EU-U.S. Data Privacy Framework for certified recipients), standard
contractual clauses 2021/914 (Art. 46(2)(c)), binding corporate rules (Art. 47) or a derogation
(Art. 49).

Synthetic data and models trained on personal data are not anonymous by default (EDPB Opinion
28/2024), so the question travels downstream: a generator trained on such data carries it to every
item it generated. Each finding names the source dataset, the path to the generator, the processing
location at fault and every downstream content item.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lineage.models import DataProtection, Mechanism, NodeKind, ProcessingLocation, node_key
from lineage.selectors import Graph, lineage_graph

__all__ = [
    "ADEQUACY_PATH",
    "Adequacy",
    "TransferFinding",
    "adequacy_list",
    "location_problem",
    "transfer_check",
]

ADEQUACY_PATH = Path(__file__).with_name("data") / "adequacy.json"
# A transfer check follows every path: far beyond what one graph answer shows.
_CHECK_MAX_NODES = 5_000_000


@dataclass(frozen=True)
class Adequacy:
    as_of: str
    source: str
    eea: frozenset[str]
    decisions: dict[str, dict]


@cache
def adequacy_list(path: Path = ADEQUACY_PATH) -> Adequacy:
    """The dated list of adequacy decisions shipped in ``lineage/data/adequacy.json``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return Adequacy(
        as_of=data["as_of"],
        source=data["source"],
        eea=frozenset(data["eea"]),
        decisions={entry["country"]: entry for entry in data["decisions"]},
    )


def location_problem(location: ProcessingLocation, adequacy: Adequacy | None = None) -> str | None:
    """Why a transfer to ``location`` has no valid mechanism, or None (inside the EEA, or covered)."""
    adequacy = adequacy or adequacy_list()
    country = location.country.upper()
    if country in adequacy.eea:
        return None
    mechanism = location.mechanism
    if mechanism == Mechanism.ADEQUACY:
        decision = adequacy.decisions.get(country)
        if decision is None:
            return f"{country} has no adequacy decision (list as of {adequacy.as_of})"
        if decision.get("requires_certification") and not location.dpf_certified:
            return f"the recipient in {country} is not certified under the EU-U.S. Data Privacy Framework"
        return None
    if mechanism == Mechanism.SCC:
        return None if location.scc_module else "standard contractual clauses without a module"
    if mechanism == Mechanism.BCR:
        return None if location.reference.strip() else "binding corporate rules without a reference"
    if mechanism == Mechanism.ART49:
        return None if location.art49_derogation.strip() else "an Art. 49 derogation without naming which"
    return f"no transfer mechanism for processing in {country}"


@dataclass
class TransferFinding:
    source: str
    source_label: str
    generator: str
    generator_label: str
    location: str
    problem: str
    path: list[str]
    items: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "source_label": self.source_label,
            "generator": self.generator,
            "generator_label": self.generator_label,
            "location": self.location,
            "problem": self.problem,
            "path": self.path,
            "items": self.items,
        }


def _path(graph: Graph, target: str) -> list[str]:
    parents: dict[str, str] = {}
    children: dict[str, list[str]] = {}
    for source, dest in graph.edges:
        children.setdefault(source, []).append(dest)
    queue = deque([graph.root])
    seen = {graph.root}
    while queue:
        key = queue.popleft()
        if key == target:
            break
        for child in children.get(key, []):
            if child not in seen:
                seen.add(child)
                parents[child] = key
                queue.append(child)
    path = [target]
    while path[-1] in parents:
        path.append(parents[path[-1]])
    return path[::-1]


def transfer_check() -> list[TransferFinding]:
    """Every path from EU personal or health data not assessed anonymous to a generator processed
    outside the EEA without a valid mechanism, with the content items downstream of that generator."""
    adequacy = adequacy_list()
    faults: dict[int, list[tuple[ProcessingLocation, str]]] = {}
    for location in ProcessingLocation.objects.select_related("generator"):
        problem = location_problem(location, adequacy)
        if problem is not None:
            faults.setdefault(location.generator_id, []).append((location, problem))
    if not faults:
        return []
    sources = [
        entry
        for entry in DataProtection.objects.select_related("dataset").order_by(
            "dataset__namespace", "dataset__name"
        )
        if entry.carries_eu_personal_data
    ]
    findings: list[TransferFinding] = []
    items_of: dict[int, list[str]] = {}
    for entry in sources:
        graph = lineage_graph(node=entry.dataset.node, direction="down", max_nodes=_CHECK_MAX_NODES)
        for generator_id, located in sorted(faults.items()):
            key = node_key(NodeKind.GENERATOR, generator_id)
            if key not in graph.nodes:
                continue
            if generator_id not in items_of:
                downstream = lineage_graph(node=key, direction="down", max_nodes=_CHECK_MAX_NODES)
                items_of[generator_id] = sorted(
                    (k for k, n in downstream.nodes.items() if n.kind == NodeKind.ITEM),
                    key=lambda k: int(k.split(":")[1]),
                )
            path = _path(graph, key)
            for location, problem in located:
                findings.append(
                    TransferFinding(
                        source=entry.dataset.node,
                        source_label=str(entry.dataset),
                        generator=key,
                        generator_label=location.generator.name,
                        location=f"{location.get_purpose_display()} in {location.country}",
                        problem=problem,
                        path=path,
                        items=items_of[generator_id],
                    )
                )
    return findings
