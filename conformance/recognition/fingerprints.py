"""Who fingerprints what, and what the harness makes of a fingerprint.

A *fingerprinter* is one vendor's implementation of one algorithm: a vendor declaring
``fingerprint.compute`` with ``options.algorithms = [...]`` gives one per algorithm; an
ISCC vendor (``identifier.generate``) gives ``iscc-content``, its Content-Code, through
the operation it already has.  Checks plan by these, never by vendor id: two
fingerprinters of one algorithm are two implementations to hold against each other.

The harness reads every fingerprint itself (bit strings, or Chromaprint's uint32
sequences) and measures distances with its own reference: Hamming distance for bit
strings, the aligned bit-error rate of the kit's reference for sequences
(:mod:`aiii_kit.recognition`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiii_kit import AdapterError
from aiii_kit import recognition as reference
from aiii_kit.protocol import ID_PREFIX, schemas

from conformance.base import PlanContext
from conformance.iscc_codes import decode_unit, generate_params, iscc_vendors
from runner.errors import PlanError
from runner.model import Step, Vector, vendor_step

COMPUTE = "fingerprint.compute"
GENERATE = "identifier.generate"
#: The ISCC Content-Code as an algorithm of this family.
ISCC = "iscc-content"
#: Every algorithm a profile may name: the protocol's enum, and the ISCC content code.
ALGORITHMS: tuple[str, ...] = (*schemas()[ID_PREFIX + "common"]["$defs"]["fingerprint_algorithm"]["enum"], ISCC)
#: Bits of the ISCC content codes the family compares.
ISCC_BITS = 64


@dataclass(frozen=True)
class Fingerprinter:
    """One vendor's implementation of one algorithm, and the media types it takes."""

    vendor: str
    algorithm: str
    media_types: tuple[str, ...]
    #: the distance the vendor's own match decision uses ("hamming", "bit-error-rate")
    distance: str

    @property
    def label(self) -> str:
        return f"{self.vendor} {self.algorithm}"

    def takes(self, media_type: str) -> bool:
        return media_type in self.media_types

    def step(self, source: Step | str, origin: Vector | str, params: Mapping[str, Any] | None = None) -> Step:
        """The step fingerprinting ``source`` (a vector id or a channel's output) of the
        vector ``origin``: the same step for every check, so each runs once."""
        if self.algorithm == ISCC:
            return vendor_step(self.vendor, GENERATE, source, generate_params(origin, ISCC_BITS, ["content"]))
        return vendor_step(self.vendor, COMPUTE, source, {"algorithm": self.algorithm, **(params or {})})


def _declared_distance(vendor: Any, algorithm: str) -> str:
    """The distance a vendor's match decision uses for an algorithm, as its
    ``fingerprint.compute`` or ``fingerprint.compare`` capability declares it."""
    for cap in vendor.capabilities:
        if (cap.operation in (COMPUTE, "fingerprint.compare") and "distance" in cap.options
                and algorithm in cap.options.get("algorithms", [algorithm])):
            declared = cap.options["distance"]
            if isinstance(declared, Mapping):  # one per algorithm
                declared = declared.get(algorithm)
            if declared:
                return str(declared)
    return "bit-error-rate" if algorithm == "chromaprint" else "hamming"


def kind_of(media_type: str) -> str:
    return media_type.split("/", 1)[0]


def kinds(algorithm: str) -> tuple[str, ...]:
    """The media kinds an algorithm fingerprints (a vendor declaring images and audio for
    ``pdq`` and ``chromaprint`` together gives PDQ its images and Chromaprint its audio)."""
    if algorithm == ISCC:
        return ("image", "audio")
    return ("audio",) if algorithm == "chromaprint" else ("image",)


