"""Opt-out without a site: the intent agents, the PLUS and CAWG training-mining vocabularies,
and the evaluate step refusing to run before the run opens its test site.  The evaluators
on the loopback test site and the optout profile run are in tests/e2e/test_optout_e2e.py."""

from __future__ import annotations

import json

import pytest
from aiii_kit.optout import plus_decisions, training_mining_decisions
from aiii_kit.vocab import OPTOUT_PURPOSES
from helpers import ROOT

from conformance.optout import evaluate_step, plus_code

VECTORS = ROOT / "test_vectors" / "optout"


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
