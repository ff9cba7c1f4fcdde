"""Per-call overhead of each placement, side by side in one run.

    python benchmarks/placements.py [--calls 20] [--skip-docker]

One reference vendor (mutagen: a cheap, deterministic metadata.read) is started in
every placement: inproc, process (unix socket), docker (hardened container, unix socket
in a bind mount) and http (the kit's server over TLS on loopback). Each gets the same
calls on a ~100 KB and a ~5 MB asset; the table shows the median per call and the
ratio to inproc. Then the container start time (to healthy), and the time of N calls
with one warm container versus one container started per call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiii_kit import Asset  # noqa: E402

from runner.transports import Transport, make_transport  # noqa: E402
from runner.vendors import availability, load_manifest  # noqa: E402


def wav_of(size: int) -> Asset:
    """A WAV of about ``size`` bytes (a real 16-bit mono file, noise, fixed seed)."""
    import io

    import numpy as np
    import soundfile

    frames = size // 2
    samples = (np.random.default_rng(7).standard_normal(frames) * 3000).astype("int16")
    buf = io.BytesIO()
    soundfile.write(buf, samples, 44100, format="WAV", subtype="PCM_16")
    return Asset(buf.getvalue(), "audio/wav", "bench.wav")


def timed(fn: Callable[[], object], calls: int) -> float:
    """Median seconds per call."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def start(placement: str) -> Transport:
    manifest = load_manifest(ROOT / "vendors" / "mutagen" / "vendor.toml")
    transport = make_transport(manifest, placement)
    transport.start()
    return transport


def http_transport(tmp: Path) -> tuple[Transport, subprocess.Popen[bytes]]:
    """The mutagen adapter behind the kit's TLS server on loopback, reached by the http placement."""
    import socket

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import make_tls  # the tests' CA helpers

    ca_pem, _cert, _key = make_tls(tmp, "bench CA")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "aiii_kit", "--entry", "vendors/mutagen/adapter.py:MutagenAdapter", "--base", str(ROOT),
         "--vendor", "mutagen", "--listen", f"127.0.0.1:{port}", "--tls-cert", str(tmp / "cert.pem"),
         "--tls-key", str(tmp / "key.pem")],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    vendor = tmp / "vendors" / "mutagen"
    vendor.mkdir(parents=True)
    (vendor / "ca.pem").write_bytes(ca_pem.read_bytes())
    caps = (ROOT / "vendors" / "mutagen" / "vendor.toml").read_text().split("[[capabilities]]", 1)[1]
    (vendor / "vendor.toml").write_text(
        'id = "mutagen"\nname = "m"\norganisation = "o"\nplacement = "http"\n[http]\n'
        f'url = "https://localhost:{port}"\nca_file = "ca.pem"\nrate_per_s = 100000\n[version]\nadapter = true\n'
        "[[capabilities]]" + caps)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    transport = make_transport(load_manifest(vendor / "vendor.toml"), "http")
    transport.start()
    return transport, server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--skip-docker", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aiii-bench-") as tmp:
        os.environ["AIII_HOME"] = tmp
        assets = {"100 KB": wav_of(100_000), "5 MB": wav_of(5_000_000)}
        placements = ["inproc", "process", "http"]
        docker_ok = not args.skip_docker and availability(load_manifest(ROOT / "vendors" / "mutagen" / "vendor.toml"), "docker").runnable
        if docker_ok:
            placements.insert(2, "docker")
        results: dict[str, dict[str, float]] = {}
        starts: dict[str, float] = {}
        server = None
        for placement in placements:
            began = time.perf_counter()
            if placement == "http":
                transport, server = http_transport(Path(tmp))
            else:
                transport = start(placement)
            starts[placement] = time.perf_counter() - began
            try:
                results[placement] = {
                    label: timed(lambda a=asset, t=transport: t.call("metadata.read", a, {}, 120), args.calls)
                    for label, asset in assets.items()
                }
            finally:
                transport.close()
        if server is not None:
            server.terminate()
        print(f"per-call median over {args.calls} calls (mutagen metadata.read)")
        print(f"{'placement':<10} {'start s':>8} " + " ".join(f"{k + ' ms':>12} {'x inproc':>9}" for k in assets))
        for placement, row in results.items():
            cells = " ".join(f"{row[k] * 1000:>12.2f} {row[k] / results['inproc'][k]:>9.1f}" for k in assets)
            print(f"{placement:<10} {starts[placement]:>8.2f} {cells}")
        if docker_ok:
            n = 5
            warm = start("docker")
            began = time.perf_counter()
            for _ in range(n):
                warm.call("metadata.read", assets["100 KB"], {}, 120)
            warm_s = time.perf_counter() - began
            warm.close()
            began = time.perf_counter()
            for _ in range(n):
                once = start("docker")
                once.call("metadata.read", assets["100 KB"], {}, 120)
                once.close()
            cold_s = time.perf_counter() - began
            print(f"{n} calls, one warm container: {warm_s:.2f} s; one container started per call: {cold_s:.2f} s; "
                  f"ratio {cold_s / warm_s:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
