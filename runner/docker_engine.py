"""The local Docker engine as the docker placement's image builders use it: the SDK
client, one builder per image on this machine, commands with deadlines, progress lines."""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from runner.errors import TransportError


class ImageError(TransportError):
    """An image of the docker placement could not be made."""


def docker_client(timeout: int = 600) -> Any:
    """A Docker SDK client for the local engine."""
    try:
        import docker  # type: ignore[import-untyped]

        return docker.from_env(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - missing SDK or engine
        raise ImageError(f"no Docker engine reachable: {str(exc)[:200]}") from None


@contextlib.contextmanager
def _machine_lock(name: str) -> Iterator[None]:
    """One builder per image on this machine (images are shared by every AIII_HOME)."""
    path = Path(tempfile.gettempdir()) / f"aiii-{name}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _say(progress: IO[str] | None, text: str) -> None:
    if progress is not None:
        progress.write(f"[images] {text}\n")
        progress.flush()


def _run(cmd: list[str], what: str, timeout: float) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ImageError(f"{what} did not finish within {timeout:.0f} s") from None
    except FileNotFoundError as exc:
        raise ImageError(f"{what}: {exc}") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        raise ImageError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc.stdout


def _find_image(client: Any, ref: str) -> Any | None:
    import docker

    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None
