"""Content recognition: compute time per vendor and algorithm, and the Rust adapter's
protocol cost against the in-process Python vendors, side by side in one run (issue 16).

    python benchmarks/recognition_speed.py [--repeats 7]

1. ``fingerprint.compute`` on the same files (a Kodak photo as PNG and JPEG, a speech
   clip as WAV and FLAC) through every recognition vendor that runs here, each in its own
   placement (the Python vendors in the harness's process, fpcalc as a subprocess per call,
   rust-recognition as its own server on a unix socket): median milliseconds per call, and
   the ratio to the fastest implementation of the same algorithm on the same file.
2. What the protocol costs: a 16x16 PNG, whose PDQ is nearly free to compute, hashed by
   Meta's C++ pdqhash called in the harness's process, by the same adapter served by the
   kit's Python server in a process of its own (``--placement process``), and by the Rust
   server (axum) in its process; then bare ``/v1/health`` round trips to both servers.
   The difference between a served call and the in-process one is the protocol's cost.

Calls of each row are interleaved with the other rows' (round robin, the order rotating
every round), so a busy machine slows all rows alike.  Figures, never assertions.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from aiii_kit import Asset  # noqa: E402
from vendor_transports import start_vendors  # noqa: E402

from runner.transports import make_transport  # noqa: E402
from runner.transports.client import ProtocolClient  # noqa: E402
from runner.vendors import availability, load_manifest, rule_version  # noqa: E402

VENDORS = ["imagehash", "python-libphash", "pdqhash", "fpcalc", "rust-recognition"]
KODAK = ROOT / "test_vectors" / "images" / "kodak" / "kodim01.png"
SPEECH = "librispeech-198-209-0000"


def files() -> dict[str, Asset]:
    """The compute rows' inputs, made here (deterministically) from the catalogue's own."""
    import soundfile
    from PIL import Image

    from runner.paths import state_dir
    from runner.vectors import load_catalogue

    out: dict[str, Asset] = {}
    png = KODAK.read_bytes()
    out["photo PNG"] = Asset(png, "image/png")
    with Image.open(io.BytesIO(png)) as img:
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="JPEG", quality=90)
    out["photo JPEG"] = Asset(buf.getvalue(), "image/jpeg")
    catalogue = load_catalogue(ROOT / "test_vectors", state_dir() / "cache")
    wav_path = next(v.path for v in catalogue.vectors if v.id == f"{SPEECH}-wav")
    out["speech WAV"] = Asset(wav_path.read_bytes(), "audio/wav")
    samples, rate = soundfile.read(str(wav_path))
    buf = io.BytesIO()
    soundfile.write(buf, samples, rate, format="FLAC")
    out["speech FLAC"] = Asset(buf.getvalue(), "audio/flac")
    return out


def interleaved(rows: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds per call of each row, the rows' calls interleaved and rotated."""
    names = list(rows)
    for fn in rows.values():
        fn()  # warm-up: first-call costs (imports, caches) are not the steady state
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            rows[name]()
            times[name].append(time.perf_counter() - t0)
    return {n: statistics.median(t) for n, t in times.items()}


def compute_rows(started: dict[str, Any], inputs: dict[str, Asset], repeats: int) -> None:
    print("== 1. fingerprint.compute, median ms per call (ratio to the fastest of the algorithm on that file)")
    for label, asset in inputs.items():
        rows: dict[str, Callable[[], Any]] = {}
        for vid, (manifest, transport) in started.items():
            cap = manifest.capability("fingerprint.compute", asset.media_type)
            if cap is None:
                continue
            for algorithm in cap.options.get("algorithms", []):
                params = {"algorithm": algorithm}
                rows[f"{algorithm:<11} {vid}"] = (
                    lambda t=transport, p=params, a=asset: t.call("fingerprint.compute", a, p, 300))
        if not rows:
            continue
        medians = interleaved(rows, repeats)
        print(f"-- {label} ({len(asset.data) // 1024} KiB)")
        fastest: dict[str, float] = {}
        for name, median in medians.items():
            algorithm = name.split()[0]
            fastest[algorithm] = min(fastest.get(algorithm, median), median)
        for name in sorted(medians):
            algorithm = name.split()[0]
            print(f"   {name:<34} {medians[name] * 1000:9.1f} ms   x{medians[name] / fastest[algorithm]:5.2f}")


def protocol_rows(started: dict[str, Any], repeats: int) -> None:
    from PIL import Image

    print("\n== 2. the protocol's cost: PDQ of a 16x16 PNG, median ms per call")
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 140, 200)).save(buf, format="PNG")
    tiny = Asset(buf.getvalue(), "image/png")
    params = {"algorithm": "pdq"}
    if "pdqhash" not in started or "rust-recognition" not in started:
        print("   needs pdqhash and rust-recognition; left out")
        return
    manifest = load_manifest(ROOT / "vendors" / "pdqhash" / "vendor.toml")
    found = availability(manifest, "process")
    if not found.runnable:
        print(f"   pdqhash cannot be served here ({found.reason}); left out")
        return
    served_py = make_transport(manifest, "process")
    served_py.start()
    try:
        inproc, rust = started["pdqhash"][1], started["rust-recognition"][1]
        calls = {
            "pdqhash (C++), in the harness's process": lambda: inproc.call("fingerprint.compute", tiny, params, 60),
            "pdqhash (C++), kit's Python server, unix socket": lambda: served_py.call("fingerprint.compute", tiny,
                                                                                     params, 60),
            "rust-recognition, Rust server (axum), unix socket": lambda: rust.call("fingerprint.compute", tiny,
                                                                                  params, 60),
        }
        medians = interleaved(calls, repeats * 10)
        base = medians["pdqhash (C++), in the harness's process"]
        for name, median in medians.items():
            extra = "" if median is base else f"   protocol +{(median - base) * 1000:6.2f} ms"
            print(f"   {name:<50} {median * 1000:7.2f} ms{extra}")
        health = {
            "kit's Python server": ProtocolClient("pdqhash", served_py.endpoint),  # type: ignore[attr-defined]
            "Rust server (axum)": ProtocolClient("rust-recognition", rust.endpoint),
        }
        rounds = interleaved({f"/v1/health, {n}": (lambda c=c: c.health(10)) for n, c in health.items()},
                             repeats * 10)
        for name, median in rounds.items():
            print(f"   {name:<50} {median * 1000:7.2f} ms")
        py, rs = rounds["/v1/health, kit's Python server"], rounds["/v1/health, Rust server (axum)"]
        print(f"   a round trip to the Python server costs x{py / rs:.1f} one to the Rust server")
    finally:
        served_py.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="calls per row (x10 for the protocol rows)")
    args = parser.parse_args()
    started = start_vendors(VENDORS)
    try:
        for vid, (manifest, transport) in started.items():
            version = rule_version(manifest) or transport.implementation_version()
            print(f"{vid:<17} {transport.placement:<8} {version}")
        print()
        compute_rows(started, files(), args.repeats)
        protocol_rows(started, args.repeats)
    finally:
        for _m, transport in started.values():
            transport.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
