"""The run-time test PKI: one root CA and one ES256 leaf per signing vendor.

Keys are generated fresh with ``cryptography``; only the structure is fixed.  Nothing
here is a real credential.  :meth:`TestPKI.create` can persist the PKI to a directory
and reload it, so a resumed run signs with the same CA.  Private keys are written as
``TEST-ONLY-*.key.pem`` files and must never be committed.

Certificate profile (what c2pa-rs 0.91 accepts by default): the root is self-signed
with ``cA=true`` and ``keyCertSign``; each leaf carries KeyUsage digitalSignature
(critical), EKU emailProtection, AuthorityKeyIdentifier and SubjectKeyIdentifier, and
is valid from one day ago for about a year.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_CERT_FILE = "root-ca.cert.pem"
ROOT_KEY_FILE = "TEST-ONLY-root-ca.key.pem"
_LEAF_CERT = "leaf-{}.cert.pem"
_LEAF_KEY = "TEST-ONLY-leaf-{}.key.pem"
_ORG = "aiii-interop TEST ONLY"
_VENDOR_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_LEAF_DAYS = 365
_ROOT_DAYS = 3650


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


def _make_leaf(
    vendor_id: str, root: x509.Certificate, root_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now() - datetime.timedelta(days=1)
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"aiii-interop TEST ONLY signer {vendor_id}"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=_LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signing=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(root_key, hashes.SHA256())
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
            directory.mkdir(parents=True, exist_ok=True)
            # Keep the keys out of any repository the directory happens to sit in.
            _write(directory / ".gitignore", "*\n")
            _write(directory / ROOT_CERT_FILE, pki.root_pem)
            _write(directory / ROOT_KEY_FILE, pki.root_key_pem, private=True)
            for stale in (*directory.glob(_LEAF_CERT.format("*")), *directory.glob(_LEAF_KEY.format("*"))):
                stale.unlink()
        return pki

    @property
    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.root_pem.encode("ascii"))

    def _root_usable(self) -> bool:
        """A persisted root is reused only while it outlives a fresh leaf."""
        horizon = _now() + datetime.timedelta(days=_LEAF_DAYS)
        return self.root.not_valid_after_utc > horizon

    def leaf(self, vendor_id: str) -> Credentials:
        """The signing credentials of ``vendor_id``: chain (leaf, then CA) and key."""
        if not _VENDOR_ID.match(vendor_id):
            raise ValueError(f"not a vendor id: {vendor_id!r}")
        found = self._leaves.get(vendor_id) or self._load_leaf(vendor_id)
        if found is None:
            cert, key = _make_leaf(vendor_id, self.root, _load_key(self.root_key_pem))
            found = Credentials(_cert_pem(cert) + self.root_pem, _key_pem(key))
            if self.directory is not None:
                _write(self.directory / _LEAF_CERT.format(vendor_id), found.cert_chain_pem)
                _write(self.directory / _LEAF_KEY.format(vendor_id), found.private_key_pem, private=True)
        self._leaves[vendor_id] = found
        return found

    def _load_leaf(self, vendor_id: str) -> Credentials | None:
        if self.directory is None:
            return None
        cert_file = self.directory / _LEAF_CERT.format(vendor_id)
        key_file = self.directory / _LEAF_KEY.format(vendor_id)
        if not (cert_file.is_file() and key_file.is_file()):
            return None
        chain = cert_file.read_text("ascii")
        leaf = x509.load_pem_x509_certificates(chain.encode("ascii"))[0]
        if leaf.not_valid_after_utc <= _now() + datetime.timedelta(days=1) or leaf.issuer != self.root.subject:
            return None
        return Credentials(chain, key_file.read_text("ascii"))


def _write(path: Path, text: str, *, private: bool = False) -> None:
    path.write_text(text, "ascii")
    if private:
        path.chmod(0o600)
