"""``aiii adapter check``: does an adapter server keep the protocol?

Vendors run it before they join.  Each probe is a real request; the answers are
checked against the protocol's schemas, its error codes and its size limit.
"""

from __future__ import annotations

import contextlib
import copy
import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiii_kit import AdapterError, Asset, Unsupported, protocol
from aiii_kit.protocol import OPERATIONS, PARAMS_ONLY
from aiii_kit.vocab import NO_MEDIA_TYPE

from runner.errors import HarnessError
from runner.redact import redact
from runner.schema import first_error
from runner.transports import TransportError
from runner.transports.client import Endpoint, ProtocolClient, encode_request, read_token
from runner.transports.deadline import Deadline, seconds


@dataclass
class Probe:
    name: str
    ok: bool
    detail: str

    def __post_init__(self) -> None:
        self.detail = one_line(self.detail)  # what an adapter answers is printed: never a secret


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line, shortened, with every registered secret redacted."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _raw(endpoint: Endpoint, method: str, path: str, body: bytes | None, headers: dict[str, str],
         timeout: float) -> tuple[int, str, bytes]:
    """One hand-made request; connect, request and answer together end by ``timeout``."""
    headers = {**headers, **endpoint.auth_headers()}
    with Deadline(timeout) as deadline:
        conn = endpoint.connection(deadline)
        try:
            conn.putrequest(method, endpoint.prefix + path, skip_accept_encoding=True)
            for key, value in headers.items():
                conn.putheader(key, value)
            conn.endheaders()
            if body:
                # the server may refuse before reading the body: its answer is still there
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    conn.send(body)
            response = conn.getresponse()
            data = response.read(1024 * 1024)
            if deadline.fired:
                raise TimeoutError(f"no complete answer within the {seconds(timeout)} s deadline")
            return response.status, response.getheader("Content-Type", "") or "", data
        finally:
            conn.close()


def _expect_error(endpoint: Endpoint, method: str, path: str, body: bytes | None, headers: dict[str, str],
                  timeout: float, want: int) -> tuple[bool, str]:
    """Send a request that must be refused with ``want`` and a schema-valid error body."""
    try:
        status, ctype, data = _raw(endpoint, method, path, body, headers, timeout)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return False, f"no answer: {one_line(repr(exc))}"
    return _error_answer(status, ctype, data, want)


def _error_answer(status: int, ctype: str, data: bytes, want: int) -> tuple[bool, str]:
    if status != want:
        return False, f"status {status}, expected {want}"
    if not ctype.startswith("application/json"):
        return False, f"status {status} but content type {ctype!r}, expected an error JSON"
    try:
        problem = first_error("aiii:protocol/v1/error", json.loads(data))
    except json.JSONDecodeError as exc:
        return False, f"error body is not JSON: {exc}"
    return (problem is None), (f"error body violates the schema at {problem}" if problem else f"{status} with a valid error body")


def sample_params(operation: str, signer: Callable[[], dict[str, str]], protocol_dir: Path = protocol.SCHEMAS) -> dict[str, Any]:
    """The first of the operation's params schema's ``examples``; a ``signer`` in it is
    replaced by ``signer()`` (credentials of the run's test PKI, never written down)."""
    params: dict[str, Any] = copy.deepcopy(protocol.operation_facts(protocol_dir)[operation]["examples"][0])
    if "signer" in params:
        params["signer"] = signer()
    return params


def _junk(value: Any, text: str) -> Any:
    """Junk in place of ``value``, of its shape: a string for a string, a fingerprint of a
    length no algorithm makes for a fingerprint."""
    if isinstance(value, dict) and "fingerprint_hex" in value:
        return {**value, "fingerprint_hex": "ff" * 3}
    return text


def junk_call(operation: str, params: dict[str, Any]) -> tuple[Asset, dict[str, Any]]:
    """A request with junk input: a text file as the asset, or junk strings where the
    operation's whole input is its params."""
    junk_text = "this is not a media file\n" * 10
    if operation in PARAMS_ONLY:
        junked = {k: (_junk(v, junk_text) if k in ("value", "a", "b") else v) for k, v in params.items()}
        return Asset(b"", NO_MEDIA_TYPE), junked
    return Asset(junk_text.encode(), "text/plain", "junk.txt"), params