def fingerprinters(ctx: PlanContext) -> dict[str, list[Fingerprinter]]:
    """Algorithm -> its fingerprinters among the selected vendors (vendor id order),
    limited to the profile's ``algorithms`` when it names them."""
    out: dict[str, list[Fingerprinter]] = {}
    for v in ctx.with_op(COMPUTE):
        # a vendor may declare one capability per media kind, each with its algorithms
        media: dict[str, list[str]] = {}
        distance: dict[str, str] = {}
        for cap in (c for c in v.capabilities if c.operation == COMPUTE):
            for algorithm in map(str, cap.options.get("algorithms", [])):
                media.setdefault(algorithm, []).extend(mt for mt in cap.media_types if kind_of(mt) in kinds(algorithm))
                distance.setdefault(algorithm, _declared_distance(v, algorithm))
        for algorithm, types in media.items():
            out.setdefault(algorithm, []).append(Fingerprinter(v.id, algorithm, tuple(dict.fromkeys(types)),
                                                               distance[algorithm]))
    for v in iscc_vendors(ctx):
        iscc = tuple(mt for cap in v.capabilities if cap.operation == GENERATE for mt in cap.media_types
                     if kind_of(mt) in kinds(ISCC))
        out.setdefault(ISCC, []).append(Fingerprinter(v.id, ISCC, iscc, "hamming"))
    wanted = ctx.config.params.get("algorithms")
    if wanted is not None:
        unknown = sorted(set(map(str, wanted)) - set(ALGORITHMS))
        if unknown:
            raise PlanError(f"params.algorithms: unknown {unknown}; known: {', '.join(ALGORITHMS)}")
        out = {a: fs for a, fs in out.items() if a in wanted}
    return dict(sorted(out.items()))


def pairs(found: dict[str, list[Fingerprinter]]) -> list[tuple[str, Fingerprinter, Fingerprinter]]:
    """(algorithm, a, b) for every pair of implementations of one algorithm."""
    return [(alg, a, b) for alg, fs in found.items() for a, b in itertools.combinations(fs, 2)]


def channel_names(ctx: PlanContext, default: Iterable[str]) -> list[str]:
    """The profile's ``params.channels`` (else ``default``); a name the simulator does not
    know stops the plan, naming it."""
    names = list(map(str, ctx.config.params.get("channels", default)))
    unknown = [n for n in names if n not in ctx.channels]
    if unknown:
        raise PlanError(f"params.channels: unknown channels {unknown}; known: {sorted(ctx.channels)}")
    return names


def refused(fps: Iterable[Fingerprinter], vectors: Iterable[Vector]) -> list[str]:
    """The media types among ``vectors`` that one of ``fps`` does not fingerprint."""
    fps = list(fps)
    return sorted({v.media_type for v in vectors for f in fps if not f.takes(v.media_type)})


def compute_params(ctx: PlanContext) -> dict[str, Any]:
    """Extra params of every compute step (the profile's ``hash_size``, if any)."""
    size = ctx.config.params.get("hash_size")
    return {} if size is None else {"hash_size": int(size)}


@dataclass(frozen=True)
class Fingerprint:
    """A fingerprint as the harness reads it: ``bits`` (one bit string) or ``uint32be``
    (a sequence of 32-bit sub-fingerprints), its bytes, and the implementation's own
    quality on its own scale."""

    encoding: str
    data: bytes
    quality: float | None = None
    scale: tuple[float, float] | None = None
    #: bits that count (a 42-bit colour hash travels in 6 bytes); None: every bit
    size: int | None = None

    @property
    def bits(self) -> int:
        return self.size if self.size is not None else len(self.data) * 8

    def brief(self) -> str:
        """The hex, cut to 64 characters for long sequences."""
        text = self.data.hex()
        return text if len(text) <= 64 else f"{text[:64]}... ({len(self.data)} bytes)"


class NoFingerprint(ValueError):
    """The answer holds no fingerprint the harness can read; the message says why."""


