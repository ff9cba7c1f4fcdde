"""Hostile vendors (issue #11): whatever a vendor says, the run ends with sound reports.

One run through the real CLI holds every finding at once, each a vendor of its own,
next to honest vendors (exiftool writing and reading, xmp-reference reading) whose cells
must be exactly those of a run without the hostile ones.  The vendors are real programs
in every placement: the babbler adapter in-process, served by the kit in a process and
behind TLS on loopback, and raw_server.py, which sends bytes the kit never would.
Each test below asserts one finding; every one of them broke the run, the store or the
reports before the gate (runner/gate.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import aiii, cells, make_tls
from hostile import (
    HONEST,
    REASON_BOUND,
    KitEndpoint,
    RawEndpoint,
    by_consumer,
    check_reports,
    comparable,
    files_holding,
    http_table,
    mode_program,
    raw_process,
    write_profile,
    write_vendor,
)

#: One whole run with a hostile vendor of every kind beside the honest ones, then report and resume.
pytestmark = pytest.mark.slow

TOKEN_ENV = "AIII_HOSTILE_ECHO_TOKEN"
TOKEN = "tok-" + os.urandom(12).hex()

#: in-process babblers: vendor id -> mode
INPROC = {f"hi-{m}": m for m in ("surrogate-message", "surrogate-crash", "surrogate-field", "surrogate-notes", "nan",
                                 "inf", "int-version", "tuple-version", "huge-unsupported", "deep")}
#: babblers served by the kit's server in a local process
PROCESS_KIT = {f"hp-{m}": m for m in ("surrogate-message", "surrogate-field", "nan", "deep")}
#: raw_server.py on a unix socket (process placement, a server of the vendor's own)
PROCESS_RAW = {f"hr-{m}": m for m in ("nan", "bad-utf8", "surrogate-field", "surrogate-error", "deep", "deep-980",
                                       "version-surrogate", "describe-nan", "health-garbage", "health-list")}
#: raw_server.py behind TLS on loopback (http placement)
HTTP_RAW = {f"hx-{m}": m for m in ("nan", "infinity", "bad-utf8", "surrogate-error", "surrogate-internal", "deep",
                                   "huge-error", "version-surrogate", "health-garbage")}
HOSTILE = [*INPROC, *PROCESS_KIT, *PROCESS_RAW, *HTTP_RAW, "hh-echo-token"]
#: vendors whose describe or health is garbage: they cannot run, and say why
UNRUNNABLE = ["hr-describe-nan", "hr-health-garbage", "hr-health-list", "hx-health-garbage"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    only = os.environ.get("AIII_HOSTILE_ONLY")  # one finding alone (to show it against an older harness)
    chosen = set(only.split(",")) if only else None
    tmp = tmp_path_factory.mktemp("hostile")
    home = tmp / "home"
    vendors = tmp / "vendors"
    ca, cert, key = make_tls(tmp / "tls")
    for vid, mode in INPROC.items():
        write_vendor(vendors, vid, "inproc", config={"mode": mode})
    for vid, mode in PROCESS_KIT.items():
        write_vendor(vendors, vid, "process", config={"mode": mode}, process={})
    for vid, mode in PROCESS_RAW.items():
        write_vendor(vendors, vid, "process", process=raw_process(vid, mode=mode), entry=False)
    raw = RawEndpoint(tmp / "programs", cert, key)
    for vid, mode in HTTP_RAW.items():
        raw.program(vid, mode_program(mode))
        folder = write_vendor(vendors, vid, "http", http={"url": "https://placeholder"}, entry=False)
        write_vendor(vendors, vid, "http", http=http_table(raw.url(vid), ca, folder), entry=False)
    os.environ[TOKEN_ENV] = TOKEN  # the harness reads it (http.py) and so does the echoing server
    echo = KitEndpoint("hh-echo-token", {"mode": "echo-token", "env": TOKEN_ENV}, cert, key, token=TOKEN)
    folder = write_vendor(vendors, "hh-echo-token", "http", http={"url": "https://placeholder"}, entry=False)
    write_vendor(vendors, "hh-echo-token", "http", http=http_table(echo.url, ca, folder, TOKEN_ENV), entry=False)
    try:
        store = tmp / "s.sqlite"
        base = aiii(home, "run", "--profile", str(write_profile(tmp / "base.toml", HONEST)), "--out", str(tmp / "base"),
                    "--store", str(store), "--jobs", "2", "-q")
        assert base.returncode == 0, base.stderr
        proc = aiii(home, "run", "--profile", str(write_profile(tmp / "hostile.toml",
                                                                       [*HONEST, *(v for v in HOSTILE if not chosen or v in chosen)])),
                    "--vendor-dir", str(vendors), "--out", str(tmp / "out"), "--store", str(store),
                    "--timeout", "20", "--jobs", "2", "-q")
        yield {"tmp": tmp, "home": home, "store": store, "vendors": vendors, "base": base, "proc": proc,
               "out": tmp / "out", "base_out": tmp / "base"}
    finally:
        echo.close()
        raw.close()
        os.environ.pop(TOKEN_ENV, None)


def bundle_of(world: dict[str, Any]) -> dict[str, Any]:
    return json.loads((world["out"] / "results.json").read_text(encoding="utf-8"))


def cell(world: dict[str, Any], consumer: str) -> dict[str, Any]:
    found = by_consumer(bundle_of(world)["cells"])[consumer]
    assert len(found["reason"]) < REASON_BOUND, found["reason"]
    return found


def vendor(world: dict[str, Any], vid: str) -> dict[str, Any]:
    return next(v for v in bundle_of(world)["vendors"] if v["id"] == vid)


def test_the_run_completes_and_writes_every_report(world: dict[str, Any]) -> None:
    proc = world["proc"]
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    bundle = check_reports(world["out"])
    assert {c["consumer"] for c in bundle["cells"]} == {*HONEST, *HOSTILE}
    for vid in HOSTILE:
        assert vendor(world, vid)["runnable"] == (vid not in UNRUNNABLE), vendor(world, vid)
        c = cell(world, vid)
        assert c["outcome"] in ("error", "fail", "unsupported"), (vid, c["outcome"], c["reason"])


def test_every_honest_cell_is_the_same_as_without_the_hostile_vendors(world: dict[str, Any]) -> None:
    base = by_consumer(check_reports(world["base_out"])["cells"])
    hostile = by_consumer(bundle_of(world)["cells"])
    assert set(base) == set(HONEST)
    for consumer in HONEST:
        assert comparable(hostile[consumer]) == comparable(base[consumer]), consumer
        assert hostile[consumer]["outcome"] == "pass"


def test_a_lone_surrogate_in_an_exception_message(world: dict[str, Any]) -> None:
    refused = cell(world, "hi-surrogate-message")
    assert refused["outcome"] == "fail" and "refused" in refused["reason"]
    assert "caf\ufffd here" in refused["reason"] and "invalid Unicode replaced" in refused["reason"]
    crashed = cell(world, "hi-surrogate-crash")
    assert crashed["outcome"] == "error" and "ValueError" in crashed["reason"] and "\ufffd" in crashed["reason"]
    # the kit's server cannot even encode such a refusal: the process vendor's cell is an error
    assert cell(world, "hp-surrogate-message")["outcome"] in ("error", "fail")


def test_a_lone_surrogate_in_a_report_field(world: dict[str, Any]) -> None:
    for vid in ("hi-surrogate-field", "hr-surrogate-field"):
        c = cell(world, vid)
        assert c["outcome"] == "fail", (vid, c["reason"])
        assert "invalid Unicode replaced at /fields/title" in c["reason"], c["reason"]
        assert c["measurements"]["fields"]["title"]["got"].startswith("caf\ufffd")
        report = world["out"] / c["artifacts"]["read"]["path"]
        assert "caf\ufffd" in json.loads(report.read_text(encoding="utf-8"))["fields"]["title"]
    assert cell(world, "hp-surrogate-field")["outcome"] in ("error", "fail")


def test_a_hundred_repaired_notes_keep_the_reason_one_bounded_line(world: dict[str, Any]) -> None:
    """Each repair is noted in the cell's reason: a hundred of them must not make it a page."""
    c = cell(world, "hi-surrogate-notes")  # asserts the bound
    assert c["outcome"] == "fail" and "invalid Unicode replaced at /notes/" in c["reason"], c["reason"]


