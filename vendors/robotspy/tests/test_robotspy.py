"""robotspy alone: RFC 9309 matching and access results on a real loopback test site,
fetched by the kit's crawler, and the one rule of the cases it reads differently."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiii_kit import Unsupported
from optout_cases import CASES, EMPTY, cases_of, decisions, evaluate_case, evaluator

from conformance.optout.site import TestSite, serving

ADAPTER, CHANNELS = evaluator("robotspy")
PROTEGO, _ = evaluator("protego")
CR_ONLY = "robots-cr-line-endings"


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with serving() as s:
        yield s


def test_manifest_reads_robots_only() -> None:
    assert CHANNELS == ["robots"]


@pytest.mark.parametrize("case_id", [c for c in cases_of({"robots"}, "precedence", "malformed") if c != CR_ONLY])
def test_rfc9309_cases_give_the_spec_answer(site: TestSite, case_id: str) -> None:
    """RFC 9309 2.2.1 (groups), 2.2.2 (longest match, allow on a tie), 2.2.3 (``*``, ``$``),
    2.3.1 (4xx allows, 5xx and timeouts disallow, five redirects), 2.5 (a huge file)."""
    got = decisions(evaluate_case(site, ADAPTER, case_id))
    assert got == CASES[case_id]["expect"], f"{case_id} ({CASES[case_id]['spec']}): {got}"


def test_finding_cr_alone_does_not_end_a_line(site: TestSite) -> None:
    """RFC 9309 2.2's EOL is CR, LF or CRLF; RobotsParser.from_string splits on LF only, so
    a file whose lines end in CR is one line it does not understand: everything allowed.
    Protego reads the same file as the spec does."""
    assert decisions(evaluate_case(site, ADAPTER, CR_ONLY)) == {"train-ai": "allowed"}
    assert decisions(evaluate_case(site, PROTEGO, CR_ONLY)) == CASES[CR_ONLY]["expect"] == {"train-ai": "denied"}


def test_lines_it_does_not_understand_become_notes(site: TestSite) -> None:
    answer = evaluate_case(site, ADAPTER, "content-signal-no-restricts-an-allowed-crawl", families=["robots"])
    assert decisions(answer)["train-ai"] == "allowed"
    assert any("Content-Signal" in note for note in answer["notes"]), answer["notes"]


def test_other_signal_families_are_unsupported() -> None:
    with pytest.raises(Unsupported, match="robots.txt only"):
        ADAPTER.optout_evaluate(EMPTY, {"url": "http://127.0.0.1:9/", "agent": "GPTBot", "purposes": ["train-ai"],
                                        "channels": ["content-signal"]})
