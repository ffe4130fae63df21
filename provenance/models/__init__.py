"""Provenance models: the registry, the transparency log, generators and generation records."""

from provenance.models.registry import ContentItem, Origin, OriginSource, SourceRule, Surface

__all__ = ["ContentItem", "Origin", "OriginSource", "SourceRule", "Surface"]
