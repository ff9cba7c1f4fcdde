"""The executor serving a vendor from a verified pack (runner/executor.py, runner/packs.py):
steps in the pack are answered from it with their origin, a step it lacks blocks its
cells, also when a check's expand() met it among its trials; no adapter is called."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from runner.cache import ArtifactStore, step_key
from runner.executor import Executor, VendorRuntime
from runner.keys import Registry, generate, load_public, load_signer
from runner.model import (
    NO_INPUT,
    Cell,
    CellResult,
    ErrorKind,
    Level,
    Outcome,
    StepResult,
    VendorManifest,
    Verdict,
    params_hash,
    vendor_step,
)
from runner.packs import read_pack, result_record, write_pack
from runner.transports.pack import PackTransport

DATA = b"an embedded asset"
SHA = hashlib.sha256(DATA).hexdigest()
EMPTY = hashlib.sha256(b"").hexdigest()


def _served(tmp_path: Path) -> tuple[Executor, dict[str, str]]:
    generate(tmp_path, "acme")
    embed = vendor_step("acme", "watermark.embed", NO_INPUT, {"key": "k"})
    key = step_key("acme", "1+c", "watermark.embed", EMPTY, params_hash(embed.params))
    doc = {"format": 1, "producer": "acme", "version": "1", "cache_version": "1+c", "placement": "process",
           "plan_digest": "ab" * 32, "profile": "p", "participant": "acme-ci", "run": "r1",
           "steps": [{"key": key, "vendor": "acme", "operation": "watermark.embed", "source": {"vector": NO_INPUT},
                      "params": embed.params, "placement": "process",
                      "result": result_record(StepResult(ok=True, asset_sha256=SHA, media_type="image/png"))}]}
    write_pack(tmp_path / "p.tar", doc, lambda sha: DATA, load_signer(tmp_path / "acme.pem"), "acme")
    registry = Registry()
    registry.add("acme", load_public(tmp_path / "acme.pub"))
    pack = read_pack(tmp_path / "p.tar", registry, "ab" * 32)
    manifest = VendorManifest(id="acme", name="a", organisation="o", placement="inproc", folder=tmp_path,
                              version_rule={"adapter": True}, capabilities=())
    runtime = VendorRuntime(manifest, PackTransport(manifest), "1", "1+c", 5.0, placement="pack", pack=pack)
    executor = Executor({"acme": runtime}, {}, ArtifactStore(tmp_path / "cache"), {}, 1,
                        origin={"participant": "hub", "run": "r2"})
    return executor, {"embed": key}


def _cell(**steps: object) -> Cell:
    return Cell(check="watermark.x", level=Level.MUST, vector=NO_INPUT, producer="acme", consumer="acme",
                steps=steps)  # type: ignore[arg-type]


def _run(executor: Executor, cell: Cell, expand: object = None) -> CellResult:
    out: list[CellResult] = []

    def judge(c: Cell, results: dict[str, StepResult]) -> CellResult:
        v = Verdict(Outcome.PASS, "ok")
        return CellResult(c, v.outcome, v.reason, {}, {}, None, 0.0, "now",
                          {r: executor.origins[s] for r, s in c.steps.items()})

    executor.run_cells([cell], judge, out.append, expand)  # type: ignore[arg-type]
    return out[0]


def test_a_packed_step_is_answered_from_the_pack_with_its_origin(tmp_path: Path) -> None:
    executor, keys = _served(tmp_path)
    embed = vendor_step("acme", "watermark.embed", NO_INPUT, {"key": "k"})
    got = executor.step(embed)
    assert (got.ok, got.asset_sha256, executor.artifacts.get(SHA)) == (True, SHA, DATA)
    origin = executor.origins[embed]
    assert (origin["participant"], origin["run"], origin["placement"], origin["verified"]) == ("acme-ci", "r1", "process", True)
    assert executor.timing.calls == 0, "no adapter was called"


def test_a_step_the_pack_lacks_blocks_the_cell(tmp_path: Path) -> None:
    executor, _ = _served(tmp_path)
    embed = vendor_step("acme", "watermark.embed", NO_INPUT, {"key": "k"})
    detect = vendor_step("acme", "watermark.detect", embed, {"key": "k"})
    assert executor.step(detect).error_kind == ErrorKind.ABSENT
    other = vendor_step("acme", "watermark.embed", NO_INPUT, {"key": "other"})
    below = vendor_step("acme", "watermark.detect", other, {"key": "other"})
    assert executor.step(below).error_kind == ErrorKind.ABSENT, "absent stays absent downstream"


def test_an_absent_trial_met_by_expand_blocks_the_cell(tmp_path: Path) -> None:
    executor, _ = _served(tmp_path)
    embed = vendor_step("acme", "watermark.embed", NO_INPUT, {"key": "k"})

    def expand(cell: Cell, step: object) -> Cell:
        step(vendor_step("acme", "watermark.detect", embed, {"key": "k"}))  # type: ignore[operator]
        return replace(cell, steps={"marked": embed})

    result = _run(executor, _cell(marked=embed), expand)
    assert (result.outcome, result.reason) == (Outcome.BLOCKED, "acme:watermark.detect: not in the pack of acme")
    assert _run(executor, _cell(marked=embed)).outcome is Outcome.PASS
