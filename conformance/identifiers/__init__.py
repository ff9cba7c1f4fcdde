"""Identifiers: ISCC (ISO 24138) across implementations, registry identifiers, and the
differential property-testing mode applied to validators.  (Content recognition by ISCC
content codes is in the recognition family: ``recognition.iscc``.)

Checks:
- ``identifiers.iscc_conformance``: the conformance data shipped in iscc-core, every test
  of every function against every ISCC vendor (function mode of identifier.generate);
- ``identifiers.iscc_agreement``: every pair of ISCC vendors makes identical codes;
- ``identifiers.compare``: a vendor's distances between two codes equal the harness's;
- ``identifiers.registry``: curated valid and invalid identifiers per scheme;
- ``identifiers.differential``: Hypothesis-driven search for a disagreement between two
  validators of one scheme, shrunk to a minimal counterexample;
- ``identifiers.in_metadata``: ISCC/ISRC/ISWC through each metadata writer and reader;
- ``identifiers.soft_binding``: an ``io.iscc.v0`` soft binding signed into a manifest,
  recovered from the stripped asset by recomputing its ISCC.
"""

from conformance.family import Family
from conformance.identifiers.differential import Differential, iswc_check
from conformance.identifiers.iscc import IsccAgreement, IsccCompare, IsccConformance
from conformance.identifiers.registry import IdentifiersInMetadata, RegistryIdentifiers
from conformance.identifiers.soft_binding import IsccSoftBinding

FAMILY = Family(
    name="identifiers",
    checks=[IsccConformance(), IsccAgreement(), IsccCompare(), RegistryIdentifiers(), Differential(),
            IdentifiersInMetadata(), IsccSoftBinding()],
)

__all__ = ["FAMILY", "iswc_check"]
