"""``aiii hub serve``: the hub, an HTTP service that takes signed bundles and packs.

A Starlette application (served by uvicorn, runner/cli_hub.py):

- ``POST /api/v1/uploads``: a result bundle, ``multipart/form-data`` with a ``bundle``
  part (``results.json``) and an ``envelope`` part (its ``results.dsse.json``), and the
  participant's upload token (``Authorization: Bearer TOKEN``, runner/hub_tokens.py).
  The upload is ``received``, then verified and ingested into the history
  (runner/history.py, runner/publish.py ``ingest_bundle``) and ends ``valid``,
  ``duplicate`` (same content: nothing changes), ``stale`` (another plan) or
  ``invalid`` with the reason.  After a valid one the site is written again from the
  history (``publish_site``).  Answer: the upload's record, as JSON.
- ``POST /api/v1/packs``: an artifact pack (runner/packs.py), a ``pack`` part; verified
  whole and kept under ``packs/<producer>/`` of the site, listed at ``GET /api/v1/packs``.
- ``GET /api/v1/uploads/{id}``: an upload's record; ``GET /api/v1/openapi.json``: the
  OpenAPI document of this API (:data:`OPENAPI`).
- Everything else: the published site (static files: the scorecards, run list, vendor
  pages, badges and the static JSON API under ``/api/``).

Every refusal is a state and a one-line reason, and changes nothing else: no token or an
unknown one (401), a bundle signed for another participant than the token's (403), an
upload without a length or over the limit (411, 413, never read), a body that is not a
multipart form, not JSON, truncated, or not a bundle (400), a replay (``duplicate``),
another plan (``stale``, 409).  Uploads are processed one at a time.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from runner.hub_tokens import Tokens
from runner.keys import HUB

#: The default upload limit (bytes): a merged default run is about 5 MB.
DEFAULT_MAX_UPLOAD = 256 * 1024 * 1024
#: HTTP status per final state.
STATUS = {"valid": 201, "duplicate": 200, "stale": 409, "invalid": 400}


@dataclass
class HubConfig:
    site: Path
    history: str  # a path or an SQLAlchemy URL (runner/history.py)
    tokens: Path
    state: Path  # the hub's own state: the upload log
    vendor_dirs: list[Path] = field(default_factory=list)
    hub_keys: Path | None = None
    max_upload: int = DEFAULT_MAX_UPLOAD
    allow_unsigned: bool = False


@dataclass
class Upload:
    id: str
    kind: str  # bundle or pack
    participant: str | None
    received: str
    state: str = "received"
    reason: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    run_id: str | None = None


class Hub:
    """The hub's state: tokens, registry, history, the upload log; one upload at a time."""

    def __init__(self, config: HubConfig) -> None:
        from runner.history import History
        from runner.keys import load_registry
        from runner.paths import ROOT
        from runner.vendors import load_vendors

        self.config = config
        self.tokens = Tokens.load(config.tokens)
        self.registry = load_registry(config.vendor_dirs, config.hub_keys)
        manifests = load_vendors(ROOT / "vendors", config.vendor_dirs)
        self.registry.hub_vendors = frozenset(v for v, m in manifests.items() if m.role == "reference")
        self.history = History(config.history)
        config.state.mkdir(parents=True, exist_ok=True)
        config.site.mkdir(parents=True, exist_ok=True)
        self.log = config.state / "uploads.jsonl"
        self.uploads: dict[str, Upload] = {}
        if self.log.exists():
            for line in self.log.read_text(encoding="utf-8").splitlines():
                record = Upload(**json.loads(line))
                self.uploads[record.id] = record
        self.lock = threading.Lock()
        self.statuses: dict[str, int] = {}  # upload id -> the HTTP status its answer had

    def record(self, upload: Upload) -> Upload:
        self.uploads[upload.id] = upload
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(upload), sort_keys=True) + "\n")
        return upload

    def ingest_bundle(self, upload: Upload, bundle: bytes, envelope: bytes | None) -> Upload:
        from runner.attest import AttestationError, verify_bundle
        from runner.ingest import ingest_bundle
        from runner.publish import publish_site

        with self.lock, tempfile.TemporaryDirectory(prefix="aiii-hub-") as tmp:
            path = Path(tmp) / "results.json"
            path.write_bytes(bundle)
            if envelope is not None:
                (Path(tmp) / "results.dsse.json").write_bytes(envelope)
                try:
                    signer = verify_bundle(path, self.registry).signer
                except AttestationError as exc:
                    return self._end(upload, "invalid", str(exc).replace(str(path), "results.json"))
                if upload.participant not in (signer, HUB):
                    return self._end(upload, "invalid", f"signed for {signer}, but the token is {upload.participant}'s",
                                     403)
            elif not self.config.allow_unsigned:
                return self._end(upload, "invalid", "unsigned: send the bundle's results.dsse.json as the envelope part")
            result = ingest_bundle(path, self.history, self.registry, allow_unsigned=self.config.allow_unsigned)
            if result.state == "valid":
                publish_site(self.history, self.config.site)
            upload.run_id = result.run_id
            reason = result.reason.replace(str(path), "results.json") if result.reason else None
            return self._end(upload, result.state, reason)

    def ingest_pack(self, upload: Upload, data: bytes) -> Upload:
        from runner.packs import PackError, read_pack

        with self.lock, tempfile.TemporaryDirectory(prefix="aiii-hub-") as tmp:
            path = Path(tmp) / "pack.tar"
            path.write_bytes(data)
            try:
                pack = read_pack(path, self.registry)
            except PackError as exc:
                return self._end(upload, "invalid", str(exc).replace(str(path), "pack.tar"))
            if upload.participant not in (pack.signer, HUB):
                return self._end(upload, "invalid", f"signed for {pack.signer}, but the token is {upload.participant}'s",
                                 403)
            target = self.config.site / "packs" / pack.producer / f"{upload.sha256}.tar"
            if target.exists():
                return self._end(upload, "duplicate", f"pack {upload.sha256[:16] if upload.sha256 else ''} already kept")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self._write_pack_index()
            upload.run_id = pack.doc["run"]
            return self._end(upload, "valid", None)

    def packs(self) -> list[dict[str, Any]]:
        root = self.config.site / "packs"
        return [{"producer": p.parent.name, "sha256": p.stem, "href": f"packs/{p.parent.name}/{p.name}"}
                for p in sorted(root.glob("*/*.tar"))] if root.is_dir() else []

    def _write_pack_index(self) -> None:
        (self.config.site / "packs" / "index.json").write_text(json.dumps({"packs": self.packs()}, indent=1) + "\n")

    def _end(self, upload: Upload, state: str, reason: str | None, status: int | None = None) -> Upload:
        upload.state, upload.reason = state, reason
        self.statuses[upload.id] = status or STATUS.get(state, 202)
        return self.record(upload)


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _answer(hub: Hub, upload: Upload) -> JSONResponse:
    return JSONResponse(asdict(upload), status_code=hub.statuses.get(upload.id, STATUS.get(upload.state, 202)))


