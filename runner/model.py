"""The domain model: vendors, capabilities, vectors, profiles, checks' cells, steps and outcomes.

Everything else in the harness may import this module; it imports nothing of the
harness (a vector's bytes are read through runner.vector_files, and typed contexts
decoded by runner.codec, each imported when called).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar


class Outcome(StrEnum):
    """What a cell ended as; see ARCHITECTURE.md."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    UNSUPPORTED = "unsupported"
    BLOCKED = "blocked"
    XFAIL = "xfail"
    XPASS = "xpass"
    #: A statistical claim the cell's trials are too few to support or refute
    #: (shown as "insufficient evidence"; never counted as a failure).
    INCONCLUSIVE = "inconclusive"


class ErrorKind(StrEnum):
    """Why a step gave no answer, which decides the outcome of the cells that needed it."""

    ERROR = "error"  # crash, timeout, protocol violation, a failed harness transform
    CLEAN = "clean"  # the adapter refused the input (AdapterError): an interop finding
    UNSUPPORTED = "unsupported"  # the adapter or transform cannot do this at all (Unsupported)
    UPSTREAM = "upstream"  # a step before it failed, or the input vector cannot be decoded
    ABSENT = "absent"  # the vendor is served from a pack that lacks this step (runner/packs.py)


class Level(StrEnum):
    """Requirement level of a check, from the standard it tests."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @property
    def rank(self) -> int:
        return {"MUST": 0, "SHOULD": 1, "MAY": 2}[self.value]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the form hashed into cache keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def params_hash(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(params).encode()).hexdigest()


@dataclass(frozen=True)
class Capability:
    operation: str
    media_types: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Expectation:
    """A known issue a vendor declares: matching cells become xfail/xpass until expiry."""

    check: str  # glob over cell ids
    reason: str
    link: str
    expires: date

    def matches(self, cell_id: str) -> bool:
        return fnmatch.fnmatchcase(cell_id, self.check)

    def as_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "reason": self.reason,
            "link": self.link,
            "expires": self.expires.isoformat(),
        }


#: Folders of a vendor that are not its adapter's code (see VendorManifest.code_files);
#: ``target``: what a developer's own ``cargo build`` leaves in a Cargo package's folder.
NOT_CODE = frozenset({"tests", "keys", "target"})


@dataclass(frozen=True)
class VendorManifest:
    """A vendor's `vendor.toml`, validated."""

    id: str
    name: str
    organisation: str
    placement: str
    folder: Path
    version_rule: Mapping[str, Any]
    capabilities: tuple[Capability, ...]
    expectations: tuple[Expectation, ...] = ()
    role: str = "reference"
    default: bool = True
    description: str = ""
    homepage: str | None = None
    adapter_entry: str | None = None
    requires: tuple[str, ...] = ()
    #: calls at once, per adapter instance (one in-process adapter, or one server process)
    max_concurrency: int = 1
    timeout_s: float | None = None
    #: ``[adapter] processes``: serve the adapter from this many local processes (an int, or
    #: ``"cores"``: one per core this machine lets the harness use); None: not declared.
    #: An ``inproc`` vendor that declares it runs in the ``process`` placement (runner/transports/pool.py).
    processes: int | str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    #: placement tables of the manifest: ``[process]``, ``[docker]``, ``[http]``
    process: Mapping[str, Any] = field(default_factory=dict)
    docker: Mapping[str, Any] = field(default_factory=dict)
    http: Mapping[str, Any] = field(default_factory=dict)
    #: ``[limits]``: overrides of the gate's bounds on what this vendor may say
    limits: Mapping[str, Any] = field(default_factory=dict)

    def code_files(self) -> list[Path]:
        """The files of the vendor's folder that make up the adapter: everything but caches,
        the vendor's own tests (``tests/``) and its public keys (``keys/``), so editing a test
        or adding a key keys no new cache entry and builds no new image."""
        return sorted(p for p in self.folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                      and p.relative_to(self.folder).parts[0] not in NOT_CODE and p.suffix not in (".pyc", ".pyo"))

    def capability(self, operation: str, media_type: str | None = None) -> Capability | None:
        """The declared capability for an operation (and media type), if any."""
        for cap in self.capabilities:
            if cap.operation == operation and (media_type is None or media_type in cap.media_types):
                return cap
        return None

    def operations(self) -> set[str]:
        return {cap.operation for cap in self.capabilities}


