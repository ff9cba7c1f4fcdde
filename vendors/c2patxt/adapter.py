"""c2patxt 0.2.0 (Duale AI), a pure-Python C2PA 2.4 implementation: signs and validates
text (C2PA Annex A.8, through its public API: :mod:`.text`) and validates JPEG manifests.

Its public ``verify()`` only takes text, so for JPEG this adapter drives its internals:

* library: JUMBF/CBOR parsing of the store and selection of the active manifest
  (``_extract.parse_manifest_store``), the claim shape and hashed-URI checks of every
  assertion plus the assertion-store rules (``_verify._check_assertions``), the
  hard-binding parameter checks (``_verify._binding_parameters``), the COSE claim
  signature, the certificate profile, validity and the trust decision
  (``_verify._check_signature``);
* adapter: extracting the JUMBF from the APP11 segments, hashing the JPEG bytes outside
  the ``c2pa.hash.data`` exclusions (c2patxt can only hash NFC text), and the trust
  path evaluator c2patxt leaves to its caller (``cryptography.x509.verification``).

Not checked: ingredients (c2patxt fails closed on them with ``general.error``),
timestamps, revocation, ``c2pa.hash.boxes``/BMFF bindings, and v1 claims (``c2pa.claim``
boxes are reported as ``claim.missing`` because c2patxt parses only ``c2pa.claim.v2``).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import re
import struct
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import add_training_mining, normalise_actions, normalise_soft_bindings, summarise_ingredient
from c2patxt import _cose
from c2patxt._extract import parse_manifest_store
from c2patxt._verify import VerifyContext, _binding_parameters, _check_assertions, _check_signature
from c2patxt.exceptions import MarkCorruptError
from c2patxt.manifest import HASH_ALGORITHMS, ManifestStore
from c2patxt.status import StatusCode
from c2patxt.verdict import Provenance, Verdict
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from .text import TEXT, own_signer, sign_text, verify_text

#: The c2patxt release whose private API this adapter uses.
PINNED_VERSION = "0.2.0"
_C2PA_UUID = b"c2pa" + bytes.fromhex("00110010800000aa00389b71")
#: Leaf EKUs the trust evaluator accepts: C2PA claim signing, documentSigning, emailProtection.
_TRUSTED_EKUS = frozenset(
    {
        ObjectIdentifier("1.3.6.1.4.1.62558.2.1"),
        ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
    }
)
_INSTANCE = r"(__\d+)?$"
_ACTIONS = re.compile(r"^c2pa\.actions(\.v2)?" + _INSTANCE)
_TRAINING = re.compile(r"^(c2pa|cawg)\.training-mining" + _INSTANCE)
_SOFT_BINDING = re.compile(r"^c2pa\.soft-binding" + _INSTANCE)
_INGREDIENT = re.compile(r"^c2pa\.ingredient(\.v2|\.v3)?" + _INSTANCE)
_STATES = {Provenance.INVALID: "Invalid", Provenance.VALID: "Valid", Provenance.TRUSTED: "Trusted"}


class C2patxtAdapter(Adapter):
    """A signer and validating reader of text (Annex A.8), and a validating reader of JPEG
    manifests built from c2patxt's internals."""

    _signer: Any = None

    def health(self) -> None:
        """The adapter drives private modules: refuse any release but the pinned one."""
        installed = importlib.metadata.version("c2patxt")
        pinned = str(self.config.get("pinned_version", PINNED_VERSION))
        if installed != pinned:
            raise AdapterError(f"c2patxt {installed} installed, adapter written for {pinned}")

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Mark the text with a manifest signed by the adapter's own Ed25519 test chain."""
        if self._signer is None:
            self._signer = own_signer()
        return sign_text(asset, params, self._signer)

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Validate the text's or the JPEG's manifest store and return the normalised report."""
        if asset.media_type == TEXT:
            verdict, store = verify_text(asset, params.get("trust_anchors_pem"), PathEvaluator())
            report = _report(verdict is not None, verdict, verdict.manifest if verdict is not None else None)
            report["manifest_store"] = store
            return report
        if asset.media_type != "image/jpeg":
            raise Unsupported(f"c2patxt adapter reads only text/plain and image/jpeg, not {asset.media_type}")
        store = extract_jpeg_jumbf(asset.data)
        if store is None:
            return _report(False, None, None)
        anchors = params.get("trust_anchors_pem")
        try:
            context = (
                VerifyContext(anchors_pem=anchors.encode("utf-8"), trust_evaluator=PathEvaluator())
                if anchors
                else VerifyContext()
            )
        except ValueError as exc:
            raise AdapterError(f"trust anchors not usable: {exc}") from exc
        try:
            manifest = parse_manifest_store(store)
        except MarkCorruptError as exc:
            # What c2patxt's own verify() does with a store it cannot parse.
            verdict = Verdict(state=Provenance.INVALID)._add(exc.code, str(exc))
            return _report(True, verdict, None)
        return _report(True, _validate(asset.data, manifest, context), manifest)


class PathEvaluator:
    """c2patxt's ``TrustEvaluator`` seam, filled with cryptography's RFC 5280 path builder.

    The leaf must carry one of :data:`_TRUSTED_EKUS`; CA certificates follow the
    Web PKI CA defaults of ``cryptography``.
    """

    def is_trusted(self, chain: list[x509.Certificate], anchors: list[x509.Certificate]) -> bool:
        leaf_policy = ExtensionPolicy.permit_all().require_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _check_eku)
        verifier = (
            PolicyBuilder()
            .store(Store(anchors))
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=leaf_policy)
            .build_client_verifier()
        )
        try:
            verifier.verify(chain[0], chain[1:])
        except VerificationError:
            return False
        return True


def _check_eku(_policy: object, _cert: x509.Certificate, value: x509.ExtendedKeyUsage | None) -> None:
    if value is None or not _TRUSTED_EKUS.intersection(value):
        raise ValueError("the leaf carries no EKU accepted for C2PA claim signing")


def _validate(data: bytes, manifest: ManifestStore, context: VerifyContext) -> Verdict:
    """c2patxt's verify() sequence, with the JPEG hard binding in place of the text one."""
    verdict = Verdict(state=Provenance.INVALID, manifest=manifest)
    verdict, assertions_ok = _check_assertions(manifest, verdict)
    verdict, binding_ok = _check_data_hash(data, manifest, verdict)
    verdict, signature_ok, trusted = _check_signature(manifest, verdict, context)
    if assertions_ok and binding_ok and signature_ok:
        verdict = dataclasses.replace(verdict, state=Provenance.TRUSTED if trusted else Provenance.VALID)
    return verdict


