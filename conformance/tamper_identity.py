"""A tamper of the CAWG identity assertion: one byte of its X.509 signature changed.

The identity assertion (``cawg.identity``, CAWG identity assertion 1.1, section 5.1) is a
CBOR map whose ``signature`` field, for the X.509 credential type (section 8.2), holds a
COSE_Sign1 over the ``signer_payload``.  The transform finds the active manifest's
identity assertion by parsing JUMBF and CBOR (``tamper_jumbf``), then changes the middle
byte of that COSE_Sign1's signature bytes; the assertion's length and structure stay
intact.  The claim's hashed URI of the assertion no longer matches either, which C2PA
validators report as ``assertion.hashedURI.mismatch`` beside whatever CAWG code they give.

Like the transforms of ``conformance/tamper.py`` it is ``(data, media_type) -> bytes``,
raising ``ValueError`` when there is no identity assertion to change.  It is not one of
:data:`conformance.tamper.TAMPERS`: only signers that add an identity assertion can take it.
"""

from __future__ import annotations

import re

from conformance.tamper import _flip_in_store, _locate_store, _malformed_is_value_error
from conformance.tamper_jumbf import _active_manifest, _cbor_head, _cbor_walk, _child, _content, _cose_signature

_IDENTITY_LABEL = re.compile(r"^cawg\.identity(__\d+)?$")


def _map_bytes(buf: bytes, start: int, end: int, key: str) -> tuple[int, int]:
    """The content of the byte string at ``key`` of the CBOR map at ``start``."""
    major, count, at = _cbor_head(buf, start, end)
    if major != 5 or count is None:
        raise ValueError("the identity assertion is not a definite-length CBOR map")
    for _ in range(count):
        kmajor, klen, kat = _cbor_head(buf, at, end)
        name = buf[kat:kat + klen].decode("utf-8", "replace") if kmajor == 3 and klen is not None else None
        value = _cbor_walk(buf, at, end, lambda m, s, e: None)
        if name == key:
            vmajor, vlen, vat = _cbor_head(buf, value, end)
            if vmajor != 2 or vlen is None or vat + vlen > end:
                raise ValueError(f"the identity assertion's {key} is not a byte string")
            return vat, vat + vlen
        at = _cbor_walk(buf, value, end, lambda m, s, e: None)
    raise ValueError(f"the identity assertion has no {key}")


@_malformed_is_value_error
def identity_signature(data: bytes, media_type: str) -> bytes:
    """Change one byte of the COSE signature inside the active manifest's CAWG identity assertion."""
    store = _locate_store(data, media_type, "identity_signature")
    assertions = _child(_active_manifest(store), "c2pa.assertions")
    found = [a for a in assertions.children if a.label and _IDENTITY_LABEL.match(a.label)] if assertions else []
    cbor = _content(found[0], b"cbor") if found else None
    if cbor is None:
        raise ValueError("the active manifest has no CAWG identity assertion")
    start, end = _map_bytes(store.data, cbor.payload, cbor.end, "signature")
    sig_start, sig_end = _cose_signature(store.data, start, end)
    pos = (sig_start + sig_end) // 2
    return _flip_in_store(data, media_type, store, pos, store.data[pos] ^ 0x01)


__all__ = ["identity_signature"]
