"""The opt-out cases (``test_vectors/optout/*-cases.json``) put to one evaluator: its
adapter loaded the harness's way, the case's site published on a real loopback test site
(``conformance.optout.site``), and a schema-checked answer.  For the tests of the
opt-out evaluators, in ``tests/e2e`` and ``vendors/<id>/tests``."""

from __future__ import annotations

import json
from typing import Any

from aiii_kit import Adapter, Asset
from aiii_kit.optout import crawl
from aiii_kit.vocab import NO_MEDIA_TYPE, OPTOUT_PURPOSES
from helpers import ROOT

from conformance.optout import SIGNAL_FAMILY
from conformance.optout.site import TestSite
from runner.schema import first_error
from runner.transports.inproc import load_adapter_class
from runner.vendors import load_manifest

VECTORS = ROOT / "test_vectors" / "optout"
EMPTY = Asset(b"", NO_MEDIA_TYPE)
CASES: dict[str, dict[str, Any]] = {
    c["id"]: c for name in ("precedence", "malformed", "conflict")
    for c in json.loads((VECTORS / f"{name}-cases.json").read_text())["cases"]
}


def evaluator(vendor: str) -> tuple[Adapter, list[str]]:
    """The vendor's adapter and the channels its manifest says it reads."""
    manifest = load_manifest(ROOT / "vendors" / vendor / "vendor.toml")
    cap = manifest.capability("optout.evaluate")
    assert cap is not None
    return load_adapter_class(manifest)(config=dict(manifest.config)), list(cap.options["channels"])


def evaluate_case(site: TestSite, adapter: Adapter, case_id: str, inline: bool = False,
                  families: list[str] | None = None) -> dict[str, Any]:
    """One evaluator's schema-valid answer on one case's site (the case's families unless
    ``families`` names others); ``inline``: the material the harness's crawl saw."""
    case = CASES[case_id]
    published = site.publish(case["site"])
    params = {"url": published.url(case["resource"]), "agent": case.get("agent", "GPTBot"),
              "purposes": list(case["expect"]) or list(OPTOUT_PURPOSES),
              "channels": families or sorted({SIGNAL_FAMILY[c] for c in case["channels"]}),
              "timeout_s": float(case.get("timeout_s", 2))}
    asset = EMPTY
    if inline:
        material, body = crawl(params["url"], params["agent"], params["timeout_s"])
        params["material"], asset = material, Asset(body, NO_MEDIA_TYPE)
    assert first_error("aiii:protocol/v1/optout.evaluate.params", params) is None
    answer = adapter.call("optout.evaluate", asset, params)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/optout.evaluate.result", answer) is None, answer
    return answer


def decisions(answer: dict[str, Any]) -> dict[str, str]:
    return {p: d["decision"] for p, d in answer["decisions"].items()}


def cases_of(channels: set[str], *files: str) -> list[str]:
    """Ids of the cases (of the named files: precedence, malformed) that exercise only these channels."""
    out = []
    for name in files:
        for c in json.loads((VECTORS / f"{name}-cases.json").read_text())["cases"]:
            if set(c["channels"]) <= channels:
                out.append(c["id"])
    return out
