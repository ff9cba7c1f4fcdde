"""Opt-out: every precedence and combination rule (each test names its spec section),
malformed and hostile signals, the loopback test site, and a run of the optout profile.

Evaluators are the vendors' adapter classes, loaded the harness's way and called with
params that name a URL on a real test site (``conformance.optout.site``), so every answer
comes from a real HTTP fetch with requests.  The cases are those of
``test_vectors/optout/*-cases.json``, looked up by id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiii_kit.optout import crawl
from aiii_kit.vocab import OPTOUT_EXPRESSES, OPTOUT_PURPOSES, OPTOUT_SITE_CHANNELS
from helpers import ROOT, aiii, cells, json_vector_folder
from optout_cases import CASES, EMPTY, VECTORS, decisions, evaluate_case, evaluator

from conformance.optout.site import TestSite, serving
from reports.matrix import build_matrices
from runner.schema import first_error
from runner.transports.inproc import load_adapter_class
from runner.vendors import load_manifest

EVALUATORS = ("optout-reference", "protego", "urllib-robotparser", "http-sf", "http-sfv")
ADAPTERS = {v: evaluator(v) for v in EVALUATORS}


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with serving() as s:
        yield s


def evaluate(site: TestSite, vendor: str, case_id: str, inline: bool = False) -> dict[str, Any]:
    """One evaluator's schema-valid answer on one case's site."""
    return evaluate_case(site, ADAPTERS[vendor][0], case_id, inline)


def readers_of(case_id: str) -> list[str]:
    return [v for v in EVALUATORS if all(c in ADAPTERS[v][1] for c in CASES[case_id]["channels"])]


def assert_case(site: TestSite, case_id: str, vendors: tuple[str, ...] = ("optout-reference",)) -> None:
    for vendor in vendors:
        got = decisions(evaluate(site, vendor, case_id))
        assert got == CASES[case_id]["expect"], f"{vendor} on {case_id} ({CASES[case_id]['spec']}): {got}"


# -- TDMRep -------------------------------------------------------------------------------

def test_tdmrep_priority_file_then_header_then_embedded(site: TestSite) -> None:
    """TDMRep, "Priority": /.well-known/tdmrep.json beats the HTTP header, which beats
    the HTML meta element, EPUB metadata and PDF XMP."""
    for case_id in ("tdmrep-file-beats-header", "tdmrep-file-beats-header-open", "tdmrep-header-beats-html",
                    "tdmrep-header-beats-epub3", "tdmrep-file-beats-pdf"):
        assert_case(site, case_id)


def test_tdmrep_file_most_specific_location_wins(site: TestSite) -> None:
    """TDMRep, "TDM File": of the locations that match, the most specific decides; patterns
    use robots-style ``*`` and ``$``."""
    for case_id in ("tdmrep-file-most-specific-open", "tdmrep-file-most-specific-closed",
                    "tdmrep-file-dollar-match", "tdmrep-file-dollar-no-match"):
        assert_case(site, case_id)


def test_tdmrep_namespace_differs_between_epub3_and_pdf(site: TestSite) -> None:
    """TDMRep, "EPUB" and "PDF": EPUB 3 binds ``http://www.w3.org/ns/tdmrep#``, PDF XMP
    uses ``http://www.w3.org/ns/tdmrep/``; each carrier's property in the other's namespace
    is not a reservation."""
    for case_id in ("tdmrep-epub3-namespace", "tdmrep-epub3-pdf-namespace-ignored", "tdmrep-epub2-meta",
                    "tdmrep-pdf-namespace", "tdmrep-pdf-epub-namespace-ignored"):
        assert_case(site, case_id)


def test_tdmrep_values_other_than_0_and_1_are_unset(site: TestSite) -> None:
    """TDMRep, "tdm-reservation": 0 or 1; 2, "yes" or "true" leave it unset, and an unset
    (or unreadable) TDM file gives way to the header."""
    for case_id in ("tdmrep-header-value-2", "tdmrep-header-value-yes", "tdmrep-html-value-true",
                    "tdmrep-file-value-2-gives-way", "tdmrep-file-not-json", "tdmrep-file-not-utf8"):
        assert_case(site, case_id)


# -- AI preferences -------------------------------------------------------------------------

def test_aipref_any_disallow_wins(site: TestSite) -> None:
    """AI preferences (aipref vocabulary, combining): of a header and a robots.txt
    Content-Usage rule, whichever disallows wins."""
    for case_id in ("aipref-any-disallow-wins-robots", "aipref-any-disallow-wins-header"):
        assert_case(site, case_id)


def test_aipref_robots_rules_longest_path_wins(site: TestSite) -> None:
    """AI preferences (aipref attach, robots.txt): Content-Usage rules match paths like
    allow/disallow, the longest match deciding."""
    for case_id in ("aipref-robots-longest-prefix-open", "aipref-robots-longest-prefix-closed"):
        assert_case(site, case_id)


def test_aipref_train_ai_covers_genai_and_other_purposes_stay_unknown(site: TestSite) -> None:
    """AI preferences (aipref vocabulary): categories nest, so train-ai=n denies generative
    training; purposes without a key are unknown.  All three parsers agree."""
    assert_case(site, "aipref-genai-nests-in-train-ai", ("optout-reference", "http-sf", "http-sfv"))


@pytest.mark.parametrize("case_id", ["aipref-uppercase-key", "aipref-duplicate-key-last-wins", "aipref-bad-syntax",
                                     "aipref-unknown-value", "aipref-string-not-token", "aipref-non-ascii",
                                     "aipref-two-fields-joined"])
def test_rfc9651_structured_field_rules_in_every_parser(site: TestSite, case_id: str) -> None:
    """RFC 9651 3.1.2 (lowercase keys), 3.2 (the last duplicate wins), 4.2 (a field that
    fails to parse is ignored) and RFC 9110 5.3 (repeated fields join), through the
    reference parser, http-sf and http_sfv."""
    assert_case(site, case_id, ("optout-reference", "http-sf", "http-sfv"))


# -- robots.txt ---------------------------------------------------------------------------

ROBOTS_RULES = ["robots-longest-match", "robots-longest-match-disallow", "robots-allow-wins-tie", "robots-wildcard",
                "robots-dollar-match", "robots-dollar-no-match", "robots-specific-group-over-star",
                "robots-star-fallback", "robots-agent-case-insensitive", "robots-groups-combined", "robots-ai-robots-list",
                "robots-non-ascii-path-percent-encoded"]


@pytest.mark.parametrize("case_id", ROBOTS_RULES)
def test_rfc9309_matching_rules_in_reference_and_protego(site: TestSite, case_id: str) -> None:
    """RFC 9309 2.2.1 (groups: product token, case-insensitive, combined, * fallback),
    2.2.2 (longest match, allow on a tie, non-ASCII octets percent-encoded before comparing)
    and 2.2.3 (``*`` and ``$``)."""
    assert_case(site, case_id, ("optout-reference", "protego"))


def test_urllib_robotparser_predates_rfc9309_and_the_check_says_so(site: TestSite) -> None:
    """RFC 9309 2.2.2/2.2.3 against the standard library: urllib.robotparser takes the
    first matching rule, not the longest, and reads ``*`` and ``$`` literally.  These are
    the differences the optout scorecard reports."""
    wrong = [c for c in ROBOTS_RULES if decisions(evaluate(site, "urllib-robotparser", c)) != CASES[c]["expect"]]
    assert wrong == ["robots-longest-match", "robots-longest-match-disallow", "robots-allow-wins-tie", "robots-wildcard",
                     "robots-dollar-match", "robots-groups-combined"]


@pytest.mark.parametrize("case_id", ["robots-huge", "robots-redirect", "robots-redirect-loop", "robots-timeout",
                                     "robots-404", "robots-503", "robots-not-utf8"])
def test_rfc9309_access_results_and_limits_for_every_robots_evaluator(site: TestSite, case_id: str) -> None:
    """RFC 9309 2.3.1.2 (redirects), 2.3.1.3 (4xx: allow), 2.3.1.4 (5xx, timeout:
    disallow), 2.5 (500 KiB) and undecodable bytes: each evaluator answers, nothing crashes."""
    assert_case(site, case_id, ("optout-reference", "protego", "urllib-robotparser"))


# -- Content-Signal ------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", [c for c, case in CASES.items() if "content-signal" in case["channels"] and case["expect"]])
def test_content_signal_precedence_in_the_reference(site: TestSite, case_id: str) -> None:
    """Content Signals Policy (a) yes grants, (b) no restricts, (c) absent is unknown; a yes
    does not lift the agent's Disallow (RFC 9309 2.2.2); the agent's group is read (2.2.1);
    against Content-Usage the most restrictive wins (aipref vocabulary, combining)."""
    assert_case(site, case_id)


# -- X-Robots-Tag noai, noimageai ------------------------------------------------------------

@pytest.mark.parametrize("case_id", [c for c, case in CASES.items() if case["channels"] == ["x-robots-tag"]])
def test_x_robots_tag_rules_in_the_reference(site: TestSite, case_id: str) -> None:
    """noai and noimageai deny AI training (DeviantArt's directives, read by Spawning's tools),
    with the robots rules' syntax (Google's X-Robots-Tag specification): a crawler's name and
    a colon scope a field to it, names and rules are case-insensitive, fields combine, rules
    a crawler does not know are ignored, and ``all`` is the default."""
    assert_case(site, case_id)


def test_hostile_resources_redirect_and_timeout(site: TestSite) -> None:
    """TDMRep, "HTTP headers": the response that carries the resource (after a redirect)
    decides; a resource that never arrives declares nothing."""
    assert_case(site, "resource-redirect")
    started = time.perf_counter()
    assert_case(site, "resource-timeout")
    assert time.perf_counter() - started < 2.9  # the crawler's 1 s timeout, not the server's 3 s delay


def test_inline_material_gives_the_same_answers_as_fetching(site: TestSite) -> None:
    """Without network (the docker placement), the harness crawls once and hands the
    evaluator the material inline; the answers are the same as when it fetches."""
    for case_id in ("tdmrep-file-beats-header", "tdmrep-header-beats-epub3", "robots-dollar-match", "aipref-any-disallow-wins-robots",
                    "robots-timeout"):
        for vendor in readers_of(case_id):
            assert decisions(evaluate(site, vendor, case_id, inline=True)) == decisions(evaluate(site, vendor, case_id)), (vendor, case_id)


# -- the declarer ---------------------------------------------------------------------------

INTENTS = json.loads((VECTORS / "intents.json").read_text())


@pytest.mark.parametrize("channel", sorted(OPTOUT_SITE_CHANNELS))
def test_every_declared_channel_reads_back_as_declared(site: TestSite, channel: str) -> None:
    """Declare each intent through each site channel and read it back with the reference:
    the intent where the channel expresses the purpose, unknown where it cannot."""
    declarer = load_adapter_class(load_manifest(ROOT / "vendors" / "optout-reference" / "vendor.toml"))()
    family = OPTOUT_SITE_CHANNELS[channel]
    for intent in INTENTS["intents"]:
        params = {"channel": channel, "intent": {"purposes": intent["purposes"], "policy": intent.get("policy")},
                  "agents": INTENTS["agents"]}
        assert first_error("aiii:protocol/v1/optout.declare.params", params) is None
        try:
            report = declarer.call("optout.declare", EMPTY, params)
        except Exception as exc:  # the one-switch channels cannot say "no AI training, but mining is fine"
            assert family == "tdmrep" and intent["id"] == "no-ai-training", exc
            continue
        assert isinstance(report, dict) and first_error("aiii:protocol/v1/optout.declare.result", report) is None
        published = site.publish([{k: f[k] for k in ("path", "headers", "body_base64")} for f in report["files"]])
        for purpose in OPTOUT_PURPOSES:
            answer = ADAPTERS["optout-reference"][0].call("optout.evaluate", EMPTY, {
                "url": published.url(report["resource"]), "agent": INTENTS["agents"][purpose][0], "purposes": [purpose],
                "channels": [family]})
            assert isinstance(answer, dict)
            want = intent["purposes"][purpose] if purpose in OPTOUT_EXPRESSES[family] else "unknown"
            assert answer["decisions"][purpose]["decision"] == want, (channel, intent["id"], purpose, answer)


# -- the test site ------------------------------------------------------------------------

def test_site_serves_each_published_site_on_its_own_origin_and_stops_promptly() -> None:
    with serving() as s:
        a = s.publish([{"path": "/robots.txt", "text": "User-agent: *\nDisallow: /\n"}])
        b = s.publish([{"path": "/robots.txt", "text": "User-agent: *\nAllow: /\n", "delay_s": 8}])
        assert s.publish([{"path": "/robots.txt", "text": "User-agent: *\nDisallow: /\n"}]) == a
        assert a.origin != b.origin and s.origins == 2
        material, _ = crawl(a.url("/"), "GPTBot", 2)
        assert material["robots"]["status"] == 200 and material["resource"]["status"] == 404
        slow, _ = crawl(b.url("/"), "GPTBot", 0.3)
        assert slow["robots"]["error"] == "timeout"
        started = time.perf_counter()
    assert time.perf_counter() - started < 3  # the 8 s answer in flight does not hold the shutdown
    gone, _ = crawl(a.url("/"), "GPTBot", 1)
    assert gone["robots"]["error"] is not None and gone["robots"]["error"].startswith("connection")


# -- the profile, end to end ----------------------------------------------------------------

@pytest.fixture(scope="module")
def optout_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    home = tmp_path_factory.mktemp("aiii-home")
    out = tmp_path_factory.mktemp("optout")
    proc = aiii(home, "run", "--profile", "optout", "--out", str(out / "out"), "--store", str(out / "s.sqlite"), "-q")
    assert proc.returncode == 0, proc.stderr  # urllib.robotparser's MUST failures (above) are findings: no gate asked
    bundle = json.loads((out / "out" / "results.json").read_text())
    return cells(out / "s.sqlite"), bundle


#: datadiligence's C2PAMetadataRule reads c2pa.training-mining only (CAWG's successor label
#: reads as nothing reserved) and answers one yes or no for all four entries (a file that
#: denies training but allows inference and mining is denied for everything).
_CAWG_DENIES = {"cawg-training-mining.reserve-all", "cawg-training-mining.search-only"}
DATADILIGENCE_C2PA_FAILS = {
    "train-ai": _CAWG_DENIES | {"cawg-training-mining.no-ai-training"},
    "train-genai": _CAWG_DENIES | {"cawg-training-mining.no-ai-training"},
    "search": set(),
    "inference": _CAWG_DENIES | {"c2pa-training-mining.no-ai-training"},
    "data-mining": _CAWG_DENIES | {"c2pa-training-mining.no-ai-training"},
}


@pytest.mark.slow  # the optout profile run
def test_profile_shows_a_channel_by_evaluator_matrix_per_purpose(optout_run: tuple[dict[str, dict[str, Any]], dict[str, Any]]) -> None:
    _cells, bundle = optout_run
    matrices = {m.check["id"]: m for m in build_matrices(bundle)}
    for purpose in OPTOUT_PURPOSES:
        m = matrices[f"optout.{purpose.replace('-', '_')}"]
        assert m.row_title == "channel (producer)"
        rows = {r.split(" ")[0] for r in m.rows}
        assert rows == set(OPTOUT_SITE_CHANNELS) | {"plus-datamining", "c2pa-training-mining", "cawg-training-mining"}
        assert {"optout-reference", "protego", "urllib-robotparser", "http-sf", "http-sfv", "datadiligence", "c2pa-python",
                "c2patxt", "exiv2", "exiftool", "xmp-reference"} <= set(m.columns)
        assert m.counts["error"] == 0 and m.counts["blocked"] == 0
        # the only failures: datadiligence on C2PA training-mining (DATADILIGENCE_C2PA_FAILS)
        failing = {c["id"] for g in m.groups.values() for c in g.cells if c["outcome"] == "fail"}
        assert failing == {f"{m.check['id']}/optout-intents/c2pa-python/datadiligence/{v}" for v in DATADILIGENCE_C2PA_FAILS[purpose]}
        # the one unsupported row: TDMRep has one switch, so "no AI training but mining" cannot be written
        assert all(c["variant"].endswith(".no-ai-training") and c["channel"].startswith("tdmrep-")
                   for g in m.groups.values() for c in g.cells if c["outcome"] == "unsupported")


def test_profile_cells_say_why_and_disagreements_are_explained(optout_run: tuple[dict[str, dict[str, Any]], dict[str, Any]]) -> None:
    by_id, _bundle = optout_run
    assert not [c for c in by_id.values() if c["outcome"] in ("error", "blocked")]
    unknown = by_id["optout.search/optout-intents/optout-reference/optout-reference/tdmrep-header.reserve-all"]
    assert unknown["outcome"] == "pass" and "cannot express" in unknown["reason"]
    failing = {cid for cid, c in by_id.items() if c["outcome"] == "fail"}
    # the purpose matrices' failures are datadiligence's C2PA cells (DATADILIGENCE_C2PA_FAILS)
    assert {cid.split("/")[0] for cid in failing} == {"optout.precedence", "optout.malformed", "optout.conflicts",
                                                      "optout.train_ai", "optout.train_genai", "optout.inference", "optout.data_mining"}
    # the findings: urllib.robotparser predates RFC 9309; fast-robotstxt reads the * group's
    # Content-Signal for an agent with a group of its own; robotspy splits lines on LF only;
    # datadiligence binds another crawler's X-Robots-Tag rule list to every crawler, matches
    # noai and agent names case-sensitively, and reads any tdm-reservation but 1 as allowed
    assert {cid for cid in failing if cid.startswith("optout.precedence") and "/urllib-robotparser/" not in cid} == {
        "optout.precedence/optout-precedence/-/fast-robotstxt/content-signal-star-group-not-read-for-a-named-agent",
        "optout.precedence/optout-precedence/-/datadiligence/x-robots-tag-other-agent-rule-list"}
    assert {cid for cid in failing if cid.startswith("optout.malformed")} == {
        "optout.malformed/optout-malformed/-/robotspy/robots-cr-line-endings",
        *(f"optout.malformed/optout-malformed/-/datadiligence/{c}" for c in (
            "x-robots-tag-uppercase", "x-robots-tag-agent-case", "tdmrep-header-value-2", "tdmrep-header-value-yes"))}
    assert {cid.rsplit("/", 1)[1] for cid in failing if cid.startswith("optout.conflicts")} == {
        "content-signal-two-lines-disagree", "robots-wildcard-only", "robots-longest-match-vs-order", "robots-allows-tdmrep-reserves"}
    two_lines = by_id["optout.conflicts/optout-conflicts/-/-/content-signal-two-lines-disagree"]
    assert "content-signal/train-ai: allowed by fast-robotstxt; denied by optout-reference" in two_lines["measurements"]["disagreements"]
    conflict = by_id["optout.conflicts/optout-conflicts/-/-/robots-wildcard-only"]
    assert ("robots/train-ai: denied by fast-robotstxt, optout-reference, protego, robotspy; allowed by urllib-robotparser"
            in conflict["measurements"]["disagreements"])
    # datadiligence reads TDMRep's header only and has no "unset": no header is allowed, so a
    # reservation in /.well-known/tdmrep.json is missed, and a site without TDMRep reads as allowed
    tdm_file = by_id["optout.conflicts/optout-conflicts/-/-/robots-allows-tdmrep-reserves"]
    assert tdm_file["measurements"]["disagreements"] == [
        f"tdmrep/{p}: allowed by datadiligence; denied by optout-reference" for p in ("train-ai", "train-genai", "data-mining")]
    assert "tdmrep/train-ai: allowed by datadiligence; unknown by optout-reference" in conflict["measurements"]["disagreements"]
    xmp = by_id["optout.conflicts/optout-conflicts/-/-/headers-allow-xmp-prohibits"]
    assert xmp["outcome"] == "pass" and "train-ai: " in xmp["reason"]
    assert any("plus denied" in c and "tdmrep allowed" in c for c in xmp["measurements"]["channel_conflicts"])


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize(("check", "tag", "content", "complaint"), [
    ("optout.precedence", "optout-precedence", "{not json", "not readable as JSON"),
    ("optout.precedence", "optout-precedence", '{"cases": [{"id": "x", "spec": "s", "site": [], "resource": "/",'
     ' "channels": ["tdmrep-carrier-pigeon"], "expect": {}}]}', "cases[0] (x): needs 'channels'"),
    ("optout.malformed", "optout-malformed", '{"cases": [{"id": "y", "spec": "s", "site": [], "resource": "/",'
     ' "channels": ["robots"], "expect": {"train-ai": "maybe"}}]}', "cases[0] (y): needs 'expect'"),
    ("optout.train_ai", "optout-intents", '{"agents": {}, "intents": []}', "agents.train-ai"),
    ("optout.search", "optout-intents", '{"agents": {"train-ai": ["a"], "train-genai": ["a"], "search": ["a"], "inference": ["a"],'
     ' "data-mining": ["a"]}, "intents": [{"id": "z", "purposes": {"search": "perhaps"}}]}', "intents[0]"),
])
def test_malformed_optout_vectors_stop_the_run_in_one_line_naming_the_file(
        tmp_path: Path, check: str, tag: str, content: str, complaint: str) -> None:
    media = json_vector_folder(tmp_path / "media", content, tag)
    profile = tmp_path / "p.toml"
    profile.write_text(f'name = "p"\ndescription = "d"\n[[checks]]\nid = "{check}"\nlevel = "MUST"\n'
                       f'vectors = {{ tags_all = ["{tag}"] }}\n')
    proc = aiii(tmp_path / "home", "run", "--profile", str(profile), "--vectors", str(media), "--vendors", "optout-reference",
                "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cases.json" in lines[0] and complaint in lines[0] and check in lines[0]


@pytest.mark.slow  # the optout profile run, inline
def test_inline_material_profile_runs_every_case_without_evaluators_fetching(tmp_path: Path) -> None:
    """material = "inline": the harness crawls the test site once per site and evaluators
    get what it saw (the docker placement has no network); the spec's answers still hold."""
    proc = aiii(tmp_path / "home", "run", "--profile", str(ROOT / "tests" / "profiles" / "optout-inline.toml"),
                "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "-q", timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    by_id = cells(tmp_path / "s.sqlite")
    assert len(by_id) > 60 and {c["outcome"] for c in by_id.values()} == {"pass", "unsupported"}
    cases = [c for cid, c in by_id.items() if cid.startswith(("optout.precedence", "optout.malformed"))]
    assert cases and all(c["measurements"]["material"] == "inline" and c["measurements"]["url"].startswith("http://site.test/")
                         for c in cases)
