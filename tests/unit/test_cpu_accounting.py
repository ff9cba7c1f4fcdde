"""CPU time inside adapter calls, by placement (runner/cpu.py, ``CallTiming``): a call that
burns CPU is counted as CPU, one that sleeps is not, in the harness's threads and in an
adapter process alike; and the harness's own CPU holds its in-process adapters'.

The doubles burn by their own thread's CPU clock, not the wall, so each call has used half a
second of CPU when it answers however loaded the machine is; a bound of half that cannot be
missed.  A sleeping call uses next to no CPU whatever the load."""

from __future__ import annotations

from pathlib import Path

from runner.cache import ArtifactStore
from runner.executor import CallTiming, Executor, VendorRuntime
from runner.model import NO_INPUT, Cell, CellResult, Level, Outcome, StepResult, vendor_step
from runner.transports import make_transport
from runner.vendors import load_manifest

TESTS = Path(__file__).resolve().parent.parent


def _timing(tmp_path: Path, folder: Path) -> CallTiming:
    """One metadata.read of the double in ``folder`` run as a cell; the executor's timing."""
    manifest = load_manifest(folder / "vendor.toml")
    transport = make_transport(manifest, log_dir=tmp_path)
    transport.start()
    try:
        runtime = VendorRuntime(manifest, transport, "1", "1+c", 60.0, placement=manifest.placement)
        executor = Executor({manifest.id: runtime}, {}, ArtifactStore(tmp_path / "cache"), {}, 2)
        cell = Cell(check="metadata.x", level=Level.MUST, vector=NO_INPUT, producer=manifest.id, consumer=manifest.id,
                    steps={"read": vendor_step(manifest.id, "metadata.read", NO_INPUT, {})})
        out: list[CellResult] = []

        def judge(c: Cell, results: dict[str, StepResult]) -> CellResult:
            ok = results["read"].ok
            return CellResult(c, Outcome.PASS if ok else Outcome.ERROR, str(results["read"].error), {}, {}, None, 0.0, "now")

        executor.run_cells([cell], judge, out.append)
        assert out[0].outcome is Outcome.PASS, out[0].reason
        return executor.timing
    finally:
        transport.close()


def test_an_in_process_adapter_burning_cpu_is_counted_and_within_the_harness_cpu(tmp_path: Path) -> None:
    timing = _timing(tmp_path, TESTS / "doubles" / "cpu-burner")
    assert timing.adapter_cpu_s["inproc"] >= 0.25
    assert timing.necessary_cpu_s >= 0.25
    # the figures add up: the harness process's CPU holds its adapter threads' (clock granularity aside)
    assert timing.process_cpu_s >= timing.adapter_cpu_s["inproc"] - 0.05
    assert timing.overhead_cpu_s >= -0.05


def test_an_in_process_adapter_sleeping_is_wall_time_not_cpu(tmp_path: Path) -> None:
    timing = _timing(tmp_path, TESTS / "doubles" / "slowreader")
    assert timing.adapter_s >= 0.25, "it slept a quarter of a second"
    assert timing.adapter_cpu_s["inproc"] < 0.2


def test_an_adapter_process_burning_cpu_is_counted_outside_the_harness(tmp_path: Path) -> None:
    timing = _timing(tmp_path, TESTS / "doubles_process" / "p-burner")
    assert timing.adapter_cpu_s["process"] >= 0.25
    assert timing.adapter_cpu_s.get("inproc", 0.0) == 0.0
    assert timing.process_cpu_s < timing.adapter_cpu_s["process"], "the burn was not the harness's"