@dataclass(frozen=True)
class VectorSelector:
    """Which vectors a check runs on."""

    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    media_types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # globs
    limit_per_media_type: int | None = None


@dataclass(frozen=True)
class CheckConfig:
    """One check as a profile configures it."""

    id: str
    level: Level
    vectors: VectorSelector
    vendors: tuple[str, ...] = ("*",)  # globs over vendor ids
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """How much the harness decodes from one input vector before it calls the vector
    itself the problem (``[limits]`` of a profile; runner/limits.py applies them)."""

    #: Pixels of one image (one frame): 64 megapixels.
    max_pixels: int = 64_000_000
    #: Samples of one clip, frames x channels: 30 minutes of 48 kHz stereo.
    max_samples: int = 30 * 60 * 48_000 * 2
    #: Bytes of one vector file on disk (its apparent size, so sparse files count in full).
    max_file_bytes: int = 256 * 2**20


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    path: Path
    checks: tuple[CheckConfig, ...]
    vendors: tuple[str, ...] = ("*",)
    #: the level at or above which a failing cell fails the run (``fail_on``); None: no gate
    fail_on: Level | None = None
    #: ``[channels.<name>]`` tables as declared (checked against the transforms by the planner)
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Vector:
    """One media file of the catalogue, a source or a derived one."""

    id: str
    path: Path
    media_type: str
    sha256: str
    licence: str
    tags: tuple[str, ...] = ()
    #: Expected results per check, consumer and consumer version (catalogue dicts).
    expectations: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    #: The id of the vector this one was derived from.
    source: str | None = None
    #: How it was derived, e.g. ``"pillow jpeg q90 4:2:0 baseline"``.
    derivation: str | None = None

    @property
    def derived(self) -> bool:
        return self.source is not None

    def read_bytes(self) -> bytes:
        from runner.vector_files import open_regular  # the catalogue owns file access

        with open_regular(self.path) as fh:
            return fh.read()

    def expectations_for(self, check: str, consumer: str, version: str | None) -> list[dict[str, Any]]:
        """Expectations of ``check`` for this consumer whose version pattern matches."""
        return [
            exp
            for exp in self.expectations
            if exp["check"] == check
            and exp["consumer"] == consumer
            and version is not None
            and fnmatch.fnmatchcase(version, exp["versions"])
        ]


#: The source of a step that takes no asset (its whole input is in its params).
NO_INPUT = "-"


class StepKind(StrEnum):
    """What runs a step: a vendor's adapter or one of the harness's transforms.  A
    ``StrEnum``, so JSON and f-strings give the plain value ("vendor", "transform")."""

    VENDOR = "vendor"
    TRANSFORM = "transform"


@dataclass(frozen=True, slots=True)  # slots: 40 bytes less each of a big plan's million
class Step:
    """One unit of work in a cell: a vendor operation or a harness transform.

    ``source`` is the vector id the chain starts from, or the step whose output this
    step consumes.  Steps are compared structurally, so two cells that need the same
    producer call share it.
    """

    kind: StepKind
    operation: str
    source: Step | str
    vendor: str | None = None
    params_json: str = "{}"

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json)  # type: ignore[no-any-return]

    @property
    def label(self) -> str:
        who = self.vendor if self.kind == StepKind.VENDOR else "harness"
        return f"{who}:{self.operation}"


#: While a plan is made (:func:`sharing_json`): every params and context JSON made so far,
#: each equal one kept once.
_SHARED_JSON: ContextVar[dict[str, str] | None] = ContextVar("shared_json", default=None)


@contextmanager
def sharing_json() -> Iterator[None]:
    """Within: equal params JSON (:func:`vendor_step`, :func:`transform_step`) and context
    JSON (:func:`planned`) are one string, so a plan of a million cells whose steps carry
    the same credentials or values holds them once (the planner plans within it)."""
    token = _SHARED_JSON.set({})
    try:
        yield
    finally:
        _SHARED_JSON.reset(token)


def _shared(text: str) -> str:
    table = _SHARED_JSON.get()
    return text if table is None else table.setdefault(text, text)


def _params_json(params: Mapping[str, Any] | None) -> str:
    # no params (most consumer steps) share one string rather than a new "{}" each
    return _shared(canonical_json(dict(params))) if params else "{}"


