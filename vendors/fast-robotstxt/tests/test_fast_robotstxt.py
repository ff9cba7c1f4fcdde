"""fast-robotstxt alone: Google's robots.txt matching (RFC 9309) and the fork's reading of
Cloudflare's Content-Signal, fetched over HTTP from a real loopback test site; and the two
places where its Content-Signal reading differs from the harness's reference."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiii_kit import Unsupported
from optout_cases import CASES, EMPTY, cases_of, decisions, evaluate_case, evaluator

from conformance.optout.site import TestSite, serving

ADAPTER, CHANNELS = evaluator("fast-robotstxt")
REFERENCE, _ = evaluator("optout-reference")
#: Every robots.txt and Content-Signal case (precedence and malformed) but the one where
#: the fork reads the * group for an agent that has a group of its own (tested below).
AGREED = [c for c in cases_of({"robots", "content-signal"}, "precedence", "malformed")
          if c != "content-signal-star-group-not-read-for-a-named-agent"]


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with serving() as s:
        yield s


def test_manifest_reads_robots_and_content_signal() -> None:
    assert CHANNELS == ["robots", "content-signal"]


@pytest.mark.parametrize("case_id", AGREED)
def test_rfc9309_and_content_signal_cases_give_the_spec_answer(site: TestSite, case_id: str) -> None:
    """RFC 9309 2.2.1-2.2.3 matching, 2.3.1 access results, and the Content-Signal rules:
    (a) yes grants, (b) no restricts, a Disallow is not lifted by a yes, the named group
    over *, no key for data mining."""
    got = decisions(evaluate_case(site, ADAPTER, case_id))
    assert got == CASES[case_id]["expect"], f"{case_id} ({CASES[case_id]['spec']}): {got}"


def test_content_signal_is_read_only_when_asked(site: TestSite) -> None:
    """Asked for robots alone, an Allow: / with ai-train=no allows training: the
    Content-Signal line is another family's answer, reported only when asked for."""
    answer = evaluate_case(site, ADAPTER, "content-signal-no-restricts-an-allowed-crawl", families=["robots"])
    assert decisions(answer)["train-ai"] == "allowed" and set(answer["channels"]) == {"robots"}
    both = evaluate_case(site, ADAPTER, "content-signal-no-restricts-an-allowed-crawl")
    assert both["channels"]["content-signal"] == {"train-ai": "denied", "train-genai": "denied", "search": "allowed",
                                                  "inference": "denied", "data-mining": "unknown"}
    assert both["channels"]["robots"]["train-ai"] == "allowed"


def test_finding_star_content_signal_read_for_an_agent_with_its_own_group(site: TestSite) -> None:
    """The fork keeps the first Content-Signal of the * group and returns it whenever the
    agent's own group has none (RobotsMatcher::GetContentSignal), where RFC 9309 2.2.1
    selects the agent's group alone: GPTBot, with a group of its own, is denied training
    and search by the * group's line.  The reference says unknown."""
    case = "content-signal-star-group-not-read-for-a-named-agent"
    assert decisions(evaluate_case(site, ADAPTER, case)) == {"train-ai": "denied", "search": "denied"}
    assert decisions(evaluate_case(site, REFERENCE, case)) == CASES[case]["expect"] == {"train-ai": "unknown", "search": "unknown"}


def test_finding_the_first_of_two_content_signal_lines_wins(site: TestSite) -> None:
    """ai-train=yes then ai-train=no in one group: the fork keeps the first line whole;
    the reference lets a no win (the policy's (b)).  The policy text does not decide it:
    a conflicts case, reported, not judged."""
    case = "content-signal-two-lines-disagree"
    assert evaluate_case(site, ADAPTER, case)["channels"]["content-signal"]["train-ai"] == "allowed"
    assert evaluate_case(site, REFERENCE, case)["channels"]["content-signal"]["train-ai"] == "denied"


def test_inline_material_gives_the_same_answers_as_fetching(site: TestSite) -> None:
    for case_id in ("content-signal-yes-does-not-lift-a-disallow", "robots-dollar-match", "robots-503"):
        assert decisions(evaluate_case(site, ADAPTER, case_id, inline=True)) == decisions(evaluate_case(site, ADAPTER, case_id))


def test_other_signal_families_are_unsupported() -> None:
    with pytest.raises(Unsupported, match="robots.txt and its Content-Signal"):
        ADAPTER.optout_evaluate(EMPTY, {"url": "http://127.0.0.1:9/", "agent": "GPTBot", "purposes": ["train-ai"],
                                        "channels": ["tdmrep"]})
