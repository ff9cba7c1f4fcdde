"""A hostile-adapter fuzzer: whatever a vendor answers, the run ends with sound reports.

Hypothesis draws protocol answers (arbitrary JSON, non-finite numbers, invalid Unicode,
deep nesting, huge strings, types JSON does not have), exception messages, and raw wire
answers (any bytes, any status, a body cut short, a slow or trickling answer) and hands
them to real vendors in every placement: the babbler adapter in-process, served by the
kit's server in a process and behind TLS, and raw_server.py on a unix socket and behind
TLS.  Each example is a whole run (runner.run.execute_run over one JPEG, the honest
vendors' steps served from the warm step cache) that stores its cells and renders all
four reports.  The property: the run completes, every report validates, the honest
cells equal those of a run without the hostile vendor, the hostile cell is ``error`` or
a clean refusal with a reason of bounded length, and the token is written nowhere.

Deterministic: derandomised, no example database, a small budget per placement.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import make_tls
from hostile import (
    HONEST,
    REASON_BOUND,
    KitEndpoint,
    RawEndpoint,
    by_consumer,
    check_reports,
    comparable,
    http_table,
    occurrences,
    raw_process,
    write_profile,
    write_vendor,
)
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from conformance.discovery import discover
from runner.redact import forget_secrets, register_secret
from runner.run import RunOptions, execute_run

#: Every example is a whole run.
pytestmark = pytest.mark.slow
TOKEN_ENV = "AIII_FUZZ_TOKEN"
TOKEN = "fuzz-tok-" + os.urandom(10).hex()
TIMEOUT_S = 1.5  # the hostile vendor's deadline per call; the honest steps come from the cache
#: No shrinking: each example is a whole run, and CI needs a bounded time more than a minimal example.
FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=15, print_blob=False,
                phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

# -- strategies -----------------------------------------------------------------------------

#: text that may hold lone surrogates, control characters and the registered token
nasty_char = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.characters(categories=["Cc", "Cf", "Zl"]))
nasty_text = st.one_of(
    st.text(nasty_char, max_size=40),
    st.builds(lambda c, n: c * n, nasty_char, st.sampled_from([600, 20_000, 1_100_000])),  # huge
    st.builds(lambda a, b: f"{a}{TOKEN}{b}", st.text(nasty_char, max_size=8), st.text(nasty_char, max_size=8)),
)
numbers = st.one_of(st.integers(), st.integers(min_value=2**64 - 2, max_value=2**70), st.floats(),
                    st.sampled_from([math.nan, math.inf, -math.inf]))
#: values JSON does not have, as the babbler's tags (see its docstring)
foreign = st.one_of(
    st.builds(lambda v: {"$t": "tuple", "v": v}, st.lists(st.integers(), max_size=3)),
    st.builds(lambda v: {"$t": "bytes", "v": v.hex()}, st.binary(max_size=8)),
    st.builds(lambda v: {"$t": "set", "v": v}, st.lists(st.integers(), max_size=3, unique=True)),
    st.builds(lambda v: {"$t": "bigint", "v": v}, st.sampled_from([30, 5000])),
    st.just({"$t": "object", "v": None}),
)
leaves = st.one_of(st.none(), st.booleans(), numbers, nasty_text, foreign)
json_values = st.recursive(leaves, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                          st.dictionaries(nasty_text, kids, max_size=4)), max_leaves=12)


def _nest(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


FIELDS = ["title", "creator", "description", "copyright_notice", "iscc"]
short_nasty = st.text(nasty_char, max_size=12)
#: answers the protocol schema accepts once the gate has repaired their text
valid_answers = st.builds(lambda f, n: {"fields": f, "notes": n},
                          st.dictionaries(st.sampled_from(FIELDS), short_nasty, max_size=3),
                          st.lists(short_nasty, max_size=100))
answers = st.one_of(
    valid_answers,
    # near the protocol: fields and notes, any values
    st.builds(lambda f, n: {"fields": f, "notes": n}, st.dictionaries(st.sampled_from(FIELDS), leaves, max_size=3),
              st.lists(nasty_text, max_size=120)),
    st.builds(lambda f: {"fields": f}, st.dictionaries(st.sampled_from(FIELDS), nasty_text, max_size=3)),
    # deep nesting, past the limit but within what json.loads can decode in the adapter
    st.builds(lambda d, leaf: {"fields": {"title": _nest(d, leaf)}}, st.integers(60, 400), leaves),
    # anything at all, the top level included
    json_values,
)
failures = st.fixed_dictionaries({"kind": st.sampled_from(["adapter_error", "unsupported", "crash"]),
                                  "message": nasty_text})
programs = st.one_of(st.builds(lambda a: {"answer": a}, answers), st.builds(lambda f: {"raise": f}, failures))


def _wire_text(value: Any, ascii_only: bool) -> bytes:
    """JSON text as a server in another language might send it: NaN, and lone surrogates as
    \\udXXX escapes (ASCII) or as the invalid UTF-8 bytes a careless encoder writes."""
    text = json.dumps(value, ensure_ascii=ascii_only, default=repr)
    return text.encode("ascii") if ascii_only else text.encode("utf-8", "surrogatepass")


wire_json = st.builds(_wire_text, st.one_of(answers, st.builds(lambda f: {"error": f}, failures),
                                            st.builds(lambda k, m: {"error": {"kind": k, "message": m}},
                                                      st.sampled_from(["adapter_error", "unsupported", "internal",
                                                                       "weird"]), nasty_text)),
                      st.booleans())
wire_bodies = st.one_of(
    wire_json,
    st.binary(max_size=300),  # any bytes
    st.builds(lambda d: b'{"fields": {"title": ' + b"[" * d + b"]" * d + b"}}", st.sampled_from([70, 980, 5000, 200_000])),
    st.builds(lambda n, t: b'{"fields": {"title": ' + n + b'}, "notes": ["' + t + b'"]}',
              st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"1" * 5000]),
              st.sampled_from([b"\xff\xfe", b"\xed\xa0\x80", b"\\ud800", b"\xc3", b"ok"])),
)
wire_programs = st.fixed_dictionaries(
    {"status": st.sampled_from([200, 200, 200, 422, 501, 500, 400, 404, 503, 302, 418]),
     "content_type": st.sampled_from(["application/json", "application/json; charset=latin-1", "text/plain", ""]),
     "body": wire_bodies},
    optional={"delay_s": st.sampled_from([0.0, 0.3, 2.0]),  # 2.0: past the deadline
              "cut": st.integers(0, 50),  # the body cut short, the connection closed
              "trickle": st.tuples(st.integers(1, 64), st.sampled_from([0.01, 0.05]))},
)

# -- the vendors and the runs ------------------------------------------------------------


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        self.vendors = tmp / "vendors"
        self.store = tmp / "s.sqlite"
        self.count = itertools.count()
        ca, cert, key = make_tls(tmp / "tls")
        # the babblers read their answers from their own vendor folders: part of the code hash
        # that keys the step cache, so a changed answer is never served from the cache
        write_vendor(self.vendors, "fz-inproc", "inproc", config=self._reads("fz-inproc"))
        write_vendor(self.vendors, "fz-process", "process", config=self._reads("fz-process"), process={})
        self.raw_process = write_vendor(self.vendors, "fz-raw-process", "process",
                                        process=raw_process("fz-raw-process"), entry=False)
        http_folder = self.vendors / "fz-http"
        http_folder.mkdir(parents=True)
        self.kit = KitEndpoint("fz-http", self._reads("fz-http"), cert, key, token=TOKEN)
        write_vendor(self.vendors, "fz-http", "http", http=http_table(self.kit.url, ca, http_folder, TOKEN_ENV), entry=False)
        self.raw = RawEndpoint(tmp / "programs", cert, key)
        raw_folder = self.vendors / "fz-raw-http"
        raw_folder.mkdir(parents=True)
        write_vendor(self.vendors, "fz-raw-http", "http", http=http_table(self.raw.url("fz-raw-http"), ca, raw_folder),
                     entry=False)
        for vid in ("fz-inproc", "fz-process", "fz-http"):
            self.answer(vid, {"answer": {"fields": {}}})
        self.wire("fz-raw-process", {"status": 200, "body": b'{"fields": {}}'})
        self.wire("fz-raw-http", {"status": 200, "body": b'{"fields": {}}'})
        self.reference = self._baseline()

    def _reads(self, vid: str) -> dict[str, Any]:
        return {"mode": "answer-file", "path": str(self.vendors / vid / "answer.json")}

    def answer(self, vid: str, program: dict[str, Any]) -> None:
        path = self.vendors / vid / "answer.json"
        path.write_text(json.dumps(program, ensure_ascii=True), encoding="utf-8")  # escapes keep lone surrogates

    def wire(self, vid: str, program: dict[str, Any]) -> None:
        doc = {k: v for k, v in program.items() if k != "body"}
        doc["body_b64"] = base64.b64encode(program["body"]).decode()
        doc["version"] = "fuzz-" + str(next(self.count))  # a new version: never a cached answer
        if doc.get("trickle"):  # slow, but over within about a second: endless trickles are another test's
            size, pause = doc["trickle"]
            pieces = max(1, len(program["body"]) // size)
            doc["trickle"] = [size if pieces * pause <= 1.2 else math.ceil(len(program["body"]) * pause / 1.2), pause]
        if vid == "fz-raw-http":
            self.raw.program(vid, doc)
        else:  # inside the vendor folder: part of its code hash, so of its cache key
            (self.vendors / vid / "program.json").write_text(json.dumps(doc))

    def run(self, hostile: list[str], out: Path) -> dict[str, dict[str, Any]]:
        profile = write_profile(self.tmp / "profile.toml", [*HONEST, *hostile])
        summary = execute_run(RunOptions(profile=str(profile), out=str(out), store=str(self.store), jobs=2,
                                         timeout_s=TIMEOUT_S, extra_vendor_dirs=[str(self.vendors)]), discover(), progress=False)
        assert summary.cells == len(HONEST) + len(hostile)
        return by_consumer(check_reports(out)["cells"])

    def _baseline(self) -> dict[str, tuple[Any, ...]]:
        cells = self.run([], self.tmp / "baseline")
        assert {c["outcome"] for c in cells.values()} == {"pass"}
        return {vid: comparable(c) for vid, c in cells.items()}

    def _token_places(self, out: Path) -> list[Path]:
        # AIII_HOME/logs included: a server that prints a secret it was handed has it redacted
        # in its own log too once the run's reports are written
        return [out, *self.home.iterdir(), *self.store.parent.glob(self.store.name + "*")]

    def check(self, vid: str) -> None:
        out = self.tmp / f"out-{next(self.count)}"
        before = occurrences(TOKEN.encode(), *self._token_places(out))
        try:
            cells = self.run([vid], out)
            for honest in HONEST:
                assert comparable(cells[honest]) == self.reference[honest], honest
            hostile = cells[vid]
            event(f"{hostile['outcome']}: {' '.join(hostile['reason'].split(':')[1:3])[:60]}")
            assert hostile["outcome"] in ("error", "fail", "unsupported"), hostile
            assert len(hostile["reason"]) < REASON_BOUND, hostile["reason"]
            hostile["reason"].encode("utf-8")  # valid Unicode: no surrogate made it through
            for art in hostile["artifacts"].values():
                if art["path"]:
                    assert (out / art["path"]).stat().st_size < 5 * 1024 * 1024
            # no new copy of the token: compared with before this example, so a failure names its example
            after = occurrences(TOKEN.encode(), *self._token_places(out))
            assert {p: n for p, n in after.items() if n > before.get(p, 0)} == {}
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def close(self) -> None:
        self.kit.close()
        self.raw.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("fuzz")
    saved = {k: os.environ.get(k) for k in ("AIII_HOME", TOKEN_ENV)}
    os.environ["AIII_HOME"] = str(tmp / "home")
    os.environ[TOKEN_ENV] = TOKEN  # fz-http's bearer token, which the babblers' messages may quote
    register_secret(TOKEN)  # as the http transport does when it reads it; the first runs have no http vendor
    made = World(tmp)
    try:
        yield made
    finally:
        made.close()
        forget_secrets()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@settings(FUZZ, max_examples=25)
@given(program=programs)
def test_in_process_answers(world: World, program: dict[str, Any]) -> None:
    world.answer("fz-inproc", program)
    world.check("fz-inproc")


@FUZZ
@given(program=programs)
def test_answers_through_the_kit_in_a_process(world: World, program: dict[str, Any]) -> None:
    world.answer("fz-process", program)
    world.check("fz-process")


@FUZZ
@given(program=programs)
def test_answers_through_the_kit_behind_tls(world: World, program: dict[str, Any]) -> None:
    world.answer("fz-http", program)
    world.check("fz-http")


@FUZZ
@given(program=wire_programs)
def test_raw_wire_answers_on_a_unix_socket(world: World, program: dict[str, Any]) -> None:
    world.wire("fz-raw-process", program)
    world.check("fz-raw-process")


@settings(FUZZ, max_examples=20)
@given(program=wire_programs)
def test_raw_wire_answers_behind_tls(world: World, program: dict[str, Any]) -> None:
    world.wire("fz-raw-http", program)
    world.check("fz-raw-http")
