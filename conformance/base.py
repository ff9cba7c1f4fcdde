"""What a check is: it plans cells over vendors and vectors, and judges their answers.

Checks see adapters' answers only: they never know where an adapter ran.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from aiii_kit import Asset

from conformance.channels import NAMED, NamedChannel
from runner.model import Cell, CheckConfig, Outcome, Step, StepResult, VendorManifest, Verdict
from runner.vectors import Vector


@dataclass
class Fixtures:
    """Run-wide material the checks use: the test PKI and the attack strings."""

    trust_anchor_pem: str
    credentials: Callable[[str], dict[str, str]]  # vendor id -> signer params
    attack_strings: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class PlanContext:
    config: CheckConfig
    vectors: list[Vector]
    vendors: dict[str, VendorManifest]
    fixtures: Fixtures
    #: distribution channels by name: the built-in ones and the profile's own
    channels: Mapping[str, NamedChannel] = field(default_factory=lambda: dict(NAMED))
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

    @abstractmethod
    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        """The cells of this check for the selected vendors and vectors."""

    @abstractmethod
    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        """A pure function of the cell and its answers."""

    def session(self, load: Callable[[str], bytes]) -> AbstractContextManager[Any]:
        """What the check needs running while its cells run (a test server, ...), as a
        context manager the run enters once around execution; ``load`` reads an artefact's
        bytes by sha256.  The default: nothing."""
        return nullcontext()

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        """The cell to judge, for checks whose steps depend on earlier answers.

        ``step`` computes a step (shared and cached like planned ones).  The default: the
        planned cell as it is.
        """
        return cell


def unsupported(cell: Cell, reason: str) -> Cell:
    """The same cell, preset to ``unsupported`` (nothing runs)."""
    return replace(cell, preset=(Outcome.UNSUPPORTED, reason), steps={})

