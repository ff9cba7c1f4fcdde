"""The C2PA vendors through the harness's own loading path: the fixtures and helpers the
C2PA tests share (the test PKI, c2pa-python signing, schema-checked reads), what both
readers do with the same files (the unsigned public file, hostile files and JPEGs), and the
tamper transforms on signed files.

What one vendor alone does is tested beside it, importing from here: c2pa-python's signing,
reading, tamper verdicts and public-file results in vendors/c2pa-python/tests, c2patxt's
agreement with c2pa-python in vendors/c2patxt/tests.

Adapters are loaded from their ``vendor.toml`` and driven through ``InprocTransport``
exactly as a run does; every report is checked against the protocol schema.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiii_kit import AdapterError, Asset
from helpers import ROOT
from PIL import Image

from conformance.c2pa import CLAIM_GENERATOR, DIGITAL_SOURCE_TYPE, TRAINING_MINING
from conformance.fields import content_hash
from conformance.tamper import TAMPERS
from runner.derive import derive_bytes
from runner.model import VendorManifest
from runner.pki import TestPKI
from runner.schema import first_error
from runner.transports.inproc import InprocTransport
from runner.vectors import Catalogue, Vector, load_attack_strings, load_catalogue
from runner.vendors import load_manifest

VECTORS = ROOT / "test_vectors"
PUBLIC_DIR = VECTORS / "c2pa" / "public-testfiles"
HOSTILE_DIR = VECTORS / "c2pa" / "hostile"
KODIM01 = VECTORS / "images" / "kodak" / "kodim01.png"
AUDIO_SOURCE = VECTORS / "audio" / "sorohan-solo-trumpet.ogg"  # the shortest clip

READ_RESULT = "aiii:protocol/v1/provenance.read.result"
READ_PARAMS = "aiii:protocol/v1/provenance.read.params"
SIGN_PARAMS = "aiii:protocol/v1/provenance.sign.params"
LABELS = ("cawg.training-mining", "c2pa.training-mining")
READERS = ("c2pa-python", "c2patxt")

#: What TRAINING_MINING reads back as in the normalised report (constraint_info always present).
EXPECTED_TRAINING = {k: {"use": v["use"], "constraint_info": v.get("constraint_info")} for k, v in TRAINING_MINING.items()}
EXPECTED_ACTIONS = [{"action": "c2pa.created", "digital_source_type": DIGITAL_SOURCE_TYPE}]


def _manifest(vendor_id: str) -> VendorManifest:
    return load_manifest(ROOT / "vendors" / vendor_id / "vendor.toml")


def _declared(vendor_id: str, operation: str) -> tuple[str, ...]:
    (cap,) = [c for c in _manifest(vendor_id).capabilities if c.operation == operation]
    return cap.media_types


SIGN_TYPES = _declared("c2pa-python", "provenance.sign")
#: Combinations the tamper module documents as out of its reach.
TAMPER_UNSUPPORTED = {("image/gif", kind) for kind in TAMPERS} | {("audio/flac", "pixel")}
TAMPER_CASES = [(mt, kind) for mt in SIGN_TYPES for kind in TAMPERS if (mt, kind) not in TAMPER_UNSUPPORTED]
PUBLIC_FILES = sorted(p.name for p in PUBLIC_DIR.glob("*.jpg"))
HOSTILE_FILES = sorted(p.name for p in HOSTILE_DIR.iterdir() if not p.name.startswith("LICENSE"))
ATTACKS = [(name, i, text) for name, lines in sorted(load_attack_strings(VECTORS).items()) for i, text in enumerate(lines[:2])]


# ------------------------------------------------------------------ fixtures


def _started(vendor_id: str) -> Iterator[InprocTransport]:
    transport = InprocTransport(_manifest(vendor_id))
    transport.start()
    try:
        yield transport
    finally:
        transport.close()


@pytest.fixture(scope="module")
def c2pa_python() -> Iterator[InprocTransport]:
    yield from _started("c2pa-python")


@pytest.fixture(scope="module")
def c2patxt() -> Iterator[InprocTransport]:
    yield from _started("c2patxt")


@pytest.fixture(scope="module")
def readers(c2pa_python: InprocTransport, c2patxt: InprocTransport) -> dict[str, InprocTransport]:
    return {"c2pa-python": c2pa_python, "c2patxt": c2patxt}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    # derive=False: only the source files (public, hostile) are needed, checked by sha256
    return load_catalogue(VECTORS, tmp_path_factory.mktemp("cache"), derive=False)


def _gif(path: Path) -> bytes:
    """Pillow's derive offers no GIF: a small palette GIF of the same photo."""
    with Image.open(path) as img:
        small = img.convert("RGB").resize((192, 128)).quantize(colors=64)
    out = io.BytesIO()
    small.save(out, "GIF")
    return out.getvalue()


