"""The Record of Processing Activities (GDPR Art. 30(1)) as the lineage knows it: read-only.

One row per source dataset of the data-protection inventory and each processing location (training
or hosting, GDPR Chapter V) of each generator that dataset reaches downstream; a source reaching no
generator has one row of its own, and processing locations of generators no inventoried source
reaches have rows without a source. Each row carries the Art. 30(1) facts the inventory holds:
categories of data and data subjects (b, c), controller (a), recipients and third-country transfers
with their safeguards (d, e), retention (f) and the DPIA reference, plus the transfer check's
verdict on the location (:func:`lineage.transfers.location_problem`).
"""

from __future__ import annotations

from django.conf import settings

from lineage.models import DataProtection, NodeKind, ProcessingLocation
from lineage.selectors import lineage_graph
from lineage.transfers import adequacy_list, location_problem

__all__ = ["ROPA_HEADER", "ropa_rows"]

ROPA_HEADER = [
    "activity",
    "source_dataset",
    "personal_data",
    "health_data_art9",
    "data_subjects_region",
    "storage_country",
    "role",
    "controller",
    "legal_basis_art6",
    "condition_art9",
    "anonymisation",
    "assessed_by",
    "assessed_at",
    "assessment_evidence",
    "retention",
    "dpia_reference",
    "generator",
    "processing_purpose",
    "processing_country",
    "recipient",
    "transfer_mechanism",
    "dpf_certified",
    "scc_module",
    "transfer_reference",
    "art49_derogation",
    "transfer_finding",
]


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _source_cells(entry: DataProtection | None) -> dict[str, str]:
    if entry is None:
        return {name: "" for name in ROPA_HEADER[1:16]}
    return {
        "source_dataset": str(entry.dataset),
        "personal_data": _yes(entry.personal_data),
        "health_data_art9": _yes(entry.health_data),
        "data_subjects_region": entry.get_subjects_region_display(),
        "storage_country": entry.storage_country,
        "role": entry.get_role_display(),
        "controller": entry.controller,
        "legal_basis_art6": f"Art. 6(1)({entry.art6_basis}) {entry.get_art6_basis_display()}"
        if entry.art6_basis
        else "",
        "condition_art9": f"Art. 9(2)({entry.art9_condition}) {entry.get_art9_condition_display()}"
        if entry.art9_condition
        else "",
        "anonymisation": entry.get_anonymisation_display(),
        "assessed_by": entry.assessed_by,
        "assessed_at": entry.assessed_at.isoformat() if entry.assessed_at else "",
        "assessment_evidence": entry.assessment_evidence,
        "retention": entry.retention,
        "dpia_reference": entry.dpia_reference,
    }


def _location_cells(location: ProcessingLocation | None, generator: str, problem: str) -> dict[str, str]:
    if location is None:
        return {name: "" for name in ROPA_HEADER[16:]} | {"generator": generator}
    return {
        "generator": location.generator.name,
        "processing_purpose": location.get_purpose_display(),
        "processing_country": location.country,
        "recipient": location.recipient,
        "transfer_mechanism": location.get_mechanism_display(),
        "dpf_certified": _yes(location.dpf_certified),
        "scc_module": location.scc_module,
        "transfer_reference": location.reference,
        "art49_derogation": location.art49_derogation,
        "transfer_finding": problem,
    }


def ropa_rows() -> list[dict[str, str]]:
    """The record's rows (keys :data:`ROPA_HEADER`), sources by namespace and name, then generators."""
    adequacy = adequacy_list()
    locations: dict[int, list[ProcessingLocation]] = {}
    for location in ProcessingLocation.objects.select_related("generator").order_by(
        "generator__name", "purpose", "country"
    ):
        locations.setdefault(location.generator_id, []).append(location)
    names = {
        pk: name
        for pk, name in ProcessingLocation.objects.values_list("generator_id", "generator__name").distinct()
    }
    problems = {
        location.pk: location_problem(location, adequacy) or ""
        for located in locations.values()
        for location in located
    }
    rows: list[dict[str, str]] = []
    reached_any: set[int] = set()
    entries = DataProtection.objects.select_related("dataset").order_by("dataset__namespace", "dataset__name")
    for entry in entries:
        graph = lineage_graph(node=entry.dataset.node, direction="down", max_nodes=settings.LINEAGE_MAX_NODES)
        generators = sorted(
            (int(key.split(":", 1)[1]), node.label)
            for key, node in graph.nodes.items()
            if node.kind == NodeKind.GENERATOR and key != entry.dataset.node
        )
        source = _source_cells(entry)
        if not generators:
            rows.append({"activity": "Storage of source data", **source, **_location_cells(None, "", "")})
            continue
        for generator_id, label in sorted(generators, key=lambda g: names.get(g[0], g[1])):
            reached_any.add(generator_id)
            located = locations.get(generator_id) or [None]
            for location in located:
                problem = problems.get(location.pk, "") if location is not None else ""
                finding = problem if entry.carries_eu_personal_data else ""
                purpose = location.get_purpose_display() if location is not None else "Processing"
                rows.append(
                    {
                        "activity": f"{purpose} of generator {names.get(generator_id, label)}",
                        **source,
                        **_location_cells(location, names.get(generator_id, label), finding),
                    }
                )
    for generator_id, located in locations.items():
        if generator_id in reached_any:
            continue
        for location in located:
            rows.append(
                {
                    "activity": f"{location.get_purpose_display()} of generator {location.generator.name}",
                    **_source_cells(None),
                    **_location_cells(location, location.generator.name, ""),
                }
            )
    return rows
