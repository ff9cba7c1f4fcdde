"""rust-recognition: the Rust server cargo builds, served in the process placement (and in
its container), checked against the protocol, Meta's C++ PDQ and Debian's fpcalc.

The first test of the module builds the server unless this machine's build cache has it
(``runner/builds.py``): a few minutes once per change of its sources, hence ``slow``.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from aiii_kit.protocol import OPERATIONS
from helpers import ROOT, TESTS, aiii, cells, placement_differences

from runner.model import VendorManifest
from runner.schema import first_error
from runner.transports import Transport, make_transport
from runner.vectors import Catalogue
from runner.vendors import load_manifest

VENDOR = ROOT / "vendors" / "rust-recognition"
KODAK = ROOT / "test_vectors" / "images" / "kodak"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

#: PDQ of Kodak PNGs by Meta's C++ (PyPI pdqhash 0.2.8 on Pillow's RGB pixels), for when
#: that package is not installed here; when it is, it is asked too.
META_PDQ = {
    "kodim01": "0c301eb1b9606a686987ff696b870c719964af60f769e04efe6df387483a0cb1",
    "kodim03": "711c541c9e158f0e8f06ab91a54bbb43bbe19ef02af8d2bccb5c273ed90a0d43",
}


def meta_pdq(name: str) -> str:
    """Meta's C++ PDQ of a Kodak PNG, as hex (most significant bit first)."""
    try:
        import numpy as np
        import pdqhash  # type: ignore[import-not-found,unused-ignore]
        from PIL import Image
    except ImportError:
        return META_PDQ[name]
    with Image.open(KODAK / f"{name}.png") as img:
        bits, _quality = pdqhash.compute(np.asarray(img.convert("RGB")))
    found = bytes(np.packbits(bits.astype(np.uint8))).hex()
    assert found == META_PDQ[name], "the recorded hash no longer matches pdqhash's"
    return found


@pytest.fixture(scope="module")
def manifest() -> VendorManifest:
    return load_manifest(VENDOR / "vendor.toml")


@pytest.fixture(scope="module")
def served(manifest: VendorManifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transport]:
    """The vendor in its process placement (built first if the build cache lacks it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(tmp_path_factory.mktemp("rust-home")))
        transport = make_transport(manifest, "process")
        transport.start()
        try:
            yield transport
        finally:
            transport.close()


def compute(transport: Transport, data: bytes, media_type: str, algorithm: str) -> dict[str, Any]:
    answer = transport.call("fingerprint.compute", Asset(data, media_type), {"algorithm": algorithm}, 120)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compute.result", answer) is None, answer
    return answer


def compare(transport: Transport, algorithm: str, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    params = {"algorithm": algorithm, "a": {k: a[k] for k in ("encoding", "fingerprint_hex")},
              "b": {k: b[k] for k in ("encoding", "fingerprint_hex")}}
    answer = transport.call("fingerprint.compare", Asset(b"", "application/octet-stream"), params, 60)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compare.result", answer) is None, answer
    return answer


def vector(catalogue: Catalogue, vector_id: str) -> Path:
    return next(v.path for v in catalogue.vectors if v.id == vector_id)


# -- the protocol ---------------------------------------------------------------------


def test_describe_names_the_crates_of_cargo_lock(served: Transport) -> None:
    lock = (VENDOR / "Cargo.lock").read_text()

    def locked(name: str) -> str:
        found = re.search(rf'name = "{re.escape(name)}"\nversion = "([^"]+)"', lock)
        assert found, name
        return found.group(1)

    assert served.implementation_version() == (
        f"pdqhash {locked('pdqhash')}, rusty-chromaprint {locked('rusty-chromaprint')}")


def test_the_servers_operation_list_is_the_protocols() -> None:
    """A request for an operation the protocol lacks is 404, for one it has but this
    vendor does not do, 501: the server's own list must follow the schemas."""
    source = (VENDOR / "src" / "server.rs").read_text()
    listed = re.search(r"PROTOCOL_OPERATIONS: &\[&str\] = &\[(.*?)\];", source, re.S)
    assert listed is not None
    assert re.findall(r'"([a-z.]+)"', listed.group(1)) == sorted(OPERATIONS)


def test_adapter_check_passes_and_a_second_start_builds_nothing(served: Transport, tmp_path: Path) -> None:
    proc = aiii(tmp_path / "home", "adapter", "check", "rust-recognition", "--timeout", "30")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout
    for probe in ("a body over the size limit gives 413", "unknown operation gives 404",
                  "a missing params part gives 400", "fingerprint.compute on image/jpeg: clean refusal"):
        assert probe in proc.stdout, proc.stdout
    # the module's transport built (or found) the server: this start found it cached
    assert "cargo build" not in proc.stderr, proc.stderr