def test_a_lone_surrogate_in_a_remote_error_message(world: dict[str, Any]) -> None:
    for vid in ("hx-surrogate-error", "hr-surrogate-error"):
        c = cell(world, vid)
        assert c["outcome"] == "fail" and "refused" in c["reason"], c["reason"]
        assert "caf\ufffd \ufffd here" in c["reason"] and "invalid Unicode replaced" in c["reason"]
    internal = cell(world, "hx-surrogate-internal")
    assert internal["outcome"] == "error" and "\ufffd" in internal["reason"]
    assert "\x1b" not in internal["reason"] and "\n" not in internal["reason"]


def test_nan_and_infinity_in_an_in_process_answer(world: dict[str, Any]) -> None:
    nan, inf = cell(world, "hi-nan"), cell(world, "hi-inf")
    assert nan["outcome"] == "error" and "non-finite number (nan) at /fields/title" in nan["reason"]
    assert inf["outcome"] == "error" and "non-finite number (inf) at /notes/0" in inf["reason"]


def test_nan_in_the_wire_json(world: dict[str, Any]) -> None:
    for vid in ("hr-nan", "hx-nan", "hp-nan"):
        c = cell(world, vid)
        assert c["outcome"] == "error" and "non-finite number (nan) at /fields/title" in c["reason"], (vid, c["reason"])
    minus = cell(world, "hx-infinity")
    assert minus["outcome"] == "error" and "non-finite number (-inf) at /notes/0" in minus["reason"]


