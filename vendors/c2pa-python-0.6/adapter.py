"""c2pa-python 0.6.1 (c2pa-rs 0.38) as a version-skew signer and validating reader.

The 0.6 API (uniffi bindings): ``Builder(definition).sign(signer, format, src, dst)``
with ``create_signer(callback, SigningAlg.ES256, certs, ta_url)`` and
``Reader(format, stream).json()``.  The release has no settings and no trust
configuration, and its manifest store JSON carries only a flat ``validation_status``
list of the problems found: it reports no validation state, so the adapter derives one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from importlib import metadata
from typing import Any

import c2pa
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import empty_provenance_report, manifest_definition, summarise_manifest_json
from c2pa.c2pa import InternalError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

#: Media types that sign and read back with this release (verified, see README).
SIGN_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff", "audio/wav"})
#: Media types it reads manifests from (MP3 read-only: c2pa-rs 0.38 cannot embed in MP3).
READ_TYPES = SIGN_TYPES | {"audio/mpeg"}

#: Codes a validator reports for what checked out (C2PA success codes).
SUCCESS_CODES = frozenset(
    {
        "claimSignature.validated",
        "claimSignature.insideValidity",
        "signingCredential.trusted",
        "timeStamp.trusted",
        "timeStamp.validated",
        "assertion.hashedURI.match",
        "assertion.dataHash.match",
        "assertion.bmffHash.match",
        "assertion.boxesHash.match",
        "assertion.accessible",
    }
)
#: Codes reported as informational, not as failures: by c2pa-rs 0.55 or 0.91 in this
#: harness (the first three) or by the C2PA specification.
INFORMATIONAL_CODES = frozenset(
    {
        "timeStamp.mismatch",
        "signingCredential.ocsp.skipped",
        "assertion.dataHash.additionalExclusionsPresent",
        "signingCredential.ocsp.inaccessible",
        "algorithm.deprecated",
        "ingredient.unknownProvenance",
    }
)

_P256_BYTES = 32


def _error(exc: Exception) -> AdapterError:
    """A library error as the adapter's error, with the variant name and reason.

    ``InternalError`` is a Rust panic the bindings caught: the process survives it.
    """
    if isinstance(exc, InternalError):
        return AdapterError(f"c2pa-rs panicked (caught by the bindings): {exc}")
    reason = getattr(exc, "reason", None)
    message = f"{type(exc).__name__}: {reason if reason is not None else exc}"
    return Unsupported(message) if isinstance(exc, c2pa.Error.NotSupported) else AdapterError(message)


def _es256_callback(private_key_pem: str) -> Callable[[bytes], bytes]:
    """A signing callback giving raw r||s ES256 signatures, the COSE form."""
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError) as exc:
        raise AdapterError(f"private key unreadable: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise Unsupported("es256 needs an EC P-256 private key")

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(bytes(data), ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(_P256_BYTES, "big") + s.to_bytes(_P256_BYTES, "big")

    return sign


class C2paPython06Adapter(Adapter):
    """Signs with ``Builder`` and a Python ES256 callback; reads with ``Reader``."""

    def implementation_version(self) -> str | None:
        return metadata.version("c2pa-python")

    def health(self) -> None:
        try:
            c2pa.sdk_version()
        except Exception as exc:  # noqa: BLE001 - the native library failed to load
            raise AdapterError(f"c2pa native library unusable: {exc}") from exc

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Embed a manifest signed with the given ES256 test credentials (no TSA)."""
        if asset.media_type not in SIGN_TYPES:
            raise Unsupported(f"c2pa-python 0.6 adapter does not sign {asset.media_type}")
        credentials = params["signer"]
        if credentials.get("alg") != "es256":
            raise Unsupported(f"signing algorithm {credentials.get('alg')!r}")
        callback = _es256_callback(credentials["private_key_pem"])
        output = io.BytesIO()
        try:
            signer = c2pa.create_signer(callback, c2pa.SigningAlg.ES256, credentials["cert_chain_pem"].encode("utf-8"), None)
            c2pa.Builder(manifest_definition(params)).sign(signer, asset.media_type, io.BytesIO(asset.data), output)
        except (c2pa.Error, InternalError) as exc:
            raise _error(exc) from exc
        if not output.getvalue():
            raise AdapterError("the library wrote no output")
        return Asset(output.getvalue(), asset.media_type, asset.name)

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Validate the manifest store and report it in the normalised shape."""
        if asset.media_type not in READ_TYPES:
            raise Unsupported(f"c2pa-python 0.6 adapter does not read {asset.media_type}")
        try:
            text = c2pa.Reader(asset.media_type, io.BytesIO(asset.data)).json()
        except c2pa.Error.ManifestNotFound:
            return empty_provenance_report()
        except (c2pa.Error, InternalError) as exc:
            raise _error(exc) from exc
        return _report(json.loads(text), params.get("trust_anchors_pem") is not None)



def _sorted_codes(statuses: Any) -> dict[str, list[str]]:
    """The flat ``validation_status`` list sorted into success, informational and failure."""
    codes: dict[str, list[str]] = {"success": [], "informational": [], "failure": []}
    for status in statuses if isinstance(statuses, list) else []:
        if not isinstance(status, dict) or not status.get("code"):
            continue
        code = str(status["code"])
        bucket = "success" if code in SUCCESS_CODES else "informational" if code in INFORMATIONAL_CODES else "failure"
        codes[bucket].append(code)
    return codes


def _report(store: dict[str, Any], anchors_given: bool) -> dict[str, Any]:
    notes = ["validation_state derived by the adapter: Invalid if validation_status holds a failure code, else Valid"]
    if anchors_given:
        notes.append("trust anchors ignored: c2pa-python 0.6 cannot configure trust, so trust is never evaluated")
    codes = _sorted_codes(store.get("validation_status"))
    label = store.get("active_manifest")
    manifests = store.get("manifests") or {}
    manifest = manifests.get(label) if isinstance(label, str) and isinstance(manifests, dict) else None
    if not isinstance(manifest, dict):
        notes.append("manifest store present but no active manifest")
        manifest = None
    report = empty_provenance_report()
    report.update(
        manifest_present=True,
        validation_state="Invalid" if codes["failure"] else "Valid",
        codes=codes,
        active_manifest=summarise_manifest_json(manifest, notes) if manifest else None,
    )
    report["notes"] = [note[:10000] for note in notes[:100]]
    return report




