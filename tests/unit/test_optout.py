"""Opt-out without a site: the intent agents, the PLUS and CAWG training-mining vocabularies,
and the evaluate step refusing to run before the run opens its test site.  The evaluators
on the loopback test site and the optout profile run are in tests/e2e/test_optout_e2e.py."""

from __future__ import annotations

import json

import pytest
from aiii_kit.optout import content_signal_decisions, plus_decisions, training_mining_decisions
from aiii_kit.vocab import OPTOUT_EXPRESSES, OPTOUT_PURPOSES, OPTOUT_SIGNAL_FAMILIES, OPTOUT_SITE_CHANNELS
from helpers import ROOT

from conformance.optout import SIGNAL_FAMILY, evaluate_step, plus_code

VECTORS = ROOT / "test_vectors" / "optout"


# -- TDMRep -------------------------------------------------------------------------------


# -- AI preferences -------------------------------------------------------------------------


# -- robots.txt ---------------------------------------------------------------------------


# -- Content-Signal ----------------------------------------------------------------------------

def test_content_signal_keys_map_to_purposes_and_absence_is_unknown() -> None:
    """Content Signals Policy: ai-train is all AI training, ai-input is input to a model
    (inference), search is search; yes allows, no denies, a key not given and data mining
    (no key) are unknown."""
    assert content_signal_decisions({"ai-train": False, "ai-input": True}) == {
        "train-ai": "denied", "train-genai": "denied", "search": "unknown", "inference": "allowed", "data-mining": "unknown"}
    assert content_signal_decisions({}) == dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    said = content_signal_decisions({"ai-train": True, "ai-input": True, "search": True})
    assert {p for p, d in said.items() if d != "unknown"} == set(OPTOUT_EXPRESSES["content-signal"])


def test_protocol_schemas_list_every_channel_and_family_of_the_vocabulary() -> None:
    """The channel a declarer writes and the families an evaluator is asked for are listed in
    the kit's schemas as in aiii_kit.vocab: a channel added to one is added to the other."""
    schemas = ROOT / "kit" / "aiii_kit" / "protocol" / "schemas"
    declare = json.loads((schemas / "optout.declare.params.json").read_text())
    evaluate = json.loads((schemas / "optout.evaluate.params.json").read_text())
    result = json.loads((schemas / "optout.evaluate.result.json").read_text())
    assert set(declare["properties"]["channel"]["enum"]) == set(OPTOUT_SITE_CHANNELS)
    assert evaluate["properties"]["channels"]["items"]["enum"] == list(OPTOUT_SIGNAL_FAMILIES)
    assert result["properties"]["channels"]["propertyNames"]["enum"] == list(OPTOUT_SIGNAL_FAMILIES)
    assert set(OPTOUT_EXPRESSES) == set(OPTOUT_SIGNAL_FAMILIES) == set(SIGNAL_FAMILY.values())


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
