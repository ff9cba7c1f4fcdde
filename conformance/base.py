"""What a family's checks build on: the check interface (runner/check.py) and the one
helper that gives a plan loop's cell or its ``unsupported`` twin (``planned``)."""

from __future__ import annotations

from runner.check import Answers, Check, Fixtures, PlanContext, Transform
from runner.model import Cell, planned

__all__ = ["Answers", "Cell", "Check", "Fixtures", "PlanContext", "Transform", "planned"]
