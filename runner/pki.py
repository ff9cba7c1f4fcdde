"""The run-time test PKI: one root CA and one ES256 leaf per signing vendor.

The root's key is generated fresh with ``cryptography``; nothing here is a real
credential.  Each leaf is *derived* from the root and the vendor id: its key by HKDF
from the root's key, its serial from their hash, its validity the root's, and its
certificate signed with deterministic ECDSA (RFC 6979).  So whoever holds the root
holds every vendor's leaf, byte for byte: participants who share the root (``aiii pki
export``/``import``) compute the same ``provenance.sign`` steps, with the same step
keys, and may exchange packs of signed artifacts that every one of them trusts.
:meth:`TestPKI.create` persists the root to a directory and reloads it, so a resumed
run signs with the same CA.  The root's private key is written as
``TEST-ONLY-root-ca.key.pem`` and must never be committed.

Certificate profile (what c2pa-rs 0.91 accepts by default): the root is self-signed
with ``cA=true`` and ``keyCertSign``; each leaf carries KeyUsage digitalSignature
(critical), EKU emailProtection, AuthorityKeyIdentifier and SubjectKeyIdentifier, and
is valid while its root is (ten years from the day before the root was made).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_CERT_FILE = "root-ca.cert.pem"
ROOT_KEY_FILE = "TEST-ONLY-root-ca.key.pem"
#: What ``aiii pki export`` writes: the root's certificate and key in one PEM file.
EXPORT_NAME = "TEST-ONLY-aiii-pki.pem"
_ORG = "aiii-interop TEST ONLY"
_VENDOR_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_ROOT_DAYS = 3650
#: A root is replaced when it expires within this many days (its leaves expire with it).
_ROOT_MARGIN_DAYS = 30
#: The order of the P-256 group: a derived private scalar lies in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class PKIError(ValueError):
    """A file that is not a usable test PKI (one line, naming the file)."""


@dataclass(frozen=True)
class Credentials:
    """Signing credentials in the shape of ``provenance.sign`` params ``signer``."""

    cert_chain_pem: str
    private_key_pem: str
    alg: str = "es256"

    def as_params(self) -> dict[str, str]:
        """The ``signer`` object of ``provenance.sign`` params."""
        return {"alg": self.alg, "cert_chain_pem": self.cert_chain_pem, "private_key_pem": self.private_key_pem}


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
        ]
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(
        "ascii"
    )


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _load_key(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("test PKI keys must be EC P-256 keys")
    return key


def _usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def _make_root() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("aiii-interop TEST ONLY root CA")
    start = _now() - datetime.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=_ROOT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf_key(vendor_id: str, root_key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePrivateKey:
    """The leaf key of ``vendor_id``: a P-256 scalar derived from the root's key by HKDF."""
    secret = root_key.private_numbers().private_value.to_bytes(32, "big")
    okm = HKDF(hashes.SHA256(), 48, salt=b"aiii-interop test PKI leaf v1", info=vendor_id.encode("ascii")).derive(secret)
    return ec.derive_private_key(int.from_bytes(okm, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def _make_leaf(
    vendor_id: str, root: x509.Certificate, root_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The leaf of ``vendor_id``: the same bytes for everyone holding this root."""
    key = _leaf_key(vendor_id, root_key)
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    serial = int.from_bytes(hashlib.sha256(root.fingerprint(hashes.SHA256()) + vendor_id.encode()).digest()[:19], "big") | 1
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"aiii-interop TEST ONLY signer {vendor_id}"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(root.not_valid_before_utc)
        .not_valid_after(root.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signing=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(root_key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return cert, key


@dataclass
class TestPKI:
    """A root CA and lazily created per-vendor ES256 leaves.

    Use :meth:`create`; ``directory`` set means every certificate and key is written
    there and read back on the next run.
    """

    __test__ = False  # not a pytest test class despite its name

    root_pem: str
    root_key_pem: str
    directory: Path | None = None
    _leaves: dict[str, Credentials] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, directory: Path | None = None) -> TestPKI:
        """Load the PKI from ``directory`` when it holds one, else make a new one."""
        if directory is not None:
            cert_file, key_file = directory / ROOT_CERT_FILE, directory / ROOT_KEY_FILE
            if cert_file.is_file() and key_file.is_file():
                pki = cls(cert_file.read_text("ascii"), key_file.read_text("ascii"), directory)
                if pki._root_usable():
                    return pki
        cert, key = _make_root()
        pki = cls(_cert_pem(cert), _key_pem(key), directory)
        if directory is not None:
            pki.install(directory)
        return pki

    def install(self, directory: Path) -> None:
        """Write this root to ``directory`` (kept out of any repository around it)."""
        directory.mkdir(parents=True, exist_ok=True)
        _write(directory / ".gitignore", "*\n")
        _write(directory / ROOT_KEY_FILE, self.root_key_pem, private=True)
        _write(directory / ROOT_CERT_FILE, self.root_pem)
        self.directory = directory

    @property
    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.root_pem.encode("ascii"))

    @property
    def fingerprint(self) -> str:
        """The sha256 of the root certificate (DER), in hex: what names this PKI."""
        return self.root.fingerprint(hashes.SHA256()).hex()

    def _root_usable(self) -> bool:
        """A persisted root is reused until it is about to expire."""
        return self.root.not_valid_after_utc > _now() + datetime.timedelta(days=_ROOT_MARGIN_DAYS)

    def leaf(self, vendor_id: str) -> Credentials:
        """The signing credentials of ``vendor_id``: chain (leaf, then CA) and key."""
        if not _VENDOR_ID.match(vendor_id):
            raise ValueError(f"not a vendor id: {vendor_id!r}")
        found = self._leaves.get(vendor_id)
        if found is None:
            cert, key = _make_leaf(vendor_id, self.root, _load_key(self.root_key_pem))
            found = self._leaves[vendor_id] = Credentials(_cert_pem(cert) + self.root_pem, _key_pem(key))
        return found

    def export_pem(self) -> str:
        """The root's certificate and key, for ``aiii pki export``."""
        return self.root_pem + self.root_key_pem

    @classmethod
    def from_export(cls, path: Path, shown: str) -> TestPKI:
        """The PKI ``aiii pki export`` wrote to ``path``; :class:`PKIError` in one line."""
        try:
            text = path.read_text("ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise PKIError(f"{shown}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        certs = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", text, re.S)
        keys = re.findall(r"-----BEGIN PRIVATE KEY-----.+?-----END PRIVATE KEY-----\n?", text, re.S)
        if len(certs) != 1 or len(keys) != 1:
            raise PKIError(f"{shown}: not a test PKI (one CERTIFICATE and one PRIVATE KEY block, as `aiii pki export` "
                           f"writes; found {len(certs)} and {len(keys)})")
        try:
            pki = cls(certs[0], keys[0])
            root, key = pki.root, _load_key(pki.root_key_pem)
            constraints = root.extensions.get_extension_for_class(x509.BasicConstraints).value
        except ValueError as exc:
            raise PKIError(f"{shown}: not a test PKI: {str(exc).splitlines()[0]}") from None
        except x509.ExtensionNotFound:
            raise PKIError(f"{shown}: not a test PKI: the certificate is not a CA") from None
        if not constraints.ca or key.public_key() != root.public_key():
            raise PKIError(f"{shown}: not a test PKI: the certificate is not a CA, or the key is not its key")
        if not pki._root_usable():
            raise PKIError(f"{shown}: the test PKI's root expires {root.not_valid_after_utc:%Y-%m-%d}: export a fresh one")
        return pki


def _write(path: Path, text: str, *, private: bool = False) -> None:
    if private:  # created unreadable to others before a byte is written
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        return
    path.write_text(text, "ascii")