def read(fp: Fingerprinter, report: Mapping[str, Any]) -> Fingerprint:
    """The fingerprint in a compute (or ISCC generate) answer; :class:`NoFingerprint` if none."""
    if fp.algorithm == ISCC:
        code = (report.get("codes") or {}).get("content")
        if code is None:
            raise NoFingerprint((report.get("not_made") or {}).get("content") or "no content code")
        try:
            return Fingerprint("bits", decode_unit(code)[2])
        except ValueError as exc:
            raise NoFingerprint(f"content code {code} does not decode: {exc}") from None
    if report.get("algorithm") != fp.algorithm:
        raise NoFingerprint(f"asked for {fp.algorithm}, answered {report.get('algorithm')}")
    data = bytes.fromhex(str(report.get("fingerprint_hex", "")))
    encoding = str(report.get("encoding"))
    if not data:
        raise NoFingerprint("an empty fingerprint")
    raw = report.get("quality_scale")
    scale = (float(raw["min"]), float(raw["max"])) if isinstance(raw, Mapping) else None
    quality = report.get("quality")
    size = report.get("bits") if encoding == "bits" and isinstance(report.get("bits"), int) else None
    return Fingerprint(encoding, data, float(quality) if isinstance(quality, (int, float)) else None, scale, size)


@dataclass(frozen=True)
class Distance:
    """How far apart two fingerprints are: ``value`` in ``kind`` (Hamming bits for bit
    strings, bit-error rate for sequences), and as a share of the bits compared."""

    kind: str
    value: float
    compared_bits: int
    offset: int | None = None

    @property
    def share(self) -> float:
        """The fraction of compared bits that differ (0: identical)."""
        if self.kind == "hamming":
            return self.value / self.compared_bits if self.compared_bits else 1.0
        return self.value

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "value": round(self.value, 6), "compared_bits": self.compared_bits}
        if self.offset is not None:
            out["offset"] = self.offset
        return out


def distance(a: Fingerprint, b: Fingerprint) -> Distance:
    """The harness's reference distance (the kit's :mod:`aiii_kit.recognition`, which
    adapters may use too); ValueError when the two are not comparable."""
    if a.encoding != b.encoding:
        raise ValueError(f"encodings differ: {a.encoding} and {b.encoding}")
    try:
        if a.encoding == "bits":
            if a.bits != b.bits:
                raise ValueError(f"lengths differ: {a.bits} and {b.bits} bits")
            return Distance("hamming", float(reference.hamming_distance(a.data.hex(), b.data.hex())), a.bits)
        aligned = reference.aligned_bit_error_rate(reference.hex_to_uint32(a.data.hex()),
                                                   reference.hex_to_uint32(b.data.hex()))
    except AdapterError as exc:
        raise ValueError(str(exc)) from None
    return Distance("bit-error-rate", aligned.bit_error_rate, 32 * aligned.overlap, aligned.offset)


def similarity(d: Distance) -> float:
    """A statistic where higher means more alike (1 - the share of differing bits), so
    :mod:`conformance.statistics` can calibrate and draw it like a detection score."""
    return round(1.0 - d.share, 9)


def within(d: Distance, threshold: float) -> bool:
    """Whether a distance is a match at ``threshold`` (in the distance's own unit)."""
    return d.value <= threshold


def unit(fp: Fingerprinter | str) -> str:
    """The unit the profile's thresholds and tolerances for an algorithm are in."""
    algorithm = fp.algorithm if isinstance(fp, Fingerprinter) else fp
    return "bit-error rate" if algorithm == "chromaprint" else "bits"


def per_algorithm(ctx: PlanContext, name: str, defaults: Mapping[str, float]) -> dict[str, float]:
    """A profile's table by algorithm (``tolerance``, ``threshold``) over the defaults."""
    raw = ctx.config.params.get(name, {})
    if not isinstance(raw, Mapping):
        raise PlanError(f"params.{name}: expected a table of algorithm = number, not {raw!r}")
    out = dict(defaults)
    for algorithm, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise PlanError(f"params.{name}.{algorithm}: {value!r} is not a non-negative number")
        out[str(algorithm)] = float(value)
    return out