def test_refusals_carry_the_protocols_kinds(served: Transport) -> None:
    png = (KODAK / "kodim01.png").read_bytes()
    with pytest.raises(Unsupported, match="pdq"):  # an algorithm of the family this vendor lacks
        served.call("fingerprint.compute", Asset(png, "image/png"), {"algorithm": "phash"}, 30)
    with pytest.raises(Unsupported, match="audio/wav"):  # chromaprint of an image
        served.call("fingerprint.compute", Asset(png, "image/png"), {"algorithm": "chromaprint"}, 30)
    with pytest.raises(Unsupported, match="does not implement metadata.read"):
        served.call("metadata.read", Asset(png, "image/png"), {}, 30)
    with pytest.raises(AdapterError, match="cannot decode"):
        served.call("fingerprint.compute", Asset(b"not a png" * 10, "image/png"), {"algorithm": "pdq"}, 30)
    with pytest.raises(AdapterError, match="256 bits"):
        served.call("fingerprint.compare", Asset(b"", "application/octet-stream"), {
            "algorithm": "pdq", "a": {"encoding": "bits", "fingerprint_hex": "ff" * 3},
            "b": {"encoding": "bits", "fingerprint_hex": "ff" * 32}}, 30)


# -- PDQ ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(META_PDQ))
def test_pdq_equals_metas_cpp(served: Transport, name: str) -> None:
    answer = compute(served, (KODAK / f"{name}.png").read_bytes(), "image/png", "pdq")
    assert answer["fingerprint_hex"] == meta_pdq(name)
    assert (answer["encoding"], answer["bits"]) == ("bits", 256)
    assert answer["quality_scale"] == {"min": 0, "max": 1} and 0 < answer["quality"] <= 1


def test_pdq_of_every_declared_image_type_matches_the_png(served: Transport, manifest: VendorManifest,
                                                          catalogue: Catalogue) -> None:
    from PIL import Image

    png = compute(served, (KODAK / "kodim01.png").read_bytes(), "image/png", "pdq")
    files = {"image/jpeg": vector(catalogue, "kodim01-jpg").read_bytes(),
             "image/webp": vector(catalogue, "kodim01-webp").read_bytes(),
             "image/tiff": vector(catalogue, "kodim01-tif").read_bytes()}
    with Image.open(KODAK / "kodim01.png") as img:
        for media_type, fmt in (("image/gif", "GIF"), ("image/bmp", "BMP")):
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format=fmt)
            files[media_type] = buf.getvalue()
    declared = manifest.capability("fingerprint.compute", "image/png")
    assert declared is not None and sorted(declared.media_types) == sorted([*files, "image/png"])
    for media_type, data in files.items():
        other = compute(served, data, media_type, "pdq")
        verdict = compare(served, "pdq", png, other)
        assert verdict["distance_kind"] == "hamming" and verdict["match"] is True, (media_type, verdict)
    different = compute(served, (KODAK / "kodim03.png").read_bytes(), "image/png", "pdq")
    verdict = compare(served, "pdq", png, different)
    assert verdict["distance"] > 31 and verdict["match"] is False


# -- Chromaprint ----------------------------------------------------------------------


