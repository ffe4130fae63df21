"""Provenance models: the registry, the transparency log, generators and generation records, and
the marks inside marked images."""

from provenance.models.log import Checkpoint, LogEntry, LogHash, LogHead, LogKey, WitnessCosignature
from provenance.models.marks import FingerprintBand, ImageMark
from provenance.models.records import ApiClient, ApiScope, ApiToken, GenerationRecord, Generator
from provenance.models.registry import C2paState, ContentItem, Origin, OriginSource, SourceRule, Surface

__all__ = [
    "ApiClient",
    "ApiScope",
    "ApiToken",
    "C2paState",
    "Checkpoint",
    "ContentItem",
    "GenerationRecord",
    "FingerprintBand",
    "Generator",
    "ImageMark",
    "LogEntry",
    "LogHash",
    "LogHead",
    "LogKey",
    "Origin",
    "OriginSource",
    "SourceRule",
    "Surface",
    "WitnessCosignature",
]