async def _receive(request: Request, kind: str, parts: tuple[str, ...]) -> tuple[Upload, dict[str, bytes]] | JSONResponse:
    """Authenticate, check the length, read the form: the upload and its parts, or the refusal."""
    hub: Hub = request.app.state.hub
    upload = Upload(id=secrets.token_hex(8), kind=kind, participant=hub.tokens.participant(_token(request)),
                    received=datetime.now(UTC).isoformat(timespec="seconds"))
    if upload.participant is None:
        reason = "an unknown upload token" if _token(request) else "no upload token (Authorization: Bearer TOKEN)"
        return _answer(hub, hub._end(upload, "invalid", reason, 401))
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        return _answer(hub, hub._end(upload, "invalid", "no Content-Length: uploads must say their size", 411))
    upload.bytes = int(length)
    if upload.bytes > hub.config.max_upload:
        return _answer(hub, hub._end(upload, "invalid", f"oversized: {upload.bytes} bytes (limit {hub.config.max_upload})",
                                     413))
    try:
        form = await request.form(max_files=len(parts), max_fields=0, max_part_size=hub.config.max_upload)
    except Exception as exc:  # noqa: BLE001 - Starlette's multipart errors are several types
        return _answer(hub, hub._end(upload, "invalid", f"not a multipart upload: {str(exc).splitlines()[0][:200]}"))
    got: dict[str, bytes] = {}
    for name in parts:
        item = form.get(name)
        if item is not None and not isinstance(item, str):
            got[name] = await item.read()
    await form.close()
    if parts[0] not in got:
        return _answer(hub, hub._end(upload, "invalid", f"no {parts[0]!r} part"))
    upload.sha256 = hashlib.sha256(got[parts[0]]).hexdigest()
    return upload, got


async def post_upload(request: Request) -> Response:
    received = await _receive(request, "bundle", ("bundle", "envelope"))
    if isinstance(received, JSONResponse):
        return received
    upload, parts = received
    hub: Hub = request.app.state.hub
    done = await run_in_threadpool(hub.ingest_bundle, upload, parts["bundle"], parts.get("envelope"))
    return _answer(hub, done)