def check_adapter(endpoint: Endpoint, sample: Asset, signer: Callable[[], dict[str, str]],
                  timeout: float = 60.0) -> list[Probe]:
    """Probe an adapter server; every probe reports pass or fail with a reason."""
    probes: list[Probe] = []
    client = ProtocolClient("adapter", endpoint)
    operations: list[str] = []
    try:
        doc = client.describe(timeout)
        operations = list(doc["operations"])
        probes.append(Probe("describe", True, f"vendor {doc['vendor']}, version {doc['implementation_version']}, "
                                              f"operations {', '.join(operations) or 'none'}"))
    except TransportError as exc:
        probes.append(Probe("describe", False, str(exc)))
    try:
        client.health(timeout)
        probes.append(Probe("health", True, "ok"))
    except TransportError as exc:
        probes.append(Probe("health", False, str(exc)))

    quick = min(timeout, 10.0)
    json_headers = {"Content-Type": "application/json", "Content-Length": "2"}
    probes.append(Probe("unknown route gives 404", *_expect_error(endpoint, "GET", "/v1/no-such-route", None, {}, quick, 404)))
    probes.append(Probe("unknown operation gives 404",
                        *_expect_error(endpoint, "POST", "/v1/operations/no.such", b"{}", json_headers, quick, 404)))
    op = operations[0] if operations else "metadata.read"
    probes.append(Probe("a body that is not multipart gives 400",
                        *_expect_error(endpoint, "POST", f"/v1/operations/{op}", b"{}", json_headers, quick, 400)))
    body, content_type = encode_request({}, sample)
    broken = body.replace(b'name="params"', b'name="other"', 1)
    probes.append(Probe("a missing params part gives 400", *_expect_error(
        endpoint, "POST", f"/v1/operations/{op}", broken,
        {"Content-Type": content_type, "Content-Length": str(len(broken))}, quick, 400)))
    probes.append(Probe("a body over the size limit gives 413", *_expect_error(
        endpoint, "POST", f"/v1/operations/{op}", None, {"Content-Type": content_type, "Content-Length": str(10**12)}, quick, 413)))
    if endpoint.token:
        anonymous = Endpoint(endpoint.unix_socket, endpoint.base_url, None, endpoint.ca_file)
        probes.append(Probe("no bearer token gives 401", *_expect_error(anonymous, "GET", "/v1/describe", None, {}, quick, 401)))

    for operation in operations:
        if operation not in OPERATIONS:
            continue
        params = sample_params(operation, signer)
        asset = Asset(b"", NO_MEDIA_TYPE) if operation in PARAMS_ONLY else sample
        on = "sample params" if operation in PARAMS_ONLY else sample.media_type
        try:
            answer = client.call(operation, asset, params, timeout)
        except (AdapterError, Unsupported) as exc:
            probes.append(Probe(f"{operation} on {on}", True, f"clean refusal: {exc}"))
            continue
        except TransportError as exc:
            probes.append(Probe(f"{operation} on {on}", False, str(exc)))
            continue
        if isinstance(answer, Asset):
            same = answer.media_type == sample.media_type and len(answer.data) > 0
            probes.append(Probe(f"{operation} on {on}", same,
                                f"{len(answer.data)} bytes of {answer.media_type}" if same else f"answered {answer.media_type!r}"))
        else:
            problem = first_error(f"aiii:protocol/v1/{operation}.result", answer)
            probes.append(Probe(f"{operation} on {on}", problem is None,
                                "schema-valid report" if problem is None else f"answer violates the schema at {problem}"))
        junk, junk_params = junk_call(operation, params)
        try:
            junk_answer = client.call(operation, junk, junk_params, timeout)
            problem = None if isinstance(junk_answer, Asset) else first_error(f"aiii:protocol/v1/{operation}.result", junk_answer)
            probes.append(Probe(f"{operation} on junk input", problem is None,
                                "answered" if problem is None else f"answer violates the schema at {problem}"))
        except (AdapterError, Unsupported) as exc:
            probes.append(Probe(f"{operation} on junk input", True, f"clean refusal: {str(exc)[:120]}"))
        except TransportError as exc:
            probes.append(Probe(f"{operation} on junk input", False, f"no clean refusal: {exc}"))
    return probes


class CheckError(HarnessError):
    """``aiii adapter check`` could not probe its target (one line, secrets redacted)."""


def check_target(target: str, *, token_env: str | None = None, ca_file: str | None = None,
                 vendor_dirs: list[Path] | None = None, placement: str = "process", timeout: float = 60.0) -> list[Probe]:
    """Probe TARGET: a vendor id (started in ``placement``), a unix socket path or an http(s) URL.

    Whatever goes wrong is one line with every secret redacted, never a traceback: a
    header error from the HTTP library would quote the bearer token.
    """
    try:
        return _check_target(target, token_env, ca_file, vendor_dirs or [], placement, timeout)
    except HarnessError as exc:
        raise CheckError(one_line(str(exc))) from None
    except Exception as exc:  # noqa: BLE001 - any failure is reported, on one line
        raise CheckError(one_line(f"{target}: {type(exc).__name__}: {exc}")) from None


def _check_target(target: str, token_env: str | None, ca_file: str | None, vendor_dirs: list[Path],
                  placement: str, timeout: float) -> list[Probe]:
    from runner.paths import ROOT, state_dir
    from runner.pki import TestPKI
    from runner.transports import Transport, make_transport
    from runner.vendors import load_vendors

    transport: Transport | None = None
    token = read_token(token_env, "--token-env") if token_env else None
    if target.startswith(("http://", "https://")):
        endpoint = Endpoint(base_url=target, token=token, ca_file=ca_file)
    elif Path(target).is_socket():
        endpoint = Endpoint(unix_socket=target, token=token)
    else:
        vendors = load_vendors(ROOT / "vendors", vendor_dirs)
        if target not in vendors:
            raise CheckError(f"{target}: not a vendor id, a unix socket or an http(s) URL")
        transport = make_transport(vendors[target], placement)
        transport.start()
        served: Endpoint | None = getattr(transport, "endpoint", None)
        if served is None:
            transport.close()
            raise CheckError(f"{target}: runs in-process; check it with --placement process or docker")
        endpoint = served
    pki = TestPKI.create(state_dir() / "pki")
    try:
        return check_adapter(endpoint, default_sample(ROOT), lambda: pki.leaf("adapter-check").as_params(), timeout)
    finally:
        if transport is not None:
            transport.close()


def default_sample(root: Path) -> Asset:
    """A small real JPEG for the probes (kodim01, re-encoded in memory)."""
    import io

    from PIL import Image

    with Image.open(root / "test_vectors" / "images" / "kodak" / "kodim01.png") as img:
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="JPEG", quality=85)
    return Asset(buf.getvalue(), "image/jpeg", "kodim01.jpg")