@pytest.fixture(scope="module")
def sources() -> dict[str, Asset]:
    """One unsigned asset per media type c2pa-python declares it signs."""
    out = {"image/png": Asset(KODIM01.read_bytes(), "image/png"), "image/gif": Asset(_gif(KODIM01), "image/gif")}
    for mt in ("image/jpeg", "image/webp", "image/tiff"):
        out[mt] = Asset(derive_bytes(KODIM01, "image/png", mt), mt)
    for mt in ("audio/wav", "audio/mpeg", "audio/flac"):
        out[mt] = Asset(derive_bytes(AUDIO_SOURCE, "audio/ogg", mt), mt)
    missing = set(SIGN_TYPES) - set(out)
    assert not missing, f"c2pa-python declares formats this test has no source for: {missing}"
    return out


def sign_params(pki: TestPKI, title: str, label: str = "cawg.training-mining") -> dict[str, Any]:
    params = {
        "signer": pki.leaf("c2pa-python").as_params(),
        "claim_generator": CLAIM_GENERATOR,
        "title": title,
        "actions": [{"action": "c2pa.created", "digital_source_type": DIGITAL_SOURCE_TYPE}],
        "training_mining": TRAINING_MINING,
        "training_mining_label": label,
    }
    assert first_error(SIGN_PARAMS, params) is None
    return params


Signer = Callable[..., Asset]


@pytest.fixture(scope="module")
def signed(c2pa_python: InprocTransport, pki: TestPKI, sources: dict[str, Asset]) -> Signer:
    """``signed(media_type, title=..., label=...)``: the c2pa-python-signed asset, made once."""
    made: dict[tuple[str, str, str], Asset] = {}

    def sign(media_type: str, title: str = "aiii kodim01", label: str = "cawg.training-mining") -> Asset:
        key = (media_type, title, label)
        if key not in made:
            out = c2pa_python.call("provenance.sign", sources[media_type], sign_params(pki, title, label), _timeout(c2pa_python))
            assert isinstance(out, Asset) and out.media_type == media_type
            made[key] = out
        return made[key]

    return sign


def _timeout(transport: InprocTransport) -> float:
    return float(transport.manifest.timeout_s or 60)


def read(transport: InprocTransport, asset: Asset, anchor: str | None) -> dict[str, Any]:
    """A provenance.read through the transport; the answer must be inside the protocol."""
    params = {"trust_anchors_pem": anchor}
    assert first_error(READ_PARAMS, params) is None
    answer = transport.call("provenance.read", asset, params, _timeout(transport))
    assert isinstance(answer, dict)
    problem = first_error(READ_RESULT, answer)
    assert problem is None, f"{transport.manifest.id} answered outside the protocol schema: {problem}"
    return answer


def verdict(report: dict[str, Any]) -> tuple[bool, str | None, list[str]]:
    return report["manifest_present"], report["validation_state"], sorted(report["codes"]["failure"])


def content(report: dict[str, Any]) -> dict[str, Any]:
    manifest = report["active_manifest"] or {}
    keys = ("title", "claim_generator", "actions", "training_mining", "assertion_labels")
    return {k: manifest.get(k) for k in keys}


