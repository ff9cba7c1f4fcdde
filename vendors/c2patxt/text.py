"""c2patxt on what it was written for: plain text with a C2PA Annex A.8 wrapper.

Everything here is c2patxt's public API: ``embed`` (NFC the text, sign a manifest,
append it as U+FEFF and a run of variation selectors), ``verify`` (locate the wrapper,
check the assertions, the NFC text hard binding and the claim signature).

c2patxt signs with Ed25519 only, and its manifest is fixed: a ``c2pa.created`` action
with digitalSourceType ``trainedAlgorithmicMedia``, a ``c2pa.ai-disclosure`` assertion,
``dc:format`` and the hard binding.  The harness's test credentials are ES256, so the
adapter signs with an Ed25519 chain of its own, made once per adapter at run time (a
test CA and a leaf, never stored): readers report its signer ``signingCredential.untrusted``.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from aiii_kit import AdapterError, Asset
from aiii_kit.c2pa import manifest_text
from c2patxt import Disclosure, EmbedContext, ModelType, Provenance, Signer, VerifyContext, embed, verify
from c2patxt.exceptions import C2paTextError
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TEXT = "text/plain"
#: How long the adapter's own test chain is valid, from one day before it is made.
_CHAIN_DAYS = 30


def own_signer() -> Signer:
    """An Ed25519 leaf (digitalSignature, emailProtection) issued by a fresh test CA."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aiii c2patxt test CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aiii-interop")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aiii c2patxt text signer"),
                           x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aiii-interop")])

    def builder(subject: x509.Name, key: ed25519.Ed25519PublicKey) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=_CHAIN_DAYS))
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False))

    ca = (builder(ca_name, ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, None))
    leaf = (builder(leaf_name, leaf_key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, None))
    return Signer(private_key=leaf_key, certificates=(leaf, ca))


def sign_text(asset: Asset, params: dict[str, Any], signer: Signer) -> Asset:
    """The text in NFC with a signed manifest appended (c2patxt's ``embed``).

    Of the params only ``claim_generator`` reaches the manifest (as the generator's
    name); the title, actions and training-mining entries have no place in c2patxt's
    fixed manifest.
    """
    text = manifest_text(asset, "c2patxt")
    context = EmbedContext(generator_name=str(params.get("claim_generator") or "c2patxt"))
    try:
        marked = embed(text, signer, Disclosure(media_type=TEXT, model_type=ModelType.GENERIC), context=context)
    except C2paTextError as exc:  # already marked, a corrupt wrapper, text beyond the NFC bound
        raise AdapterError(f"c2patxt refused to mark the text: {exc}") from exc
    return Asset(marked.encode("utf-8"), TEXT)


def verify_text(asset: Asset, anchors: str | None, evaluator: Any) -> tuple[Any, dict[str, Any] | None]:
    """c2patxt's verdict on the text, and the digest of the manifest store it parsed."""
    text = manifest_text(asset, "c2patxt")
    try:
        context = (VerifyContext(anchors_pem=anchors.encode("utf-8"), trust_evaluator=evaluator)
                   if anchors else VerifyContext())
    except ValueError as exc:
        raise AdapterError(f"trust anchors not usable: {exc}") from exc
    try:
        verdict = verify(text, context=context)
    except C2paTextError as exc:  # an unpaired surrogate: no verdict to give
        raise AdapterError(f"c2patxt cannot read the text: {exc}") from exc
    if verdict.state == Provenance.UNMARKED:
        return None, None
    raw = verdict.manifest.raw if verdict.manifest is not None else None
    store = {"sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)} if raw is not None else None
    return verdict, store
