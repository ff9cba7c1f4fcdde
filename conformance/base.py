"""What a family's checks build on: the check interface (runner/check.py), the one
helper that gives a plan loop's cell or its ``unsupported`` twin (``planned``), and the
base of typed cell contexts (``CellContext``)."""

from __future__ import annotations

from runner.check import Answers, Check, Fixtures, PlanContext, Transform
from runner.model import Cell, CellContext, planned

__all__ = ["Answers", "Cell", "CellContext", "Check", "Fixtures", "PlanContext", "Transform", "planned"]
