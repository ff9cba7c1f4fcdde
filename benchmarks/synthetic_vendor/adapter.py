"""A synthetic vendor: every family's operations, cheaply, through the real protocol.

Served like any ``process`` vendor (``python -m aiii_kit``); copied into each generated
vendor folder by :func:`benchmarks.synthetic_vendor.make_vendors`.  What it writes travels
in a *sidecar*: a JSON trailer after the asset's last byte (JPEG, PNG, WebP, TIFF, WAV,
MP3 and FLAC decoders ignore it, so pixels and samples are untouched), one section per
family, read back by every synthetic vendor: a synthetic matrix is interoperable.  Each
call costs a few microseconds of work besides the protocol, so a run of these vendors
measures the harness (planning, scheduling, transforms, checks, stores), not the vendors.
Its answers are honest enough for the checks to judge (metadata round-trips, a watermark
that no lossy channel keeps, a manifest bound to the asset's bytes by sha256, ISCC-shaped
codes from hashes, opt-out evaluations of what the test site serves); right or wrong,
each cell gets a verdict.  Imports the adapter kit and the standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from typing import Any

from aiii_kit import Adapter, Asset
from aiii_kit.c2pa import empty_provenance_report
from aiii_kit.optout import (
    header_values,
    material_body,
    optout_decision,
    optout_material,
    robots_fetch_decision,
)

MAGIC = b"\nAIII-SYNTHETIC-SIDECAR:"
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def split(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """The asset's own bytes and its sidecar (empty when there is none or it is damaged)."""
    at = data.rfind(MAGIC)
    if at < 0:
        return data, {}
    try:
        sidecar = json.loads(base64.b64decode(data[at + len(MAGIC):].strip(), validate=True))
    except ValueError:
        return data, {}
    return data[:at], sidecar if isinstance(sidecar, dict) else {}


def join(body: bytes, sidecar: dict[str, Any]) -> bytes:
    return body + MAGIC + base64.b64encode(json.dumps(sidecar, sort_keys=True).encode()) + b"\n"


def _code(*parts: bytes) -> str:
    """An ISCC-shaped code (``ISCC:`` and base32) from a hash of ``parts``."""
    digest = hashlib.sha256(b"\0".join(parts)).digest()[:10]
    bits = "".join(f"{b:08b}" for b in digest)
    return "ISCC:" + "".join(_B32[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))


