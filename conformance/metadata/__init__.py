"""Embedded metadata (XMP / IPTC / PLUS / ID3 / Vorbis): round trips and preservation."""

from conformance.family import Family
from conformance.metadata.checks import MetadataPreservation, MetadataRoundTrip

FAMILY = Family(name="metadata", checks=[MetadataRoundTrip(), MetadataPreservation()])

__all__ = ["FAMILY", "MetadataPreservation", "MetadataRoundTrip"]