def test_invalid_utf8_on_the_wire(world: dict[str, Any]) -> None:
    """Undecodable bytes in a wire answer are replaced, as a lone surrogate in an in-process
    one is: the check judges what is left, and the reason says what was repaired."""
    for vid in ("hr-bad-utf8", "hx-bad-utf8"):
        c = cell(world, vid)
        assert c["outcome"] == "fail" and "invalid Unicode replaced at /fields/title" in c["reason"], (vid, c["reason"])
        assert "\ufffd" in c["reason"] and len(c["reason"]) < REASON_BOUND


def test_an_int_and_a_tuple_implementation_version(world: dict[str, Any]) -> None:
    assert vendor(world, "hi-int-version")["version"] == "3"
    assert vendor(world, "hi-tuple-version")["version"] == "1.2.rc1"
    for vid in ("hi-int-version", "hi-tuple-version"):
        assert cell(world, vid)["outcome"] == "fail"  # it read nothing: every field lost


def test_a_hostile_describe_or_health_answer(world: dict[str, Any]) -> None:
    """A version with a lone surrogate and control characters becomes one valid line; a
    describe with NaN or a health answer that is not a JSON object leaves the vendor
    unrunnable with a bounded reason, and its cells error."""
    for vid in ("hr-version-surrogate", "hx-version-surrogate"):
        shown = vendor(world, vid)["version"]
        assert shown.startswith("1.0-\ufffd") and shown.isprintable() and len(shown) < 120, shown
    for vid in UNRUNNABLE:
        entry = vendor(world, vid)
        assert not entry["runnable"] and len(entry["reason"]) < REASON_BOUND and entry["reason"].isprintable(), entry
        c = cell(world, vid)
        assert c["outcome"] == "error" and "cannot run" in c["reason"], c["reason"]


def test_a_five_megabyte_unsupported_message(world: dict[str, Any]) -> None:
    c = cell(world, "hi-huge-unsupported")
    assert c["outcome"] == "unsupported" and "more characters cut" in c["reason"]
    # a 3 MB refusal over the wire breaks the error schema: an error, its reason still one bounded line
    assert cell(world, "hx-huge-error")["outcome"] == "error"
    assert (world["out"] / "results.json").stat().st_size < 1024 * 1024


def test_an_answer_nested_980_deep_keeps_the_outputs_small(world: dict[str, Any]) -> None:
    for vid in ("hi-deep", "hp-deep", "hr-deep-980"):
        c = cell(world, vid)
        assert c["outcome"] == "error", (vid, c["reason"])
        assert "violates the protocol: nesting deeper than the limit of 64 at /fields/title/0/0" in c["reason"], c["reason"]
        for art in c["artifacts"].values():
            if art["path"]:
                assert (world["out"] / art["path"]).stat().st_size < 1024 * 1024
    assert (world["out"] / "results.json").stat().st_size < 1024 * 1024
    artifacts = world["out"] / "artifacts"
    assert all(p.stat().st_size < 1024 * 1024 for p in artifacts.iterdir() if p.suffix == ".json")


def test_absurd_nesting_on_the_wire_is_the_vendors_violation_not_a_harness_error(world: dict[str, Any]) -> None:
    """100 000 nested arrays exhaust the JSON decoder's recursion: that is the vendor's answer
    breaking the protocol, named as such, not "harness error" (the harness did nothing wrong)."""
    for vid in ("hr-deep", "hx-deep"):
        c = cell(world, vid)
        assert c["outcome"] == "error" and vid in c["reason"], c["reason"]
        assert "harness error" not in c["reason"] and "nest" in c["reason"], c["reason"]


def test_a_vendor_echoing_its_token_leaks_it_nowhere(world: dict[str, Any]) -> None:
    c = cell(world, "hh-echo-token")
    assert c["outcome"] == "fail" and "[redacted]" in c["reason"] and TOKEN not in c["reason"]
    store = world["store"]
    places = [world["out"], world["home"], *store.parent.glob(store.name + "*")]
    assert files_holding(TOKEN.encode(), *places) == []


def test_report_and_resume_work_on_the_stored_run(world: dict[str, Any]) -> None:
    run_id = bundle_of(world)["run"]["id"]
    home, store, tmp = world["home"], world["store"], world["tmp"]
    before = {cid: comparable(c) for cid, c in cells(store).items()}
    report = aiii(home, "report", "--run", run_id, "--store", str(store), "--out", str(tmp / "again"))
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
    again = check_reports(tmp / "again")
    assert {c["id"]: comparable(c) for c in again["cells"]} == {c["id"]: comparable(c) for c in bundle_of(world)["cells"]}
    resumed = aiii(home, "run", "--resume", run_id, "--store", str(store), "-q")
    assert resumed.returncode in (0, 1) and "Traceback" not in resumed.stderr, resumed.stderr
    check_reports(world["out"])
    assert {cid: comparable(c) for cid, c in cells(store).items()} == before


def test_no_vendor_process_is_left_behind(world: dict[str, Any]) -> None:
    ours = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(world["vendors"]) not in ours and "--vendor hr-" not in ours
    assert sys.executable  # the raw TLS server (ours, ended by the fixture) is the only one expected
