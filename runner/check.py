"""What a check is, and the suite of checks and transforms a run is handed.

A check plans cells over vendors and vectors and judges their answers; it sees
adapters' answers only, never where an adapter ran.  The checks themselves live in
``conformance/`` (one package per family) and reach the run through :class:`Suite`,
which the CLI builds by discovery: nothing in ``runner/`` imports a family.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiii_kit import Asset, Unsupported

from runner.model import Cell, CheckConfig, Step, StepResult, Vector, VendorManifest, Verdict

#: A harness transform: an asset and the step's params in, an asset out.  One that
#: cannot handle its input raises :class:`TransformUnsupported`.
Transform = Callable[[Asset, dict[str, Any]], Asset]


class TransformUnsupported(Unsupported):
    """A harness transform cannot handle this input (a format out of its reach): the
    cells that need its output are ``unsupported``, not errors."""


@dataclass
class Fixtures:
    """Run-wide material the checks use: the test PKI and the attack strings."""

    trust_anchor_pem: str
    credentials: Callable[[str], dict[str, str]]  # vendor id -> signer params
    attack_strings: dict[str, list[str]] = field(default_factory=dict)
    #: vendors whose placement cannot reach the harness's loopback services (a container
    #: without a network, a remote endpoint): a check hands them inline what they would
    #: have fetched, so their verdicts do not depend on where they run
    offline: frozenset[str] = frozenset()


@dataclass
class PlanContext:
    config: CheckConfig
    vectors: list[Vector]
    vendors: dict[str, VendorManifest]
    fixtures: Fixtures
    #: distribution channels by name (conformance.channels.NamedChannel): the built-in
    #: ones and the profile's own
    channels: Mapping[str, Any] = field(default_factory=dict)
    #: Registers a corpus vector (``corpus:<name>``) standing for several vectors: the
    #: vector of cells that judge a statistic over them (see Catalogue.corpus).
    corpus: Callable[[str, list[Vector]], Vector] | None = None

    def with_op(self, operation: str) -> list[VendorManifest]:
        """Selected vendors that declare an operation, in id order."""
        return [v for _, v in sorted(self.vendors.items()) if v.capability(operation)]


@dataclass
class Answers:
    """The step results of one cell, by role, and a way to read their bytes."""

    vector: Vector
    results: dict[str, StepResult]
    load: Callable[[str], bytes]
    #: vendor id -> implementation version, for expectations recorded per version
    versions: dict[str, str] = field(default_factory=dict)

    def report(self, role: str) -> dict[str, Any]:
        report = self.results[role].report
        assert report is not None, f"role {role} has no report"
        return report

    def asset(self, role: str) -> Asset:
        result = self.results[role]
        assert result.asset_sha256 and result.media_type
        return Asset(self.load(result.asset_sha256), result.media_type)

    def source(self) -> Asset:
        return Asset(self.vector.path.read_bytes(), self.vector.media_type)


class Check(ABC):
    id: ClassVar[str]
    title: ClassVar[str]
    family: ClassVar[str]
    description: ClassVar[str]
    #: When true, the judge also sees a consumer's clean AdapterError (hostile inputs).
    judges_clean_errors: ClassVar[bool] = False
    #: When true, the cell's roles are independent answers on the same input (no chain):
    #: with ``judges_clean_errors``, a clean refusal of any role (not only the last) goes
    #: to the judge as that role's answer.
    independent_roles: ClassVar[bool] = False
    #: The catalogue's own data the check reads (conformance data, curated sites), if any:
    #: a run on a user's folder (``aiii run --vectors DIR``) skips the check, saying so once.
    catalogue_data: ClassVar[str | None] = None

    def cell(self, ctx: PlanContext, *, vector: str, producer: str | None = None, consumer: str | None = None,
             variant: str | None = None, **fields: Any) -> Cell:
        """A cell of this check at the profile's level (``fields``: channel, steps, ...);
        :func:`runner.model.planned` turns it into what a plan loop yields."""
        return Cell(check=self.id, level=ctx.config.level, vector=vector, producer=producer, consumer=consumer,
                    variant=variant, **fields)

    @abstractmethod
    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        """The cells of this check for the selected vendors and vectors."""

    @abstractmethod
    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        """A pure function of the cell and its answers."""

    def session(self, load: Callable[[str], bytes]) -> AbstractContextManager[Any]:
        """What the check needs running while its cells run (a test server, ...), as a
        context manager the run enters once around execution; ``load`` reads an artifact's
        bytes by sha256.  The default: nothing."""
        return nullcontext()

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        """The cell to judge, for checks whose steps depend on earlier answers.

        ``step`` computes a step (shared and cached like planned ones).  The default: the
        planned cell as it is.
        """
        return cell


@dataclass(frozen=True)
class Suite:
    """Every check and harness transform a run may use, as discovery found them."""

    checks: Mapping[str, Check]
    transforms: Mapping[str, Transform]
    #: What a transform's output depends on besides input and params (library versions,
    #: code), for the persistent step cache; None keeps it cached within a run only.
    transform_version: Callable[[str], str | None] = lambda _name: None
    #: A profile's ``[channels]`` table -> every channel by name (built-in and the
    #: profile's own); raises :class:`runner.errors.PlanError` on a bad declaration.
    channels: Callable[[Mapping[str, Any]], Mapping[str, Any]] = lambda _declared: {}
