"""Model cards: Google's Model Card Toolkit fields and Hugging Face model-card metadata (pure, no Django).

A generator's card follows the Model Card Toolkit schema (``model_card_toolkit``, schema v0.0.2):
four sections, ``model_details`` (overview, owners, version, licenses, references, citations),
``model_parameters`` (model_architecture, data: the datasets), ``quantitative_analysis``
(performance_metrics) and ``considerations`` (users, use_cases, limitations, tradeoffs,
ethical_considerations). Next to it sits the YAML metadata block a Hugging Face model card opens
with (``license``, ``language``, ``tags``, ``pipeline_tag``, ``base_model``, ...).

The checks below catch misspelt keys and wrong shapes so exported cards load in either tool;
they do not judge the content.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["hf_metadata_problems", "hf_metadata_template", "model_card_problems", "model_card_template"]

# section -> field -> (expected type, item keys for a list of objects, or None)
_MODEL_CARD_FIELDS: dict[str, dict[str, tuple[type, frozenset[str] | None]]] = {
    "model_details": {
        "name": (str, None),
        "overview": (str, None),
        "documentation": (str, None),
        "owners": (list, frozenset({"name", "contact"})),
        "version": (dict, None),
        "licenses": (list, frozenset({"identifier", "custom_text"})),
        "references": (list, frozenset({"reference"})),
        "citations": (list, frozenset({"style", "citation"})),
        "path": (str, None),
    },
    "model_parameters": {
        "model_architecture": (str, None),
        "data": (list, frozenset({"name", "link", "sensitive", "graphics", "description"})),
        "input_format": (str, None),
        "input_format_map": (list, frozenset({"key", "value"})),
        "output_format": (str, None),
        "output_format_map": (list, frozenset({"key", "value"})),
    },
    "quantitative_analysis": {
        "performance_metrics": (
            list,
            frozenset({"type", "value", "slice", "confidence_interval", "threshold", "name"}),
        ),
        "graphics": (dict, None),
    },
    "considerations": {
        "users": (list, frozenset({"description"})),
        "use_cases": (list, frozenset({"description"})),
        "limitations": (list, frozenset({"description"})),
        "tradeoffs": (list, frozenset({"description"})),
        "ethical_considerations": (list, frozenset({"name", "mitigation_strategy"})),
    },
}
_VERSION_KEYS = frozenset({"name", "date", "diff"})

# Hugging Face metadata keys we check; others are allowed (the Hub accepts more).
_HF_FIELDS: dict[str, tuple[type, ...]] = {
    "license": (str,),
    "license_name": (str,),
    "license_link": (str,),
    "language": (str, list),
    "tags": (list,),
    "pipeline_tag": (str,),
    "base_model": (str, list),
    "datasets": (list,),
    "library_name": (str,),
    "metrics": (list,),
}
_HF_SLUG = re.compile(r"[a-z0-9][a-z0-9.+-]*")


def model_card_template() -> dict[str, Any]:
    """An empty card with every Model Card Toolkit field this product uses, ready to fill in."""
    return {
        "model_details": {
            "overview": "",
            "owners": [],
            "version": {"name": "", "date": ""},
            "licenses": [],
            "references": [],
            "citations": [],
        },
        "model_parameters": {"model_architecture": "", "data": []},
        "quantitative_analysis": {"performance_metrics": []},
        "considerations": {
            "users": [],
            "use_cases": [],
            "limitations": [],
            "tradeoffs": [],
            "ethical_considerations": [],
        },
    }


def hf_metadata_template() -> dict[str, Any]:
    """Empty Hugging Face model-card metadata with the keys compliance staff are asked for."""
    return {"license": "", "language": [], "tags": [], "pipeline_tag": "", "base_model": ""}


def model_card_problems(card: object) -> list[str]:
    """What is wrong with the shape of a Model Card Toolkit card (empty when nothing is)."""
    if not isinstance(card, dict):
        return ["the model card must be a JSON object"]
    problems = []
    for section, fields in card.items():
        known = _MODEL_CARD_FIELDS.get(section)
        if known is None:
            problems.append(f"unknown section {section!r} (expected one of {', '.join(_MODEL_CARD_FIELDS)})")
            continue
        if not isinstance(fields, dict):
            problems.append(f"{section} must be an object")
            continue
        for name, value in fields.items():
            spec = known.get(name)
            if spec is None:
                problems.append(f"{section}.{name} is not a Model Card Toolkit field")
                continue
            problems.extend(_field_problems(f"{section}.{name}", value, *spec))
    return problems


def _field_problems(path: str, value: object, kind: type, item_keys: frozenset[str] | None) -> list[str]:
    if not isinstance(value, kind):
        return [f"{path} must be {'a string' if kind is str else 'a list' if kind is list else 'an object'}"]
    if path == "model_details.version":
        extra = set(value) - _VERSION_KEYS
        return [f"{path}.{key} is not a Model Card Toolkit field" for key in sorted(extra)]
    if item_keys is None or kind is not list:
        return []
    problems = []
    for position, item in enumerate(value):
        if not isinstance(item, dict):
            problems.append(f"{path}[{position}] must be an object with {', '.join(sorted(item_keys))}")
            continue
        for key in sorted(set(item) - item_keys):
            problems.append(f"{path}[{position}].{key} is not a Model Card Toolkit field")
    return problems


def hf_metadata_problems(metadata: object) -> list[str]:
    """What is wrong with Hugging Face model-card metadata (empty when nothing is)."""
    if not isinstance(metadata, dict):
        return ["the Hugging Face metadata must be a JSON object"]
    problems = []
    for name, kinds in _HF_FIELDS.items():
        if name not in metadata or metadata[name] in ("", None, []):
            continue
        value = metadata[name]
        if not isinstance(value, kinds):
            problems.append(
                f"{name} must be {' or '.join('a string' if k is str else 'a list' for k in kinds)}"
            )
            continue
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            problems.append(f"{name} must list strings")
    for name in ("license", "pipeline_tag"):
        value = metadata.get(name)
        if isinstance(value, str) and value and not _HF_SLUG.fullmatch(value):
            problems.append(f"{name} {value!r} must be a lower-case identifier such as 'apache-2.0'")
    return problems
