"""Opt-out: every precedence and combination rule (each test names its spec section),
malformed and hostile signals, the loopback test site, and a run of the optout profile.

Evaluators are the vendors' adapter classes, loaded the harness's way and called with
params that name a URL on a real test site (``conformance.optout.site``), so every answer
comes from a real HTTP fetch with requests.  The cases are those of
``test_vectors/optout/*-cases.json``, looked up by id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiii_kit import Adapter, Asset
from aiii_kit.optout import crawl, plus_decisions, training_mining_decisions
from aiii_kit.vocab import NO_MEDIA_TYPE, OPTOUT_PURPOSES
from helpers import ROOT

from conformance.optout import CHANNEL_FAMILY, evaluate_step, plus_code
from conformance.optout.site import TestSite, serving
from runner.schema import first_error
from runner.transports.inproc import load_adapter_class
from runner.vendors import load_manifest

VECTORS = ROOT / "test_vectors" / "optout"
EMPTY = Asset(b"", NO_MEDIA_TYPE)
EVALUATORS = ("optout-reference", "protego", "urllib-robotparser", "http-sf", "http-sfv")


def _adapter(vendor: str) -> tuple[Adapter, list[str]]:
    manifest = load_manifest(ROOT / "vendors" / vendor / "vendor.toml")
    cap = manifest.capability("optout.evaluate")
    assert cap is not None
    return load_adapter_class(manifest)(config=dict(manifest.config)), list(cap.options["channels"])


ADAPTERS = {v: _adapter(v) for v in EVALUATORS}
CASES: dict[str, dict[str, Any]] = {
    c["id"]: c for name in ("precedence", "malformed", "conflict")
    for c in json.loads((VECTORS / f"{name}-cases.json").read_text())["cases"]
}


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with serving() as s:
        yield s


def evaluate(site: TestSite, vendor: str, case_id: str, inline: bool = False) -> dict[str, Any]:
    """One evaluator's schema-valid answer on one case's site."""
    case = CASES[case_id]
    adapter, _channels = ADAPTERS[vendor]
    families = sorted({CHANNEL_FAMILY[c] for c in case["channels"]})
    published = site.publish(case["site"])
    params = {"url": published.url(case["resource"]), "agent": case.get("agent", "GPTBot"),
              "purposes": list(case["expect"]) or list(OPTOUT_PURPOSES), "channels": families,
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


# -- TDMRep -------------------------------------------------------------------------------


# -- AI preferences -------------------------------------------------------------------------


# -- robots.txt ---------------------------------------------------------------------------


# -- the declarer ---------------------------------------------------------------------------

INTENTS = json.loads((VECTORS / "intents.json").read_text())


def test_intent_agents_are_ai_crawlers_of_the_ai_robots_list() -> None:
    agents = json.loads((VECTORS / "ai-robots.json").read_text())
    assert {a for names in INTENTS["agents"].values() for a in names} <= set(agents)


def test_plus_and_training_mining_vocabularies() -> None:
    """PLUS Data Mining (bare codes and vocabulary URIs read alike; SEE... codes prohibit)
    and the CAWG training-mining assertion (constrained without information is not allowed)."""
    assert plus_decisions("DMI-PROHIBITED-AIMLTRAINING") == plus_decisions("http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING")
    assert plus_decisions("DMI-PROHIBITED-AIMLTRAINING") == {"train-ai": "denied", "train-genai": "denied", "search": "allowed",
                                                             "inference": "unknown", "data-mining": "allowed"}
    assert plus_decisions("DMI-PROHIBITED-SEELINKEDRIGHTSEXPR")["data-mining"] == "denied"
    assert plus_decisions("DMI-NONSENSE") == dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    said = training_mining_decisions({"ai_training": {"use": "constrained", "constraint_info": None},
                                      "ai_inference": {"use": "constrained", "constraint_info": "https://example.org/terms"},
                                      "data_mining": {"use": "allowed"}})
    assert said == {"train-ai": "denied", "train-genai": "unknown", "search": "unknown", "inference": "unknown",
                    "data-mining": "allowed"}
    assert plus_code({"train-ai": "denied", "train-genai": "allowed"}) is None  # no PLUS code says this
    assert plus_code({p: "denied" for p in OPTOUT_PURPOSES if p != "search"} | {"search": "allowed"}) == "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"


# -- the test site ------------------------------------------------------------------------


def test_evaluate_step_needs_the_run_to_open_the_site() -> None:
    with pytest.raises(Exception, match="test site is not running"):
        evaluate_step("optout-reference", [{"path": "/", "text": ""}], "/", "GPTBot", ["train-ai"], ["robots"], "fetch", 1)


# -- the profile, end to end ----------------------------------------------------------------


# -- bad input ------------------------------------------------------------------------------
