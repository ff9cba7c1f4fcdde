"""The one codec of what a check hands from plan to judge: a frozen CellContext to
canonical JSON and back, nested dataclasses, tuples and mappings rebuilt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from runner.model import Cell, CellContext, Level, Outcome, planned, with_context


@dataclass(frozen=True)
class Inner:
    name: str
    weights: tuple[float, ...]


@dataclass(frozen=True)
class Outer(CellContext):
    inner: Inner
    members: tuple[Inner, ...]
    by_vendor: Mapping[str, tuple[str, ...]]
    found: Inner | None = None
    note: str = "none"


def _cell() -> Cell:
    return Cell(check="x.y", level=Level.MUST, vector="v", producer="a", consumer="b")


def _outer(found: Inner | None = None) -> Outer:
    return Outer(inner=Inner("i", (0.5, 1.0)), members=(Inner("m1", ()), Inner("m2", (2.0,))),
                 by_vendor={"acme": ("tdmrep", "robots")}, found=found)


@pytest.mark.parametrize("found", [None, Inner("f", (3.0,))])
def test_a_context_comes_back_equal_with_its_nested_types(found: Inner | None) -> None:
    ctx = _outer(found)
    back = planned(_cell(), context=ctx).context_as(Outer)
    assert back == ctx
    assert isinstance(back.inner, Inner) and isinstance(back.members, tuple) and isinstance(back.members[1], Inner)
    assert back.by_vendor["acme"] == ("tdmrep", "robots")
    assert back.found == found


def test_the_stored_form_is_canonical_json() -> None:
    a = planned(_cell(), context=_outer()).context_json
    b = planned(_cell(), context=Outer(by_vendor={"acme": ("tdmrep", "robots")}, members=_outer().members,
                                       inner=_outer().inner)).context_json
    assert a == b and ": " not in a and a.index('"by_vendor"') < a.index('"inner"')


def test_expand_hands_new_evidence_on_and_keeps_the_steps_it_is_given() -> None:
    cell = planned(_cell(), context=_outer())
    later = with_context(cell, _outer(Inner("seen", ())), steps={})
    assert later.context_as(Outer).found == Inner("seen", ())
    assert cell.context_as(Outer).found is None, "the planned cell is not changed"


def test_an_unsupported_twin_carries_no_steps_and_the_reason() -> None:
    twin = planned(_cell(), "b cannot read PNG", context=_outer())
    assert twin.preset == (Outcome.UNSUPPORTED, "b cannot read PNG") and not twin.steps
