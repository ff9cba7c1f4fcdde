"""The ``inproc`` placement: the adapter class runs in the harness's own process.

Each call, start-up (import, constructor, health, version) and close run on a daemon
thread so they can be timed out.  Python cannot kill a hung thread, so after a timeout
the vendor is marked hung and later calls fail fast; the ``process`` and ``docker``
placements can kill a hung adapter for real.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset
from aiii_kit.server import AdapterLoadError, forget, load_adapter

from runner.model import VendorManifest
from runner.transports import Transport, TransportError
from runner.transports.deadline import seconds


def load_adapter_class(manifest: VendorManifest) -> type[Adapter]:
    """Import ``file.py:Class`` from the vendor folder, as a submodule of the folder's own package.

    The kit's loader (:func:`aiii_kit.server.load_adapter`, the same the ``process`` and
    ``docker`` placements serve with) gives each vendor folder a package of its own, so an
    adapter may import sibling modules relatively without colliding with another vendor's.
    """
    assert manifest.adapter_entry
    file_name = manifest.adapter_entry.split(":", 1)[0]
    try:
        return load_adapter(manifest.adapter_entry, manifest.folder)
    except AdapterLoadError as exc:
        raise TransportError(f"vendor {manifest.id}: {exc}") from exc
    except Exception as exc:
        raise TransportError(f"vendor {manifest.id}: importing {file_name} failed: {exc!r}") from exc


#: Start-up (import, constructor, health, version) without ``[adapter] timeout_s``.
STARTUP_TIMEOUT_S = 60.0
#: How long ``close()`` may take before the harness stops waiting for it.
CLOSE_TIMEOUT_S = 10.0


def _on_thread(name: str, fn: Callable[[], Any], timeout_s: float) -> dict[str, Any] | None:
    """Run ``fn`` on a daemon thread; its value or exception (with a short traceback), or None if it overran.

    Python cannot kill a thread: an overrunning one is left behind, and as a daemon it
    never holds up the interpreter's exit.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - any adapter failure is reported
            box["exc"] = exc
            box["tb"] = traceback.format_exc(limit=4)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return None if thread.is_alive() else box


def _last_line(box: dict[str, Any]) -> str:
    return box["tb"].strip().splitlines()[-1] if box.get("tb") else repr(box["exc"])


class InprocTransport(Transport):
    placement = "inproc"
    served = False  # a Python call: nothing to probe over the protocol

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest, log_dir)
        self._adapter: Adapter | None = None
        self._slots = threading.BoundedSemaphore(manifest.max_concurrency)
        self._hung: str | None = None
        self._deadline = 0.0  # the end of start-up time

    def _startup_timeout(self) -> float:
        return float(self.manifest.timeout_s or STARTUP_TIMEOUT_S)

    def _bounded(self, what: str, fn: Callable[[], Any], timeout_s: float) -> Any:
        """``fn()`` within ``timeout_s``; an overrun marks the adapter hung (later calls fail fast)."""
        box = _on_thread(f"{self.manifest.id}:{what}", fn, timeout_s)
        if box is None:
            self._hung = f"{what} ran over {seconds(timeout_s)} s"
            raise TransportError(f"vendor {self.manifest.id}: {what} hung for over {seconds(timeout_s)} s; "
                                 "the adapter is not used")
        if "exc" in box:
            raise box["exc"]
        return box["value"]

    def start(self) -> None:
        """Import, construct and health-check the adapter, all within the start-up time."""
        limit = self._startup_timeout()
        deadline = time.monotonic() + limit
        stage = {"what": f"importing {self.manifest.adapter_entry}"}

        def boot() -> Adapter:
            cls = load_adapter_class(self.manifest)
            stage["what"] = f"the constructor of {cls.__name__}"
            adapter = cls(config=dict(self.manifest.config))
            stage["what"] = "health()"
            adapter.health()
            return adapter

        box = _on_thread(f"{self.manifest.id}:start", boot, limit)
        if box is None:
            self._hung = f"start-up ran over {seconds(limit)} s"
            if stage["what"].startswith("importing"):
                forget(self.manifest.folder)  # half imported: not for a later load
            raise TransportError(f"vendor {self.manifest.id}: start-up hung in {stage['what']} for over {seconds(limit)} s;"
                                 " the adapter is not used")
        self._deadline = deadline
        if "exc" not in box:
            self._adapter = box["value"]
            return
        exc = box["exc"]
        if isinstance(exc, TransportError):
            raise exc
        if isinstance(exc, AdapterError):
            raise TransportError(f"vendor {self.manifest.id}: not healthy: {exc}") from exc
        raise TransportError(f"vendor {self.manifest.id}: start-up failed in {stage['what']}: {_last_line(box)}") from exc

    def implementation_version(self) -> str | None:
        assert self._adapter is not None
        adapter = self._adapter
        left = max(1.0, self._deadline - time.monotonic())  # what is left of the start-up time
        try:
            return self._bounded("start-up hung in implementation_version()", adapter.implementation_version, left)  # type: ignore[no-any-return]
        except TransportError:
            raise
        except Exception as exc:
            raise TransportError(f"vendor {self.manifest.id}: implementation_version() raised {exc!r}") from exc

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        if self._adapter is None:
            raise TransportError(f"vendor {self.manifest.id}: not started")
        if self._hung:
            raise TransportError(f"vendor {self.manifest.id}: skipped, the adapter hung earlier ({self._hung})")
        if not self.account.acquire(self._slots, timeout_s):
            raise TransportError(f"vendor {self.manifest.id}: no free slot within {timeout_s:.0f} s")
        adapter = self._adapter

        def work() -> Asset | dict[str, Any]:
            started = time.thread_time()  # this thread's CPU: the adapter's own native threads are not in it
            try:
                return adapter.call(operation, asset, params)
            finally:
                self.account.add(cpu_s=time.thread_time() - started)
                self._slots.release()

        box = _on_thread(f"{self.manifest.id}:{operation}", work, timeout_s)
        if box is None:
            self._hung = f"{operation} ran over {timeout_s:.0f} s"
            raise TransportError(f"vendor {self.manifest.id}: {operation} timed out after {timeout_s:.0f} s")
        if "exc" in box:
            exc = box["exc"]
            if isinstance(exc, AdapterError):
                raise exc
            raise TransportError(f"vendor {self.manifest.id}: adapter raised {_last_line(box)}") from exc
        return box["value"]  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the adapter within CLOSE_TIMEOUT_S; a hung adapter is not asked (and exit is never held up)."""
        adapter, self._adapter = self._adapter, None
        if adapter is None or self._hung:
            return
        box = _on_thread(f"{self.manifest.id}:close", adapter.close, CLOSE_TIMEOUT_S)
        if box is None:  # closing must not lose results, nor keep the command from ending
            print(f"aiii: vendor {self.manifest.id}: close() did not finish within {seconds(CLOSE_TIMEOUT_S)} s; left behind",
                  file=sys.stderr)