def _check_data_hash(data: bytes, manifest: ManifestStore, verdict: Verdict) -> tuple[Verdict, bool]:
    """Hash the JPEG bytes outside the exclusions; codes are filed by c2patxt's status table."""
    parameters = _binding_parameters(manifest)
    if isinstance(parameters, StatusCode):
        return verdict._add(parameters), False
    algorithm, expected, exclusions = parameters
    if any(start + length > len(data) for start, length in exclusions):
        return verdict._add(StatusCode.DATA_HASH_MISMATCH, "an exclusion runs past the end of the file"), False
    digest = HASH_ALGORITHMS[algorithm]()
    cursor = 0
    for start, length in exclusions:
        digest.update(data[cursor:start])
        cursor = start + length
    digest.update(data[cursor:])
    if len(exclusions) > 1:
        verdict = verdict._add(StatusCode.DATA_HASH_ADDITIONAL_EXCLUSIONS)
    if digest.digest() == expected:
        return verdict._add(StatusCode.DATA_HASH_MATCH), True
    return verdict._add(StatusCode.DATA_HASH_MISMATCH), False


def extract_jpeg_jumbf(data: bytes) -> bytes | None:
    """The C2PA manifest store reassembled from the JPEG's APP11 segments, or None.

    The bytes go to c2patxt as found: their JUMBF lengths are c2patxt's to judge.  A
    break in the segment chain after C2PA segments were found ends the scan (the hard
    binding then fails); before any, it is an error.
    """
    if data[:2] != b"\xff\xd8":
        raise AdapterError("not a JPEG file (no SOI marker)")
    groups: dict[int, list[tuple[int, bytes]]] = {}
    try:
        _scan_app11(data, groups)
    except AdapterError:
        if not groups:
            raise
    for parts in groups.values():
        parts.sort(key=lambda part: part[0])
        first = parts[0][1]
        if first[4:8] != b"jumb" or _C2PA_UUID not in first[8:48]:
            continue
        (lbox,) = struct.unpack_from(">I", first)
        header = 16 if lbox == 1 else 8  # the LBox/TBox(/XLBox) repeated in each continuation
        return first + b"".join(part[header:] for _, part in parts[1:])
    return None