class Synthetic(Adapter):
    """One synthetic vendor; ``config``: ``payload_bits`` (0: a zero-bit watermark) and
    ``keyed`` (whether detection needs the embedding key)."""

    version_hint = "1.0-synthetic"

    # -- metadata --------------------------------------------------------------------

    def metadata_write(self, asset: Asset, params: dict[str, Any]) -> Asset:
        body, sidecar = split(asset.data)
        sidecar["metadata"] = {**sidecar.get("metadata", {}), **params["fields"]}
        return Asset(join(body, sidecar), asset.media_type, asset.name)

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return {"fields": dict(split(asset.data)[1].get("metadata", {}))}

    # -- watermark -------------------------------------------------------------------

    def _bits(self) -> int:
        return int(self.config.get("payload_bits", 0))

    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        body, sidecar = split(asset.data)
        sidecar["watermark"] = {"key": params["key"], "payload": params.get("payload")}
        return Asset(join(body, sidecar), asset.media_type, asset.name)

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        mark = split(asset.data)[1].get("watermark")
        found = isinstance(mark, dict) and (not self.config.get("keyed") or mark.get("key") == params["key"])
        bits = int(params.get("payload_bits") or self._bits())
        if not bits:  # zero-bit: a score, the harness calibrates the threshold on clean content
            noise = random.Random(hashlib.sha256(asset.data + params["key"].encode()).digest()).random()
            return {"present": found, "score": 10.0 + noise if found else noise, "bits": None}
        if found and mark and mark.get("payload"):
            return {"present": True, "score": None, "bits": str(mark["payload"])[:bits]}
        seed = hashlib.sha256(asset.data + params["key"].encode()).digest()  # unmarked: coin flips
        return {"present": None, "score": None, "bits": "".join(random.Random(seed).choice("01") for _ in range(bits))}

    # -- provenance ------------------------------------------------------------------

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        body, sidecar = split(asset.data)
        sidecar["manifest"] = {
            "content_sha256": hashlib.sha256(body).hexdigest(), "claim_generator": params["claim_generator"],
            "title": params["title"], "actions": params["actions"], "training_mining": params.get("training_mining") or {},
            "soft_bindings": [{"alg": b["alg"], "value": "bytes:" + b["value_hex"]} for b in params.get("soft_bindings", [])],
            "signer": hashlib.sha256(params["signer"]["cert_chain_pem"].encode()).hexdigest(),
        }
        return Asset(join(body, sidecar), asset.media_type, asset.name)

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        body, sidecar = split(asset.data)
        manifest = sidecar.get("manifest")
        report = empty_provenance_report()
        if not isinstance(manifest, dict):
            return report
        intact = manifest.get("content_sha256") == hashlib.sha256(body).hexdigest()
        state = ("Trusted" if params.get("trust_anchors_pem") else "Valid") if intact else "Invalid"
        report.update(manifest_present=True, validation_state=state, active_manifest={
            "title": manifest.get("title"), "claim_generator": manifest.get("claim_generator"),
            "actions": manifest.get("actions", []), "training_mining": manifest.get("training_mining", {}),
            "soft_bindings": manifest.get("soft_bindings", []), "ingredients_count": 0})
        report["codes"]["success" if intact else "failure"].append(
            "assertion.dataHash.match" if intact else "assertion.dataHash.mismatch")
        return report

    # -- identifiers -----------------------------------------------------------------

    def identifier_generate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if "function" in params:  # no ISO 24138 function here: an answer the conformance data rejects
            return {"scheme": "iscc", "outputs": None, "notes": ["synthetic vendor: no ISO 24138 functions"]}
        body = split(asset.data)[0]
        units = params.get("units") or ["meta", "content", "data", "instance", "iscc_code"]
        codes = {u: _code(u.encode(), body if u != "meta" else json.dumps(params.get("meta")).encode()) for u in units}
        kind = asset.media_type.split("/")[0]
        return {"scheme": "iscc", "codes": codes, "content_kind": kind if kind in ("image", "audio", "text") else None}

    def identifier_validate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        value = params["value"].strip().upper().replace("-", "").replace(" ", "")
        valid = bool(value) and value.isalnum() and len(value) >= 8
        return {"scheme": params["scheme"], "valid": valid, "normalised": value if valid else None,
                "reason": None if valid else "not 8 or more letters and digits"}

    def identifier_compare(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        same = params["a"] == params["b"]
        return {"scheme": "iscc", "distances": {}, "instance_match": same, "same": same}

    # -- recognition -----------------------------------------------------------------

    def fingerprint_compute(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """A hash of the asset's own bytes in the algorithm's shape (Chromaprint: 32-bit
        sub-fingerprints, one per 4 KB; the rest: 64 bits): exact copies match, nothing else."""
        body = split(asset.data)[0]
        if params["algorithm"] == "chromaprint":
            words = [hashlib.sha256(body[i:i + 4096]).digest()[:4] for i in range(0, max(len(body), 1), 4096)]
            return {"algorithm": "chromaprint", "encoding": "uint32be", "fingerprint_hex": b"".join(words).hex(),
                    "bits": 32 * len(words)}
        return {"algorithm": params["algorithm"], "encoding": "bits", "bits": 64,
                "fingerprint_hex": hashlib.sha256(params["algorithm"].encode() + body).hexdigest()[:16]}

    def fingerprint_compare(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        a, b = (bytes.fromhex(params[k]["fingerprint_hex"]) for k in ("a", "b"))
        n = min(len(a), len(b))
        differ = sum(bin(x ^ y).count("1") for x, y in zip(a[:n], b[:n], strict=True))
        return {"algorithm": params["algorithm"], "distance": differ / (8 * n) if n else 1.0,
                "distance_kind": "bit-error-rate", "match": n > 0 and differ == 0}

    # -- opt-out ---------------------------------------------------------------------

    def optout_declare(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        channel, purposes = params["channel"], params["intent"]["purposes"]
        resource = params.get("resource", "/synthetic/work.html")
        denied = any(v == "denied" for v in purposes.values())
        page = {"path": resource, "media_type": "text/html", "body_base64": base64.b64encode(b"<p>work</p>").decode()}
        if channel == "robots":
            agents = [a for p, v in purposes.items() if v == "denied" for a in params.get("agents", {}).get(p, [])[:1]]
            text = "".join(f"User-agent: {a}\nDisallow: /\n\n" for a in agents) + "User-agent: *\nAllow: /\n"
            return {"channel": channel, "resource": resource, "files": [
                page, {"path": "/robots.txt", "media_type": "text/plain", "body_base64": base64.b64encode(text.encode()).decode()}]}
        elif channel == "tdmrep-file":
            rules = json.dumps([{"location": "/*", "tdm-reservation": 1 if denied else 0}]).encode()
            return {"channel": channel, "resource": resource, "files": [
                page, {"path": "/.well-known/tdmrep.json", "media_type": "application/json",
                       "body_base64": base64.b64encode(rules).decode()}]}
        # every other channel: the TDMRep header on the page (right for tdmrep-header only)
        page["headers"] = [["tdm-reservation", "1" if denied else "0"]]
        return {"channel": channel, "resource": resource, "files": [page]}

    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        material, _body = optout_material(asset, params)  # three fetches of the test site, as real crawlers make
        robots = material.get("robots", {})
        said = robots_fetch_decision(robots)
        if said is None and f"user-agent: {params['agent'].lower()}\ndisallow: /\n" in material_body(robots).decode(
                errors="replace").lower():
            said = "denied"
        try:
            rules = json.loads(material_body(material.get("tdmrep", {})) or b"[]")
        except ValueError:
            rules = []
        header = header_values(material.get("resource", {}), "tdm-reservation")
        reserved = any(isinstance(r, dict) and r.get("tdm-reservation") == 1 for r in rules) or header[:1] == ["1"]
        decisions = {}
        for purpose in params["purposes"]:
            if said == "denied":
                decisions[purpose] = optout_decision("denied", "robots", "/robots.txt", "RFC 9309")
            elif reserved and purpose != "search":
                decisions[purpose] = optout_decision("denied", "tdmrep", "tdm-reservation", "TDMRep")
            else:
                decisions[purpose] = optout_decision("unknown")
        return {"decisions": decisions}
