"""The ``inproc`` placement: the adapter class runs in the harness's own process.

Each call runs on a daemon thread so it can be timed out.  Python cannot kill a hung
thread, so after a timeout the vendor is marked hung and later calls fail fast; the
``process`` and ``docker`` placements (later) can kill a hung adapter for real.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
import traceback
from typing import Any

from runner.adapter import Adapter, AdapterError, Asset
from runner.model import VendorManifest
from runner.transports import Transport, TransportError


def load_adapter_class(manifest: VendorManifest) -> type[Adapter]:
    """Import ``file.py:Class`` from the vendor folder under a private module name."""
    assert manifest.adapter_entry
    file_name, class_name = manifest.adapter_entry.split(":", 1)
    path = manifest.folder / file_name
    module_name = f"aiii_vendor_{manifest.id.replace('-', '_').replace('.', '_')}"
    if module_name in sys.modules:
        module = sys.modules[module_name]
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise TransportError(f"vendor {manifest.id}: cannot load {path.name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise TransportError(f"vendor {manifest.id}: importing {path.name} failed: {exc!r}") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise TransportError(f"vendor {manifest.id}: {manifest.adapter_entry} is not an Adapter subclass")
    return cls


class InprocTransport(Transport):
    def __init__(self, manifest: VendorManifest) -> None:
        super().__init__(manifest)
        self._adapter: Adapter | None = None
        self._slots = threading.BoundedSemaphore(manifest.max_concurrency)
        self._hung: str | None = None

    def start(self) -> None:
        cls = load_adapter_class(self.manifest)
        try:
            self._adapter = cls(config=dict(self.manifest.config))
            self._adapter.health()
        except AdapterError as exc:
            raise TransportError(f"vendor {self.manifest.id}: not healthy: {exc}") from exc
        except Exception as exc:
            raise TransportError(f"vendor {self.manifest.id}: start-up failed: {exc!r}") from exc

    def implementation_version(self) -> str | None:
        assert self._adapter is not None
        return self._adapter.implementation_version()

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        if self._adapter is None:
            raise TransportError(f"vendor {self.manifest.id}: not started")
        if self._hung:
            raise TransportError(f"vendor {self.manifest.id}: skipped, the adapter hung earlier ({self._hung})")
        if not self._slots.acquire(timeout=timeout_s):
            raise TransportError(f"vendor {self.manifest.id}: no free slot within {timeout_s:.0f} s")
        box: dict[str, Any] = {}
        adapter = self._adapter

        def work() -> None:
            try:
                box["value"] = adapter.call(operation, asset, params)
            except BaseException as exc:  # noqa: BLE001 - any adapter failure is reported
                box["exc"] = exc
                box["tb"] = traceback.format_exc(limit=4)
            finally:
                self._slots.release()

        thread = threading.Thread(target=work, name=f"{self.manifest.id}:{operation}", daemon=True)
        thread.start()
        thread.join(timeout_s)
        if thread.is_alive():
            self._hung = f"{operation} ran over {timeout_s:.0f} s"
            raise TransportError(f"vendor {self.manifest.id}: {operation} timed out after {timeout_s:.0f} s")
        if "exc" in box:
            exc = box["exc"]
            if isinstance(exc, AdapterError):
                raise exc
            last = box["tb"].strip().splitlines()[-1] if box.get("tb") else repr(exc)
            raise TransportError(f"vendor {self.manifest.id}: adapter raised {last}") from exc
        return box["value"]  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._adapter is not None:
            with contextlib.suppress(Exception):  # closing must not lose results
                self._adapter.close()