def _scan_app11(data: bytes, groups: dict[int, list[tuple[int, bytes]]]) -> None:
    """Collect JUMBF APP11 payloads (after CI, En, Z) by box instance, up to the first scan."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise AdapterError(f"JPEG marker expected at byte {pos}")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            return
        marker = data[pos]
        pos += 1
        if marker in (0xD9, 0xDA):  # EOI, SOS: no metadata segments follow
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if pos + 2 > len(data):
            raise AdapterError("truncated JPEG segment length")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise AdapterError(f"JPEG segment at byte {pos - 2} overruns the file")
        body = data[pos + 2 : pos + length]
        if marker == 0xEB and body[:2] == b"JP" and len(body) >= 16:
            instance, sequence = struct.unpack_from(">HI", body, 2)
            groups.setdefault(instance, []).append((sequence, body[8:]))
        pos += length


# --------------------------------------------------------------------- report


def _report(present: bool, verdict: Verdict | None, manifest: ManifestStore | None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "manifest_present": present,
        "validates": True,
        "validation_state": _STATES.get(verdict.state) if verdict is not None else None,
        "codes": {
            "success": [str(s.code) for s in verdict.success] if verdict is not None else [],
            "informational": [str(s.code) for s in verdict.informational] if verdict is not None else [],
            "failure": [str(s.code) for s in verdict.failure] if verdict is not None else [],
        },
        "ingredient_deltas": [],
        "active_manifest": None,
        "crjson": None,
    }
    notes: list[str] = []
    if verdict is not None:
        notes.extend(f"{s.code}: {s.explanation}" for s in verdict.failure if s.explanation)
    if manifest is not None:
        report["active_manifest"] = _summary(manifest, notes)
    if notes:
        report["notes"] = [note[:10000] for note in notes[:100]]
    return report


def _claim_generator(claim: dict[str, Any]) -> str | None:
    generator = claim.get("claim_generator")
    if isinstance(generator, str) and generator:
        return generator
    info = claim.get("claim_generator_info")
    if isinstance(info, list):
        info = info[0] if info else None
    if not isinstance(info, dict) or not isinstance(info.get("name"), str):
        return None
    version = info.get("version")
    return f"{info['name']}/{version}" if isinstance(version, str) and version else info["name"]


def _summary(manifest: ManifestStore, notes: list[str]) -> dict[str, Any]:
    actions: list[dict[str, Any]] = []
    training: dict[str, dict[str, Any]] = {}
    soft_bindings: list[dict[str, Any]] = []
    for label, data in manifest.assertions.items():
        if not isinstance(data, dict):
            continue
        if _ACTIONS.match(label):
            actions.extend(normalise_actions(data.get("actions"), notes))
        elif _TRAINING.match(label):
            add_training_mining(label, data.get("entries"), training, notes)
        elif _SOFT_BINDING.match(label):
            soft_bindings.extend(normalise_soft_bindings(data.get("alg"), data.get("blocks")))
    title = manifest.claim.get("dc:title")
    return {
        "label": manifest.manifest_label,
        "title": title if isinstance(title, str) else None,
        "claim_generator": _claim_generator(manifest.claim),
        "actions": actions,
        "training_mining": training,
        "soft_bindings": soft_bindings,
        "ingredients_count": sum(1 for label in manifest.assertion_bytes if _INGREDIENT.match(label)),
        "assertion_labels": sorted(manifest.assertion_bytes),
        "ingredients": [summarise_ingredient(data) for label, data in sorted(manifest.assertions.items())
                        if _INGREDIENT.match(label) and isinstance(data, dict)],
        **_signer(manifest),
    }


def _signer(manifest: ManifestStore) -> dict[str, Any]:
    """The leaf's subject commonName, from the COSE x5chain as c2patxt parses it; nothing
    (not exposed) when the signature does not parse."""
    try:
        leaf = x509.load_der_x509_certificate(_cose.parse(manifest.signature).x5chain()[0])
    except (_cose.CoseError, ValueError, IndexError):
        return {}
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return {"signer": {"common_name": str(names[0].value) if names else None}}