def app11_jumbf_segments(data: bytes) -> int:
    """APP11 JUMBF segments before the first scan of a (well-formed) JPEG."""
    pos, count = 2, 0
    while data[pos] == 0xFF and data[pos + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if data[pos + 1] == 0xEB and data[pos + 4 : pos + 6] == b"JP":
            count += 1
        pos += 2 + length
    return count


# ------------------------------------------------------------------ tampering
# The transforms on c2pa-python's signed files; on unsigned and malformed input they are
# tested in tests/unit/test_tamper.py, and what c2pa-python reports of each tamper in
# vendors/c2pa-python/tests.


@pytest.mark.parametrize(("media_type", "kind"), TAMPER_CASES)
def test_tampered_file_still_decodes(signed: Signer, media_type: str, kind: str) -> None:
    original = signed(media_type)
    tampered = Asset(TAMPERS[kind][0](original.data, media_type), media_type)
    before, after = content_hash(original)[0], content_hash(tampered)[0]
    if kind == "pixel":
        assert after != before, "the pixel tamper must change bound media content"
    else:
        assert after == before, f"the {kind} tamper must leave the media content alone"


@pytest.mark.parametrize(("media_type", "kind"), sorted(TAMPER_UNSUPPORTED))
def test_unsupported_tamper_says_not_supported(signed: Signer, media_type: str, kind: str) -> None:
    with pytest.raises(ValueError, match="not supported"):
        TAMPERS[kind][0](signed(media_type).data, media_type)


# ------------------------------------------------------------ public test files


def _vector(catalogue: Catalogue, directory: Path, name: str) -> Vector:
    found = [v for v in catalogue if v.path == (directory / name).resolve()]
    assert len(found) == 1, f"{name} is not in the catalogue"
    return found[0]


def test_both_readers_find_no_manifest_in_the_unsigned_public_file(readers: dict[str, InprocTransport]) -> None:
    asset = Asset((PUBLIC_DIR / "adobe-20220124-A.jpg").read_bytes(), "image/jpeg")
    for reader in READERS:
        assert verdict(read(readers[reader], asset, None)) == (False, None, []), reader


# -------------------------------------------------------------- hostile input


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _jumd(label: bytes) -> bytes:
    return _box(b"jumd", b"c2pa" + bytes.fromhex("00110010800000aa00389b71") + b"\x03" + label + b"\x00")


def _with_app11(jumbf: bytes) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(out, "JPEG")
    body = b"JP" + struct.pack(">HI", 1, 1) + jumbf
    return out.getvalue()[:2] + b"\xff\xeb" + struct.pack(">H", len(body) + 2) + body + out.getvalue()[2:]


def _nested(depth: int) -> bytes:
    inner = b""
    for _ in range(depth):
        inner = _box(b"jumb", _jumd(b"x") + inner)
    return _box(b"jumb", _jumd(b"c2pa") + inner)


#: Hand-made hostile JPEGs: every reader, JPEG-only ones included, sees these.
HOSTILE_JPEGS: dict[str, Callable[[Signer], bytes]] = {
    "jumbf-nested-2000-deep": lambda _: _with_app11(_nested(2000)[:65000]),
    "jumbf-length-past-end": lambda _: _with_app11(struct.pack(">I", 0xFFFFFFF0) + b"jumb" + _jumd(b"c2pa")),
    "jumbf-xlbox-2-63": lambda _: _with_app11(struct.pack(">IIQ", 1, 0x6A756D62, 2**63) + _jumd(b"c2pa")),
    "jumbf-lbox-zero": lambda _: _with_app11(struct.pack(">I", 0) + b"jumb" + _jumd(b"c2pa")),
    "signed-truncated-in-manifest": lambda sign: sign("image/jpeg").data[:3000],
    "signed-truncated-in-scan": lambda sign: sign("image/jpeg").data[:-5000],
}


def _check_clean(transport: InprocTransport, asset: Asset, anchor: str) -> None:
    """A schema-valid report (``read`` asserts it) or a clean AdapterError/Unsupported.

    Anything else (a crash inside the adapter, a hang) reaches the test as TransportError.
    """
    try:
        read(transport, asset, anchor)
    except AdapterError as exc:  # Unsupported is an AdapterError
        assert str(exc).strip(), "a refusal must say why"


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_file_gets_a_report_or_a_clean_refusal(
    readers: dict[str, InprocTransport], catalogue: Catalogue, pki: TestPKI, name: str, reader: str
) -> None:
    vector = _vector(catalogue, HOSTILE_DIR, name)
    _check_clean(readers[reader], Asset(vector.read_bytes(), vector.media_type), pki.root_pem)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", list(HOSTILE_JPEGS))
def test_hostile_jpeg_gets_a_report_or_a_clean_refusal(
    readers: dict[str, InprocTransport], signed: Signer, pki: TestPKI, case: str, reader: str
) -> None:
    _check_clean(readers[reader], Asset(HOSTILE_JPEGS[case](signed), "image/jpeg"), pki.root_pem)
