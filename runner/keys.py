"""Signing keys: Ed25519 key pairs, and the registry of who may sign for whom.

Key files (``aiii keys generate --out DIR --id NAME``):

- ``NAME.pem``: the private key, PKCS#8 PEM, unencrypted, written with mode 0600;
- ``NAME.pub``: the public key as JSON, securesystemslib's key form with its keyid::

    {"keyid": "<sha256 of the key's canonical JSON>", "keytype": "ed25519",
     "scheme": "ed25519", "keyval": {"public": "<32 bytes, hex>"}}

The registry: a participant's public keys sit beside its manifest,
``vendors/<id>/keys/*.pub``, and may sign for that vendor id only; the hub's keys
(signer id ``hub``) are read from the folder ``$AIII_HUB_KEYS`` names, else from
``keys/hub/`` at the repository root.  A key file whose keyid is not its key's own is
refused, so a keyid always names one key.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner, SSlibKey

from runner.errors import HarnessError
from runner.paths import ROOT, display

#: The signer id of the hub's own runs.
HUB = "hub"
#: Where the hub's public keys are, when ``AIII_HUB_KEYS`` does not say.
HUB_KEYS_ENV = "AIII_HUB_KEYS"
SIGNER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class KeyFileError(HarnessError):
    """A key file cannot be written, read or used; names the file."""


def generate(out_dir: Path, name: str = "signing") -> tuple[Path, Path, str]:
    """Write a new Ed25519 key pair as ``NAME.pem`` (private, 0600) and ``NAME.pub``;
    return both paths and the keyid.  Existing files are never overwritten."""
    if not _NAME.match(name):
        raise KeyFileError(f"--id: {name!r} is not a key name (letters, digits, '.', '_', '-')")
    signer = CryptoSigner.generate_ed25519()
    private, public = out_dir / f"{name}.pem", out_dir / f"{name}.pub"
    for path in (private, public):
        if path.exists() or path.is_symlink():
            raise KeyFileError(f"{display(path)}: already exists; keys are never overwritten")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(signer.private_bytes)
        public.write_text(public_json(signer.public_key), encoding="utf-8")
    except OSError as exc:
        raise KeyFileError(f"{display(out_dir)}: cannot write keys ({exc.strerror or type(exc).__name__})") from None
    return private, public, signer.public_key.keyid


def public_json(key: SSlibKey) -> str:
    """A public key file's text."""
    return json.dumps({"keyid": key.keyid, **key.to_dict()}, indent=2, sort_keys=True) + "\n"


def load_signer(path: Path) -> CryptoSigner:
    """The signer of a private key file written by :func:`generate` (Ed25519, PEM)."""
    shown = display(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{shown}: cannot read the private key ({exc.strerror or type(exc).__name__})") from None
    try:
        private = load_pem_private_key(raw, password=None)
    except (ValueError, TypeError):
        raise KeyFileError(f"{shown}: not an unencrypted PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(f"{shown}: not an Ed25519 key (make one with `aiii keys generate`)")
    return CryptoSigner(private)


def load_public(path: Path) -> SSlibKey:
    """A public key file (``.pub``); refused in one line when malformed, not Ed25519, or
    when its keyid is not the one its key material gives."""
    shown = display(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("keytype") != "ed25519" or doc.get("scheme") != "ed25519":
            raise KeyFileError(f"{shown}: not an ed25519 key")
        material = Ed25519PublicKey.from_public_bytes(bytes.fromhex(doc["keyval"]["public"]))
    except KeyFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise KeyFileError(f"{shown}: not a public key file (JSON with keyid, keytype, scheme, keyval)") from None
    key = SSlibKey.from_crypto(material)
    if doc.get("keyid") != key.keyid:
        raise KeyFileError(f"{shown}: keyid {str(doc.get('keyid'))[:16]!r} is not this key's ({key.keyid[:16]})")
    return key


def hub_keys_dir() -> Path:
    """The folder of the hub's public keys: ``$AIII_HUB_KEYS``, else ``keys/hub/``."""
    configured = os.environ.get(HUB_KEYS_ENV)
    return Path(configured) if configured else ROOT / "keys" / HUB


@dataclass
class Registry:
    """Signer id -> keyid -> public key: who may sign for whom."""

    keys: dict[str, dict[str, SSlibKey]] = field(default_factory=dict)
    #: the reference vendors, which the hub runs and whose packs its keys may sign
    hub_vendors: frozenset[str] = frozenset()

    def add(self, signer: str, key: SSlibKey) -> None:
        self.keys.setdefault(signer, {})[key.keyid] = key

    def keys_for(self, signer: str) -> list[SSlibKey]:
        return list(self.keys.get(signer, {}).values())

    def find(self, keyid: str) -> SSlibKey | None:
        """The key with this keyid, whoever it is registered for (a keyid names one key)."""
        return next((keys[keyid] for keys in self.keys.values() if keyid in keys), None)

    def owners(self, keyid: str) -> list[str]:
        """The signer ids a key is registered for."""
        return sorted(signer for signer, keys in self.keys.items() if keyid in keys)

    def may_sign_for(self, keyid: str, vendor: str) -> bool:
        """Whether the key may sign for ``vendor``: registered for it, or the hub's key
        and ``vendor`` one of the reference vendors the hub runs."""
        owners = self.owners(keyid)
        return vendor in owners or (HUB in owners and vendor in self.hub_vendors)


def _public_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.pub") if p.is_file()) if folder.is_dir() else []


def load_registry(vendor_dirs: Iterable[Path] = (), hub_dir: Path | None = None) -> Registry:
    """The keys of ``vendors/<id>/keys/*.pub`` (the repository's vendors/ and every folder
    of ``vendor_dirs``, laid out the same way) and the hub's (``hub_dir``, else
    :func:`hub_keys_dir`)."""
    registry = Registry()
    for directory in (ROOT / "vendors", *vendor_dirs):
        if not directory.is_dir():
            raise KeyFileError(f"{display(directory)}: no such folder of vendors' keys")
        for folder in sorted(directory.glob("*/keys")):
            signer = folder.parent.name
            if signer == HUB or not SIGNER_ID.match(signer):
                raise KeyFileError(f"{display(folder)}: {signer!r} cannot be a vendor id here")
            for path in _public_files(folder):
                registry.add(signer, load_public(path))
    for path in _public_files(hub_dir or hub_keys_dir()):
        registry.add(HUB, load_public(path))
    return registry
