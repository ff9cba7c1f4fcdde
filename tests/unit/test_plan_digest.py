"""The plan digest (runner/plan_digest.py): the same for the same plan, in every
placement; different, naming the component, when a param, a vector or the cells change."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from helpers import ROOT, TESTS

from runner.check import Suite
from runner.model import Cell, CheckConfig, Level, Profile, Vector, VectorSelector
from runner.plan_digest import COMPONENTS, PlanDigest, PlanMismatch, differences, plan_digest, require_same_plan

LIBS = {"channel.jpeg": {"pillow": "13.0.0"}, "channel.mp3": {"soundfile": "0.14.0", "libsndfile": "1.2.2"}}


def _suite(libs: dict[str, dict[str, str]] = LIBS, code: str = "c0de") -> Suite:
    """A suite with two channels whose transforms report their libraries like conformance's."""
    channels = {"jpeg-q50": SimpleNamespace(kind="image", steps=(("channel.jpeg", {"quality": 50}),)),
                "mp3-128k": SimpleNamespace(kind="audio", steps=(("channel.mp3", {"bitrate": 128}),))}
    return Suite(checks={}, transforms={},
                 transform_version=lambda name: json.dumps({"libraries": libs[name], "code": code}),
                 channels=lambda declared: channels)


def _profile(**params: Any) -> Profile:
    config = CheckConfig("metadata.roundtrip", Level.MUST, VectorSelector(ids=("v1", "v2")), params={"value_sets": ["ascii"],
                                                                                                       **params})
    return Profile("p", "a profile", Path("p.toml"), (config,))


def _cells(*consumers: str) -> list[Cell]:
    return [Cell(check="metadata.roundtrip", level=Level.MUST, vector=v, producer="a", consumer=c, variant="ascii")
            for v in ("v1", "v2") for c in consumers]


def _vectors(v2: str = "2" * 64) -> dict[str, Vector]:
    return {"v1": Vector("v1", Path("v1.jpg"), "image/jpeg", "1" * 64, "CC0-1.0"),
            "v2": Vector("v2", Path("v2.jpg"), "image/jpeg", v2, "CC0-1.0"),
            "unused": Vector("unused", Path("u.jpg"), "image/jpeg", "3" * 64, "CC0-1.0")}


def _digest(profile: Profile | None = None, cells: list[Cell] | None = None, vectors: dict[str, Vector] | None = None,
            suite: Suite | None = None, methodology: str = "2026.11-1", pki: str = "f" * 64) -> PlanDigest:
    return plan_digest(profile or _profile(), cells if cells is not None else _cells("a", "b"), vectors or _vectors(),
                       suite or _suite(), pki, methodology)


def test_the_same_plan_gives_the_same_digest() -> None:
    a, b = _digest(), _digest(cells=list(reversed(_cells("a", "b"))))
    assert a == b and len(a.sha256) == 64 and tuple(a.components) == COMPONENTS
    assert PlanDigest.from_dict(json.loads(json.dumps(a.as_dict()))) == a
    require_same_plan(a, b)


@pytest.mark.parametrize(("change", "differs"), [
    ({"profile": _profile(value_sets=["unicode"])}, ("profile",)),
    ({"vectors": _vectors(v2="4" * 64)}, ("vectors",)),
    ({"cells": _cells("a")}, ("cells",)),
    ({"methodology": "2027.01-1"}, ("methodology",)),
    ({"suite": _suite({**LIBS, "channel.jpeg": {"pillow": "13.1.0"}})}, ("channels",)),
    ({"pki": "e" * 64}, ("pki",)),
])
def test_a_change_of_meaning_changes_the_digest_and_is_named(change: dict[str, Any], differs: tuple[str, ...]) -> None:
    base, changed = _digest(), _digest(**change)
    assert base.sha256 != changed.sha256
    assert differences(base, changed) == differs
    with pytest.raises(PlanMismatch) as caught:
        require_same_plan(base, changed, "hub.json", "acme.json")
    assert str(caught.value).startswith(f"hub.json and acme.json were run under different plans: {', '.join(differs)} differ")
    assert caught.value.differing == differs


def test_the_digest_of_one_plan_never_changes() -> None:
    """Results combine only under one digest: a plan's digest is the one earlier runs got
    (this value was computed before the cell ids were hashed a chunk at a time)."""
    assert _digest().sha256 == "1e97cc4c4bb98429afb89609e7cba275cb3d01f89936a053526edefaba2c9fd7"


def test_what_changes_no_cell_leaves_the_digest_alone() -> None:
    base = _digest()
    renamed = dataclasses.replace(_profile(), name="other", description="reworded", fail_on=None)
    assert _digest(profile=renamed) == base
    assert _digest(vectors={k: v for k, v in _vectors().items() if k != "unused"}) == base  # only cited vectors count
    assert _digest(suite=_suite(code="edited")) == base  # the channels' code hash: the methodology version's job


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One private AIII_HOME for this module's runs (the catalogue derived once)."""
    home = tmp_path_factory.mktemp("plan-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(home))
        yield home


def _run_digest(profile: str, placement: str | None = None) -> PlanDigest:
    """The plan digest a run of ``profile`` gets, planned but not run (no vendor starts);
    the channels' library versions stubbed, so no ffmpeg is started to ask its version."""
    from conformance.discovery import discover
    from runner.run import Run, RunOptions

    suite = dataclasses.replace(discover(), transform_version=lambda name: json.dumps({"libraries": {name: "1"}}))
    return Run(RunOptions(profile=profile, placement=placement, out=os.devnull), suite).plan_digest


def test_every_placement_plans_under_one_digest(state: Path, tmp_path: Path) -> None:
    profile = str(TESTS / "profiles" / "signed.toml")
    inproc = _run_digest(profile)
    assert _run_digest(profile, "process") == inproc
    assert _run_digest(profile, "docker") == inproc
    changed = tmp_path / "signed-unicode.toml"
    changed.write_text((TESTS / "profiles" / "signed.toml").read_text().replace('"ascii"', '"unicode"'))
    assert differences(inproc, _run_digest(str(changed))) == ("profile", "cells")


def test_the_optout_plan_is_one_whether_evaluators_fetch_or_get_material_inline(state: Path) -> None:
    """Containerised evaluators get the site's responses inline: other steps, same cells."""
    profile = str(ROOT / "profiles" / "optout.toml")
    assert _run_digest(profile, "docker") == _run_digest(profile)
