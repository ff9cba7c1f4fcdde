"""The opt-out family's test site: real HTTP servers on loopback, started and stopped by
the harness for a run.

Each published site (the files of one declared channel, or of one precedence, malformed
or conflict case) gets its own origin, one ``ThreadingHTTPServer`` on ``127.0.0.1`` and
a port derived from its content (a free one if that is taken), so ``/robots.txt`` and ``/.well-known/tdmrep.json`` sit where a crawler looks
for them.  A site is a list of file specs (the shape optout.declare answers with and the
cases files use)::

    {"path": "/page.html", "status": 200, "headers": [["tdm-reservation", "1"]],
     "text": "..." | "body_base64": "..." | "repeat": {"text": "...", "times": 10000},
     "delay_s": 0.0}

Hostile behaviour is data too: a ``status`` of 301/302 with a ``Location`` header is a
redirect, ``delay_s`` holds the answer back (timeouts), ``repeat`` makes huge bodies,
``body_base64`` carries bytes that are not UTF-8.  Publishing the same files twice gives
the same origin; :attr:`Site.digest` is their sha256.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Longest a hostile endpoint may hold an answer back (evaluators' timeouts are shorter).
MAX_DELAY_S = 10.0
#: Largest body a file spec may ask for (a huge robots.txt is a few hundred KiB).
MAX_BODY = 8 * 1024 * 1024


class SiteError(ValueError):
    """A file spec that cannot be served; the message names the file."""


@dataclass(frozen=True)
class SiteFile:
    path: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    delay_s: float = 0.0


def site_file(spec: dict[str, Any]) -> SiteFile:
    """A file spec, checked."""
    path = spec.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise SiteError(f"file spec {json.dumps(spec)[:80]}: 'path' must start with /")
    if "body_base64" in spec:
        body = base64.b64decode(str(spec["body_base64"]))
    elif "repeat" in spec:
        rep = spec["repeat"]
        body = str(rep["text"]).encode() * int(rep["times"])
        body = str(spec.get("text", "")).encode() + body
    else:
        body = str(spec.get("text", "")).encode()
    if len(body) > MAX_BODY:
        raise SiteError(f"{path}: body of {len(body)} bytes is over the site's limit of {MAX_BODY}")
    headers = tuple((str(k), str(v)) for k, v in spec.get("headers", []))
    if not any(k.lower() == "content-type" for k, _ in headers) and spec.get("media_type"):
        headers += (("Content-Type", str(spec["media_type"])),)
    delay = float(spec.get("delay_s", 0.0))
    if not 0 <= delay <= MAX_DELAY_S:
        raise SiteError(f"{path}: delay_s must be between 0 and {MAX_DELAY_S}")
    return SiteFile(path, int(spec.get("status", 200)), headers, body, delay)


def digest_of(specs: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(specs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        files = self.server.files
        found = files.get(self.path) or files.get(self.path.split("?", 1)[0])
        if found is None:
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if found.delay_s:
            self.server.stopping.wait(found.delay_s)
        self.send_response(found.status)
        for name, value in found.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(found.body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the crawler gave up (a timeout case)
            self.wfile.write(found.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Quiet: the harness keeps no access log."""


#: Where a site's port is looked for: below Linux's ephemeral range (32768-60999).
PORT_BASE, PORT_SPAN, PORT_TRIES = 10000, 20000, 40


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: dict[str, SiteFile], stopping: threading.Event, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.files = files
        self.stopping = stopping


def _server(files: dict[str, SiteFile], stopping: threading.Event, digest: str) -> _SiteServer:
    """A server on a port derived from the site's digest, so the same site has the same
    URL run after run and evaluators' answers stay cacheable; a taken port moves it on
    (the URL then differs: a cache miss, never a wrong answer, since the digest is in the
    params too), and after PORT_TRIES any free port will do."""
    first = PORT_BASE + int(digest[:8], 16) % PORT_SPAN
    for k in range(PORT_TRIES):
        try:
            return _SiteServer(files, stopping, PORT_BASE + (first - PORT_BASE + k) % PORT_SPAN)
        except OSError:
            continue
    return _SiteServer(files, stopping, 0)


@dataclass(frozen=True)
class Site:
    """One published site: its origin and the digest of its files."""

    origin: str
    digest: str

    def url(self, path: str) -> str:
        return self.origin + path


class TestSite:
    """The run's sites; use as a context manager (:func:`serving`)."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sites: dict[str, Site] = {}
        self._servers: list[tuple[_SiteServer, threading.Thread]] = []
        self._stopping = threading.Event()

    def publish(self, specs: list[dict[str, Any]]) -> Site:
        """Serve these files on an origin of their own (the same files: the same origin)."""
        digest = digest_of(specs)
        with self._lock:
            if self._stopping.is_set():
                raise SiteError("the test site is stopped")
            if digest in self._sites:
                return self._sites[digest]
            files: dict[str, SiteFile] = {}
            for spec in specs:
                f = site_file(spec)
                files[f.path] = f
            server = _server(files, self._stopping, digest)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"optout-site-{server.server_address[1]}", daemon=True)
            thread.start()
            self._servers.append((server, thread))
            site = Site(f"http://127.0.0.1:{server.server_address[1]}", digest)
            self._sites[digest] = site
            return site

    def close(self) -> None:
        """Stop every server (slow answers are cut short) and free the ports."""
        self._stopping.set()
        with self._lock:
            servers, self._servers = self._servers, []
        stoppers = [threading.Thread(target=s.shutdown) for s, _ in servers]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        for server, thread in servers:
            server.server_close()
            thread.join(timeout=5)

    @property
    def origins(self) -> int:
        return len(self._servers)


@contextmanager
def serving() -> Iterator[TestSite]:
    """A test site for the duration of the block."""
    site = TestSite()
    try:
        yield site
    finally:
        site.close()
