"""The run-time test PKI (runner/pki.py): a root and one C2PA signing leaf per vendor."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from runner.pki import PKIError, TestPKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))


def _chain(pki: TestPKI, vendor_id: str = "c2pa-python") -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pki.leaf(vendor_id).cert_chain_pem.encode("ascii"))


def test_leaf_is_signed_by_the_root_it_ships_with(pki: TestPKI) -> None:
    leaf, carried_root = _chain(pki)
    assert carried_root == pki.root, "the chain must be leaf first, then the run's root CA"
    assert leaf.issuer == pki.root.subject
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)
    root_key = pki.root.public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    root_key.verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm))
    pki.root.verify_directly_issued_by(pki.root)  # self-signed
    other_root = TestPKI.create().root  # same subject name, different key: must not verify
    with pytest.raises(InvalidSignature):
        leaf.verify_directly_issued_by(other_root)


def test_leaf_carries_the_c2pa_signing_profile(pki: TestPKI) -> None:
    leaf, _ = _chain(pki)
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    root_ski = pki.root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    leaf_ski = leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert leaf_ski.digest == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key()).digest
    basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and not basic.value.ca
    root_basic = pki.root.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert root_basic.ca and pki.root.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    now = datetime.datetime.now(tz=datetime.UTC)
    assert leaf.not_valid_before_utc < now < leaf.not_valid_after_utc <= pki.root.not_valid_after_utc


def test_leaf_private_key_matches_its_certificate(pki: TestPKI) -> None:
    creds = pki.leaf("c2pa-python")
    key = serialization.load_pem_private_key(creds.private_key_pem.encode("ascii"), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    leaf, _ = _chain(pki)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()  # type: ignore[union-attr]
    assert creds.as_params()["alg"] == "es256"


def test_each_vendor_gets_its_own_leaf_under_one_root(pki: TestPKI) -> None:
    mine, theirs = _chain(pki, "c2pa-python")[0], _chain(pki, "other-signer")[0]
    assert mine.public_key().public_numbers() != theirs.public_key().public_numbers()  # type: ignore[union-attr]
    assert "c2pa-python" in mine.subject.rfc4514_string() and "other-signer" in theirs.subject.rfc4514_string()
    theirs.verify_directly_issued_by(pki.root)


@pytest.mark.parametrize("vendor_id", ["../escape", "UPPER", "", "a/b"])
def test_leaf_refuses_a_vendor_id_that_is_not_a_safe_file_name(pki: TestPKI, vendor_id: str) -> None:
    with pytest.raises(ValueError, match="not a vendor id"):
        pki.leaf(vendor_id)


def test_persisted_pki_reloads_identical(tmp_path: Path) -> None:
    first = TestPKI.create(tmp_path / "pki")
    leaf = first.leaf("c2pa-python")
    again = TestPKI.create(tmp_path / "pki")
    assert (again.root_pem, again.root_key_pem) == (first.root_pem, first.root_key_pem)
    assert again.leaf("c2pa-python") == leaf
    later = again.leaf("second-signer")  # derived by the reloaded PKI, and by a third
    assert TestPKI.create(tmp_path / "pki").leaf("second-signer") == later
    elsewhere = TestPKI.create(tmp_path / "other")
    assert elsewhere.root_pem != first.root_pem, "a fresh directory must get fresh keys"


def test_a_participant_who_imports_the_root_derives_every_leaf_byte_for_byte(pki: TestPKI, tmp_path: Path) -> None:
    """Packs of signed artifacts combine only when both sides sign with the same leaves:
    the steps' keys carry the credentials."""
    (tmp_path / "exported.pem").write_text(pki.export_pem())
    theirs = TestPKI.from_export(tmp_path / "exported.pem", "exported.pem")
    theirs.install(tmp_path / "theirs")
    again = TestPKI.create(tmp_path / "theirs")
    assert again.fingerprint == pki.fingerprint
    for vendor in ("c2pa-python", "acme", "x-vendor.2"):
        assert again.leaf(vendor) == pki.leaf(vendor), vendor
    assert TestPKI.create().leaf("acme") != pki.leaf("acme"), "another root derives other leaves"
    assert sorted(p.name for p in (tmp_path / "theirs").iterdir()) == [".gitignore", "TEST-ONLY-root-ca.key.pem",
                                                                       "root-ca.cert.pem"]


@pytest.mark.parametrize(("text", "says"), [
    ("not a pem\n", "found 0 and 0"),
    ("{cert}", "found 1 and 0"),
    ("{cert}{other_key}", "the key is not its key"),
    ("{leaf}{leaf_key}", "not a CA"),
])
def test_a_file_that_is_not_an_exported_pki_is_refused_in_one_line(pki: TestPKI, tmp_path: Path, text: str,
                                                                     says: str) -> None:
    creds = pki.leaf("acme")
    leaf = creds.cert_chain_pem[: creds.cert_chain_pem.index("-----END CERTIFICATE-----") + 26]
    other_key = TestPKI.create().root_key_pem
    bad = tmp_path / "bad.pem"
    bad.write_text(text.format(cert=pki.root_pem, other_key=other_key, leaf=leaf, leaf_key=creds.private_key_pem))
    with pytest.raises(PKIError) as caught:
        TestPKI.from_export(bad, "bad.pem")
    message = str(caught.value)
    assert message.startswith("bad.pem: ") and says in message and "\n" not in message, message
