"""The interoperability score (reports/score.py): what counts, what is left out and
counted beside, and pipelines and catalogue reads attributed to the right pairs."""

from __future__ import annotations

from typing import Any

from reports.score import METHOD, NONE, family_scores, pair_scores, vendor_scores


def _cell(cid: str, producer: str | None, consumer: str | None, outcome: str, check: str = "metadata.roundtrip") -> dict[str, Any]:
    return {"id": cid, "check": check, "producer": producer, "consumer": consumer, "outcome": outcome}


BUNDLE = {
    "checks": [{"id": "metadata.roundtrip", "family": "metadata"}, {"id": "provenance.pipeline", "family": "provenance"}],
    "cells": [
        _cell("1", "a", "b", "pass"), _cell("2", "a", "b", "fail"), _cell("3", "a", "b", "unsupported"),
        _cell("4", "a", "b", "xfail"), _cell("5", "a", "b", "xpass"), _cell("6", "a", "b", "inconclusive"),
        _cell("7", "b", "a", "blocked"),
        _cell("8", "a+c", "b", "pass", "provenance.pipeline"), _cell("9", None, "b", "error", "provenance.pipeline"),
    ],
}


def test_a_pairs_score_is_working_over_judged_with_the_rest_counted_beside() -> None:
    ab = pair_scores(BUNDLE)["metadata"][("a", "b")]
    assert (ab.working, ab.judged, ab.not_judged) == (2, 4, 2)
    assert ab.value == 0.5
    assert ab.as_dict() == {"score": 0.5, "working": 2, "judged": 4, "not_judged": 2,
                            "outcomes": {"fail": 1, "inconclusive": 1, "pass": 1, "unsupported": 1, "xfail": 1, "xpass": 1}}
    ba = pair_scores(BUNDLE)["metadata"][("b", "a")]
    assert ba.value is None and ba.as_dict()["score"] is None and ba.not_judged == 1, "nothing judged: no score, not 0"


def test_a_pipeline_counts_for_each_producer_and_a_catalogue_read_has_no_producer() -> None:
    prov = pair_scores(BUNDLE)["provenance"]
    assert set(prov) == {("a", "b"), ("c", "b"), (NONE, "b")}
    assert prov[(NONE, "b")].value == 0.0
    vendors = vendor_scores(BUNDLE)
    assert vendors["c"]["provenance"].value == 1.0 and "metadata" not in vendors["c"]
    assert vendors["b"]["provenance"].judged == 2 and NONE not in vendors


def test_flaky_cells_are_left_out_and_the_method_is_named() -> None:
    assert family_scores(BUNDLE, flaky={"2", "4"})["metadata"].value == 1.0
    assert family_scores(BUNDLE)["metadata"].value == 0.5
    assert METHOD == "interop-score/1"