async def post_pack(request: Request) -> Response:
    received = await _receive(request, "pack", ("pack",))
    if isinstance(received, JSONResponse):
        return received
    upload, parts = received
    hub: Hub = request.app.state.hub
    return _answer(hub, await run_in_threadpool(hub.ingest_pack, upload, parts["pack"]))


async def get_upload(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    upload = hub.uploads.get(request.path_params["upload_id"])
    if upload is None:
        return JSONResponse({"error": "no such upload"}, status_code=404)
    return JSONResponse(asdict(upload))


async def get_packs(request: Request) -> Response:
    return JSONResponse({"packs": request.app.state.hub.packs()})


async def get_openapi(request: Request) -> Response:
    return JSONResponse(OPENAPI)


_RECORD = {
    "type": "object",
    "required": ["id", "kind", "participant", "received", "state", "reason"],
    "properties": {
        "id": {"type": "string"}, "kind": {"enum": ["bundle", "pack"]},
        "participant": {"type": ["string", "null"]}, "received": {"type": "string", "format": "date-time"},
        "state": {"enum": ["received", "valid", "invalid", "duplicate", "stale"]},
        "reason": {"type": ["string", "null"]}, "sha256": {"type": ["string", "null"]},
        "bytes": {"type": ["integer", "null"]}, "run_id": {"type": ["string", "null"]},
    },
}


def _refusals(*codes: str) -> dict[str, Any]:
    text = {"400": "invalid: not multipart, not JSON, truncated, not a bundle or pack, bad signature",
            "401": "invalid: no token, or an unknown one", "403": "invalid: signed for another participant",
            "409": "stale: made under another plan", "411": "invalid: no Content-Length",
            "413": "invalid: over the upload limit"}
    return {code: {"description": text[code], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}}}
            for code in codes}


#: The OpenAPI document of the hub's API (``GET /api/v1/openapi.json``).
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "aiii-interop hub", "version": "1",
             "description": "Takes participants' signed result bundles and artifact packs, verifies and ingests them "
                            "into the history, and serves the published site and its static JSON API."},
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                      "description": "the participant's upload token (`aiii hub token`)"}},
        "schemas": {"Upload": _RECORD},
    },
    "paths": {
        "/api/v1/uploads": {"post": {
            "summary": "upload a signed result bundle", "security": [{"token": []}],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["bundle"],
                "properties": {"bundle": {"type": "string", "contentMediaType": "application/json",
                                          "description": "results.json"},
                               "envelope": {"type": "string", "contentMediaType": "application/json",
                                            "description": "results.dsse.json, its DSSE envelope"}}}}}},
            "responses": {"201": {"description": "valid: ingested, the site written again",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}}},
                          "200": {"description": "duplicate: the same content was ingested before; nothing changed",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}}},
                          **_refusals("400", "401", "403", "409", "411", "413")}}},
        "/api/v1/packs": {
            "post": {"summary": "upload a signed artifact pack", "security": [{"token": []}],
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "required": ["pack"],
                         "properties": {"pack": {"type": "string", "contentMediaType": "application/x-tar"}}}}}},
                     "responses": {"201": {"description": "valid: kept under packs/PRODUCER/",
                                           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}}},
                                   "200": {"description": "duplicate",
                                           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}}},
                                   **_refusals("400", "401", "403", "411", "413")}},
            "get": {"summary": "the packs kept", "responses": {"200": {"description": "producer, sha256 and href of each",
                                                                       "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/api/v1/uploads/{upload_id}": {"get": {
            "summary": "an upload's record", "parameters": [{"name": "upload_id", "in": "path", "required": True,
                                                              "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the record",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}}},
                          "404": {"description": "no such upload"}}}},
        "/api/v1/openapi.json": {"get": {"summary": "this document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
}


async def get_favicon(_request: Request) -> Response:
    """No icon, said without an error: a browser asks for /favicon.ico whatever the page
    declares (its own pages carry an empty one) when it shows a document that is not HTML,
    a badge's SVG or the API's JSON, and a 404 there is an error in its console."""
    return Response(status_code=204)


def create_app(config: HubConfig) -> Starlette:
    """The hub as an ASGI application."""
    app = Starlette(routes=[
        Route("/api/v1/uploads", post_upload, methods=["POST"]),
        Route("/api/v1/uploads/{upload_id}", get_upload, methods=["GET"]),
        Route("/api/v1/packs", post_pack, methods=["POST"]),
        Route("/api/v1/packs", get_packs, methods=["GET"]),
        Route("/api/v1/openapi.json", get_openapi, methods=["GET"]),
        Route("/favicon.ico", get_favicon, methods=["GET"]),
        Mount("/", app=StaticFiles(directory=str(config.site), html=True, check_dir=False), name="site"),
    ])
    app.state.hub = Hub(config)
    return app