def fpcalc(path: Path) -> dict[str, Any]:
    """Debian's ``fpcalc -raw -json``, its defaults (algorithm 2, the first 120 s): it exits
    3 at a WAV's end after printing the fingerprint, so the JSON decides."""
    proc = subprocess.run(["fpcalc", "-raw", "-json", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), f"fpcalc exited {proc.returncode}: {proc.stderr}"
    found: dict[str, Any] = json.loads(proc.stdout)
    return found


@pytest.mark.debian
@pytest.mark.parametrize("source", ["librispeech-198-209-0000", "brahms-hungarian-dance-5"])
def test_chromaprint_of_a_wav_is_fpcalcs_within_a_few_bits(served: Transport, catalogue: Catalogue,
                                                           source: str) -> None:
    path = vector(catalogue, f"{source}-wav")
    answer = compute(served, path.read_bytes(), "audio/wav", "chromaprint")
    assert (answer["encoding"], answer["algorithm_version"]) == ("uint32be", "2")
    ours = [int.from_bytes(bytes.fromhex(answer["fingerprint_hex"])[i:i + 4], "big")
            for i in range(0, answer["bits"] // 8, 4)]
    reference = fpcalc(path)
    theirs = [int(v) & 0xFFFFFFFF for v in reference["fingerprint"]]
    assert abs(len(ours) - len(theirs)) <= 2, (len(ours), len(theirs))
    overlap = min(len(ours), len(theirs))
    differing = sum(bin(a ^ b).count("1") for a, b in zip(ours, theirs, strict=False))
    # measured: 0.5 % and 0.8 % of bits, 85 % and 79 % of sub-fingerprints identical
    # (resampling: rubato here, Chromaprint's own resampler in fpcalc)
    assert differing / (32 * overlap) < 0.015, f"{differing} of {32 * overlap} bits differ"
    assert sum(a == b for a, b in zip(ours, theirs, strict=False)) >= 0.7 * overlap
    assert answer["duration_s"] == pytest.approx(reference["duration"], abs=0.1)
    # the vendor's own matching agrees that fpcalc's fingerprint is of the same audio
    fpcalc_answer = {"encoding": "uint32be", "fingerprint_hex": b"".join(v.to_bytes(4, "big") for v in theirs).hex()}
    verdict = compare(served, "chromaprint", answer, fpcalc_answer)
    assert verdict["distance_kind"] == "bit-error-rate" and verdict["match"] is True, verdict
    assert verdict["offset"] == 0 and verdict["distance"] < 0.01


def test_chromaprint_decodes_every_declared_audio_type(served: Transport, manifest: VendorManifest,
                                                       catalogue: Catalogue) -> None:
    source = "librispeech-198-209-0000"
    files = {"audio/ogg": vector(catalogue, source), "audio/wav": vector(catalogue, f"{source}-wav"),
             "audio/mpeg": vector(catalogue, f"{source}-mp3"), "audio/flac": vector(catalogue, f"{source}-flac")}
    declared = manifest.capability("fingerprint.compute", "audio/wav")
    assert declared is not None and sorted(declared.media_types) == sorted(files)
    wav = compute(served, files["audio/wav"].read_bytes(), "audio/wav", "chromaprint")
    for media_type, path in files.items():
        answer = compute(served, path.read_bytes(), media_type, "chromaprint")
        assert answer["bits"] > 32 * 50, (media_type, answer["bits"])
        verdict = compare(served, "chromaprint", wav, answer)
        assert verdict["match"] is True, (media_type, verdict)
    # different audio: no match
    other = compute(served, vector(catalogue, "brahms-hungarian-dance-5-wav").read_bytes(), "audio/wav", "chromaprint")
    assert compare(served, "chromaprint", wav, other)["match"] is False


# -- the docker placement -------------------------------------------------------------


@pytest.mark.docker
def test_the_container_answers_the_same_fingerprints(served: Transport, manifest: VendorManifest,
                                                     catalogue: Catalogue, tmp_path: Path) -> None:
    proc = aiii(tmp_path / "home", "adapter", "check", "rust-recognition", "--placement", "docker", "--timeout", "30",
                timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout
    png = (KODAK / "kodim01.png").read_bytes()
    wav = vector(catalogue, "librispeech-198-209-0000-wav").read_bytes()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(tmp_path / "home"))
        container = make_transport(manifest, "docker")
        container.start()
        try:
            assert "(image " in str(container.implementation_version())
            for data, media_type, algorithm in ((png, "image/png", "pdq"), (wav, "audio/wav", "chromaprint")):
                inside = compute(container, data, media_type, algorithm)
                outside = compute(served, data, media_type, algorithm)
                assert inside["fingerprint_hex"] == outside["fingerprint_hex"], algorithm
        finally:
            container.close()


@pytest.mark.docker
def test_a_run_in_its_container_gives_the_outcomes_of_its_own_process(served: Transport, tmp_path: Path) -> None:
    """The same plan run with the Rust server where its manifest puts it (its own process)
    and with ``--placement docker`` (the server in the image its Dockerfile describes):
    not one cell's outcome, nor one measurement, may differ."""
    runs = {}
    for label, extra in (("process", ()), ("docker", ("--placement", "docker"))):
        done = aiii(tmp_path / f"home-{label}", "run", "--profile", str(TESTS / "profiles" / "rust-placements.toml"),
                    "--out", str(tmp_path / label), "--store", str(tmp_path / f"{label}.sqlite"), "-q", *extra,
                    timeout=1800)
        assert done.returncode == 0, done.stderr[-3000:]
        bundle = json.loads((tmp_path / label / "results.json").read_text())
        vendor = next(v for v in bundle["vendors"] if v["id"] == "rust-recognition")
        assert vendor["runnable"] and vendor["transport"] == label, vendor
        runs[label] = cells(tmp_path / f"{label}.sqlite")
    outcomes = [c["outcome"] for c in runs["process"].values()]
    assert len(outcomes) >= 8 and "error" not in outcomes, outcomes
    assert placement_differences(runs["process"], runs["docker"]) == {}
    for cid, cell in runs["process"].items():
        assert cell["measurements"] == runs["docker"][cid]["measurements"], cid
