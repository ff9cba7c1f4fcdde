"""datadiligence alone: its X-Robots-Tag, tdm-reservation and C2PA rules given what a
crawler fetched from a real loopback test site (the C2PA files signed by c2pa-python),
the places where it reads a signal differently from the spec, and that it stays offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from aiii_kit import Asset, Unsupported
from aiii_kit.vocab import OPTOUT_PURPOSES
from helpers import ROOT
from optout_cases import CASES, EMPTY, cases_of, decisions, evaluate_case, evaluator
from test_vendors_provenance import KODIM01, c2pa_python, pki, sign_params  # noqa: F401 - fixtures

from conformance.optout.site import TestSite, serving
from runner.derive import derive_bytes
from runner.pki import TestPKI
from runner.transports.inproc import InprocTransport

ADAPTER, CHANNELS = evaluator("datadiligence")
#: Cases it reads as the spec does; the others are the findings tested one by one below.
FINDINGS = ("x-robots-tag-other-agent-rule-list", "x-robots-tag-uppercase", "x-robots-tag-agent-case",
            "tdmrep-header-value-2", "tdmrep-header-value-yes")
AGREED = [c for c in cases_of({"x-robots-tag", "tdmrep-header"}, "precedence", "malformed") if c not in FINDINGS]
C2PA_PURPOSES = ["train-ai", "train-genai", "inference", "data-mining"]


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with serving() as s:
        yield s


def _photo(site: TestSite, data: bytes, purposes: list[str], families: list[str]) -> dict[str, Any]:
    published = site.publish([{"path": "/photo.jpg", "headers": [["Content-Type", "image/jpeg"]], "body_base64": _b64(data)}])
    return ADAPTER.call("optout.evaluate", EMPTY, {"url": published.url("/photo.jpg"), "agent": "GPTBot",
                                                  "purposes": purposes, "channels": families, "timeout_s": 2})


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def test_manifest_reads_headers_and_c2pa() -> None:
    assert CHANNELS == ["tdmrep-header", "x-robots-tag", "c2pa-training-mining", "cawg-training-mining"]


@pytest.mark.parametrize("case_id", AGREED)
def test_header_cases_it_reads_as_the_spec_does(site: TestSite, case_id: str) -> None:
    """noai and noimageai deny AI training, for every crawler or for the one named; other
    rules leave it allowed; two fields both count; a tdm-reservation of 1 after a redirect
    reserves; a response that never comes says nothing."""
    got = decisions(evaluate_case(site, ADAPTER, case_id))
    assert got == CASES[case_id]["expect"], f"{case_id} ({CASES[case_id]['spec']}): {got}"


def test_finding_noai_is_matched_case_sensitively(site: TestSite) -> None:
    """Robots rules and crawler names are case-insensitive (Google's robots meta tag
    specification); XRobotsTagHeader compares ``value.strip() in ["noai", "noimageai"]``
    and the agent with ``==``: NOAI, and gptbot: noai for GPTBot, are not reservations."""
    for case_id in ("x-robots-tag-uppercase", "x-robots-tag-agent-case"):
        assert CASES[case_id]["expect"]["train-ai"] == "denied"
        assert decisions(evaluate_case(site, ADAPTER, case_id)) == {"train-ai": "allowed", "train-genai": "allowed"}


def test_finding_another_crawlers_rule_list_binds_every_crawler(site: TestSite) -> None:
    """``otherbot: noindex, noai`` is otherbot's (Google's specification); datadiligence splits
    the field on commas first, so the bare ``noai`` item counts for GPTBot too."""
    assert CASES["x-robots-tag-other-agent-rule-list"]["expect"]["train-ai"] == "allowed"
    assert decisions(evaluate_case(site, ADAPTER, "x-robots-tag-other-agent-rule-list"))["train-ai"] == "denied"


def test_finding_tdm_reservation_other_than_1_is_read_as_allowed(site: TestSite) -> None:
    """TDMRep: 0 or 1, anything else leaves the reservation unset (unknown); TDMRepHeader
    answers ``value.strip() != "1"``, so 2 and yes read as not reserved, i.e. allowed."""
    for case_id in ("tdmrep-header-value-2", "tdmrep-header-value-yes"):
        assert set(CASES[case_id]["expect"].values()) == {"unknown"}
        assert set(decisions(evaluate_case(site, ADAPTER, case_id)).values()) == {"allowed"}


def _signed(c2pa_python: InprocTransport, pki: TestPKI, label: str, entries: dict[str, Any]) -> bytes:  # noqa: F811
    params = sign_params(pki, "aiii datadiligence", label) | {"training_mining": entries}
    source = Asset(derive_bytes(KODIM01, "image/png", "image/jpeg"), "image/jpeg")
    out = c2pa_python.call("provenance.sign", source, params, 60)
    assert isinstance(out, Asset)
    return out.data


NO_TRAINING = {"ai_training": {"use": "notAllowed"}, "ai_generative_training": {"use": "notAllowed"},
               "ai_inference": {"use": "allowed"}, "data_mining": {"use": "allowed"}}


def test_c2pa_training_mining_notallowed_denies_every_use_it_checks(site: TestSite, c2pa_python: InprocTransport,  # noqa: F811
                                                                    pki: TestPKI) -> None:  # noqa: F811
    """C2PAMetadataRule answers one yes or no for the four entries it checks: any notAllowed
    makes the whole file not allowed, so inference and data mining, allowed here, read as
    denied.  Search: no entry speaks to it."""
    answer = _photo(site, _signed(c2pa_python, pki, "c2pa.training-mining", NO_TRAINING), list(OPTOUT_PURPOSES), ["c2pa"])
    assert decisions(answer) == {"train-ai": "denied", "train-genai": "denied", "search": "unknown",
                                 "inference": "denied", "data-mining": "denied"}
    allowed = {k: {"use": "allowed"} for k in NO_TRAINING}
    answer = _photo(site, _signed(c2pa_python, pki, "c2pa.training-mining", allowed), C2PA_PURPOSES, ["c2pa"])
    assert set(decisions(answer).values()) == {"allowed"}


def test_finding_cawg_training_mining_is_not_read(site: TestSite, c2pa_python: InprocTransport, pki: TestPKI) -> None:  # noqa: F811
    """The rule looks for the label c2pa.training-mining only (C2PA 1.x); its successor
    cawg.training-mining, the one C2PA 2.x files carry, reads as nothing reserved."""
    answer = _photo(site, _signed(c2pa_python, pki, "cawg.training-mining", NO_TRAINING), C2PA_PURPOSES, ["c2pa"])
    assert set(decisions(answer).values()) == {"allowed"}


def test_a_file_without_manifest_is_allowed_and_a_page_is_no_image(site: TestSite) -> None:
    """No manifest: the rule logs the reader's error (a note here) and allows.  A body that
    Pillow cannot open is refused by the rule: unknown, with its message."""
    answer = _photo(site, derive_bytes(KODIM01, "image/png", "image/jpeg"), C2PA_PURPOSES, ["c2pa"])
    assert set(decisions(answer).values()) == {"allowed"}
    assert any("ManifestNotFound" in n for n in answer["notes"]), answer["notes"]
    page = evaluate_case(site, ADAPTER, "x-robots-tag-noai", families=["c2pa"])
    assert set(decisions(page).values()) == {"unknown"}
    assert any("Invalid image data" in n for n in page["notes"]), page["notes"]


def test_inline_material_is_read_without_any_connection() -> None:
    """Given the material inline (the docker placement), the rules get headers and bytes and
    nothing is fetched: the URL names a host that does not exist."""
    material = {"robots": {"url": "http://site.test/robots.txt", "status": 404, "headers": [], "redirects": [], "error": None},
                "tdmrep": {"url": "http://site.test/.well-known/tdmrep.json", "status": 404, "headers": [], "redirects": [],
                           "error": None},
                "resource": {"url": "http://site.test/page.html", "status": 200, "redirects": [], "error": None,
                             "headers": [["Content-Type", "text/html"], ["X-Robots-Tag", "noai"], ["tdm-reservation", "0"]]}}
    answer = ADAPTER.call("optout.evaluate", EMPTY, {"url": "http://site.test/page.html", "agent": "GPTBot",
                                                     "purposes": ["train-ai", "data-mining"], "material": material,
                                                     "channels": ["x-robots-tag", "tdmrep"]})
    assert answer["channels"] == {"x-robots-tag": {"train-ai": "denied", "data-mining": "unknown"},
                                  "tdmrep": {"train-ai": "allowed", "data-mining": "allowed"}}
    assert decisions(answer) == {"train-ai": "denied", "data-mining": "allowed"}  # any rule that says no wins


def test_import_goes_nowhere_and_prints_nothing() -> None:
    """Importing the adapter (and datadiligence with it) opens no connection and looks up
    no name (an audit hook on socket.connect and socket.getaddrinfo); the Spawning API
    evaluator, the one online mode, is deregistered; its missing-key notice is swallowed."""
    probe = (
        "import sys, json\n"
        "seen = []\n"
        "sys.addaudithook(lambda e, a: seen.append(e) if e in ('socket.connect', 'socket.getaddrinfo') else None)\n"
        "from runner.transports.inproc import load_adapter_class\n"
        "from runner.vendors import load_manifest\n"
        "from pathlib import Path\n"
        f"load_adapter_class(load_manifest(Path({str(ROOT / 'vendors' / 'datadiligence' / 'vendor.toml')!r})))\n"
        "import datadiligence\n"
        "sys.stderr.write(json.dumps({'seen': seen, 'evaluators': datadiligence.list_evaluators()}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SPAWNING_OPTS_KEY"} | {"PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'kit'}"}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env, check=True)
    assert proc.stdout == ""
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == {"seen": [], "evaluators": ["postprocess", "file"]}


def test_other_signal_families_are_unsupported() -> None:
    with pytest.raises(Unsupported, match="datadiligence reads"):
        ADAPTER.optout_evaluate(EMPTY, {"url": "http://127.0.0.1:9/", "agent": "GPTBot", "purposes": ["train-ai"],
                                        "channels": ["robots", "aipref"]})