def vendor_step(vendor: str, operation: str, source: Step | str, params: Mapping[str, Any] | None = None) -> Step:
    return Step(StepKind.VENDOR, operation, source, vendor, _params_json(params))


def transform_step(name: str, source: Step | str, params: Mapping[str, Any] | None = None) -> Step:
    return Step(StepKind.TRANSFORM, name, source, None, _params_json(params))


C = TypeVar("C", bound="CellContext")


@dataclass(frozen=True)
class CellContext:
    """Base of the typed data a check hands from plan to judge (expected values, ...):
    a frozen dataclass carried in the cell as canonical JSON.  The one codec:
    :meth:`to_json` (what ``planned(cell, context=...)`` stores) and
    :meth:`Cell.context_as`."""

    def to_json(self) -> str:
        return canonical_json(asdict(self))

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
        """``data`` (parsed :meth:`to_json`) as this class, nested values rebuilt from the
        field types: a dataclass field from its dict, a ``tuple[...]`` field from its JSON
        list (element by element), a mapping's values by its value type, an optional one
        from either or None.  Any other value stays as parsed (lists, numbers, strings)."""
        from runner.codec import decoded  # the codec's typing machinery, imported when used

        return decoded(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True, kw_only=True, slots=True)  # slots: 48 bytes less each of a million cells
class Cell:
    """check x producer x vector x consumer (x variant): the unit of a verdict."""

    check: str
    level: Level
    vector: str
    producer: str | None
    consumer: str | None
    variant: str | None = None
    channel: str | None = None
    #: role name -> step; the judge receives each role's answer.
    steps: Mapping[str, Step] = field(default_factory=dict)
    #: Outcome fixed at planning time (an undeclared capability gives unsupported).
    preset: tuple[Outcome, str] | None = None
    #: Data the judge needs that is not an adapter answer (expected values, ...).
    context_json: str = "{}"

    @property
    def id(self) -> str:
        return f"{self.check}/{self.vector}/{self.producer or '-'}/{self.consumer or '-'}/{self.variant or '-'}"

    def context_as(self, kind: type[C]) -> C:
        """The cell's context as the check's typed :class:`CellContext`."""
        return kind.from_json(self.context_json)


def planned(cell: Cell, missing: str | None = None, *, context: CellContext | None = None,
            **changes: Any) -> Cell:
    """What a plan loop yields for ``cell``: its ``unsupported`` twin (preset with the
    reason, no steps: nothing runs) when ``missing`` says what a vendor lacks; else the
    cell with ``changes`` (steps, ...) and ``context`` (stored as canonical JSON)."""
    if missing is not None:
        return replace(cell, preset=(Outcome.UNSUPPORTED, missing), steps={})
    if context is not None:
        changes["context_json"] = _shared(context.to_json())
    return replace(cell, **changes) if changes else cell


def with_context(cell: Cell, context: CellContext, **changes: Any) -> Cell:
    """What ``expand`` returns: ``cell`` with ``changes`` (steps, ...) and the evidence it
    gathered as its new typed ``context`` (stored as canonical JSON)."""
    return replace(cell, context_json=context.to_json(), **changes)


@dataclass
class StepResult:
    """What one step gave: an asset (producers, transforms) or a report (consumers)."""

    ok: bool
    asset_sha256: str | None = None
    media_type: str | None = None
    report: dict[str, Any] | None = None
    error: str | None = None
    #: why it failed (None when ok)
    error_kind: ErrorKind | None = None
    duration_s: float = 0.0
    cached: bool = False
    #: what the gate repaired in the answer (invalid Unicode replaced), for the cell's reason
    notes: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    outcome: Outcome
    reason: str
    measurements: dict[str, Any] = field(default_factory=dict)


@dataclass
class CellResult:
    cell: Cell
    outcome: Outcome
    reason: str
    measurements: dict[str, Any]
    artifacts: dict[str, dict[str, Any]]
    expectation: dict[str, str] | None
    duration_s: float
    finished: str
    #: role -> who computed the step, where, and the key that signed it (runner/executor.py)
    origin: dict[str, dict[str, Any]] | None = None
    #: times the cell was run to reach its outcome (``--retries`` runs an ``error`` cell again)
    attempts: int = 1
    #: every attempt's outcome, reason and duration, in order (only when there were several)
    attempt_log: list[dict[str, Any]] = field(default_factory=list)
