"""What the opt-out checks share: the run's test site, the vectors (intents and cases),
and publishing a channel's artifacts and evaluating them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Self

from aiii_kit.optout import crawl, plus_decisions, training_mining_decisions
from aiii_kit.vocab import OPTOUT_EXPRESSES, OPTOUT_PURPOSES, OPTOUT_SIGNAL_FAMILIES, OPTOUT_SITE_CHANNELS, PLUS_DATA_MINING

from conformance.base import Answers, Check, PlanContext
from conformance.optout.site import SiteError, TestSite
from conformance.planning import option, read_json
from runner.errors import PlanError
from runner.model import (
    NO_INPUT,
    Step,
    Vector,
    VendorManifest,
    canonical_json,
    transform_step,
    vendor_step,
)
from runner.paths import display

#: In-asset channels and their family; the site channels are OPTOUT_SITE_CHANNELS.
ASSET_CHANNELS: dict[str, str] = {"plus-datamining": "plus", "c2pa-training-mining": "c2pa", "cawg-training-mining": "c2pa"}
SIGNAL_FAMILY: dict[str, str] = {**OPTOUT_SITE_CHANNELS, **ASSET_CHANNELS}
#: Headers a capture drops: they change with every response and say nothing.
VOLATILE_HEADERS = ("date", "server")
DEFAULT_TIMEOUT_S = 2.0


# -- the run's test site ------------------------------------------------------------------

class SiteSession:
    """The test site shared by the opt-out checks of a run, open while any of them is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._site: TestSite | None = None
        self._load: Callable[[str], bytes] | None = None

    @contextmanager
    def open(self, load: Callable[[str], bytes]) -> Iterator[TestSite]:
        """Open the site; ``load`` reads an artifact's bytes by sha256 (assets to publish)."""
        with self._lock:
            if self._site is None:
                self._site = TestSite()
            self._load = load
            self._users += 1
            site = self._site
        try:
            yield site
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._site is not None:
                    self._site.close()
                    self._site = None

    def artifact(self, sha256: str) -> bytes:
        if self._load is None:
            raise SiteError("the opt-out test site is not running (the run opens it around the checks)")
        return self._load(sha256)

    @property
    def site(self) -> TestSite:
        if self._site is None:
            raise SiteError("the opt-out test site is not running (the run opens it around the checks)")
        return self._site


SITE = SiteSession()


# -- vectors ------------------------------------------------------------------------------

def _where(vector: Vector) -> str:
    return f"vector {vector.id} ({display(vector.path)})"


def load_intents(vector: Vector) -> dict[str, Any]:
    """The intents and the user agent of each purpose; a malformed file stops the plan."""
    doc = read_json(vector)
    where = _where(vector)
    if not isinstance(doc, dict) or not isinstance(doc.get("intents"), list) or not isinstance(doc.get("agents"), dict):
        raise PlanError(f"{where}: needs an 'intents' list and an 'agents' object")
    for p in OPTOUT_PURPOSES:
        agents = doc["agents"].get(p)
        if not isinstance(agents, list) or not agents or not all(isinstance(a, str) for a in agents):
            raise PlanError(f"{where}: agents.{p}: needs a list of user agents")
    for k, intent in enumerate(doc["intents"]):
        purposes = intent.get("purposes") if isinstance(intent, dict) else None
        ok = (isinstance(purposes, dict) and isinstance(intent.get("id"), str) and purposes
              and all(p in OPTOUT_PURPOSES and v in ("allowed", "denied") for p, v in purposes.items()))
        if not ok:
            raise PlanError(f"{where}: intents[{k}]: needs a string 'id' and 'purposes' mapping purposes to allowed or denied")
    return doc


@dataclass(frozen=True)
class OptoutCase:
    """A curated case: the site's files (specs for the test site), the resource asked
    about, the channels it exercises, the decisions expected per purpose, and the spec
    section (and rule) it tests."""

    id: str
    spec: str
    channels: tuple[str, ...]
    site: tuple[dict[str, Any], ...]
    resource: str
    expect: Mapping[str, str]
    rule: str | None = None
    agent: str = "GPTBot"
    timeout_s: float | None = None

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Self:
        """A case from its JSON object (a cases vector's, or a cell context's)."""
        return cls(id=doc["id"], spec=doc["spec"], channels=tuple(doc["channels"]), site=tuple(doc["site"]),
                   resource=doc["resource"], expect=doc.get("expect", {}), rule=doc.get("rule"),
                   agent=doc.get("agent", "GPTBot"), timeout_s=doc.get("timeout_s"))


def load_cases(vector: Vector) -> list[OptoutCase]:
    """Curated cases: each a site, the resource asked about, and the expected decisions."""
    doc = read_json(vector)
    where = _where(vector)
    cases = doc.get("cases") if isinstance(doc, dict) else None
    if not isinstance(cases, list):
        raise PlanError(f"{where}: no 'cases' list")
    for k, case in enumerate(cases):
        if not isinstance(case, dict):
            raise PlanError(f"{where}: cases[{k}]: not an object")
        problems = []
        if not isinstance(case.get("id"), str):
            problems.append("a string 'id'")
        if not isinstance(case.get("spec"), str):
            problems.append("a string 'spec' (the section the case tests)")
        if not isinstance(case.get("site"), list) or not all(isinstance(f, dict) and isinstance(f.get("path"), str) for f in case.get("site", [])):
            problems.append("a 'site' list of files with a 'path'")
        if not isinstance(case.get("resource"), str) or not str(case.get("resource")).startswith("/"):
            problems.append("a 'resource' path")
        channels = case.get("channels")
        if not isinstance(channels, list) or not channels or not all(c in SIGNAL_FAMILY for c in channels):
            problems.append(f"'channels' from {sorted(SIGNAL_FAMILY)}")
        expect = case.get("expect", {})
        if not isinstance(expect, dict) or not all(p in OPTOUT_PURPOSES and v in ("allowed", "denied", "unknown") for p, v in expect.items()):
            problems.append("'expect' mapping purposes to allowed, denied or unknown")
        if problems:
            raise PlanError(f"{where}: cases[{k}] ({case.get('id', '?')}): needs " + "; ".join(problems))
    return [OptoutCase.of(case) for case in cases]


def expected(intent: Mapping[str, str], family: str, purpose: str) -> str | None:
    """What a reader of ``family`` must say for the purpose; None when the intent is silent."""
    if purpose not in OPTOUT_EXPRESSES[family]:
        return "unknown"
    return intent.get(purpose)


def plus_code(intent: dict[str, str]) -> str | None:
    """The plus:DataMining code that says exactly what the intent says, if there is one."""
    for code in PLUS_DATA_MINING:
        if code == "DMI-UNSPECIFIED" or "SEE" in code:
            continue
        said = plus_decisions(code)
        if all(said[p] == v for p, v in intent.items() if p in OPTOUT_EXPRESSES["plus"]):
            return code
    return None


def training_mining_entries(intent: dict[str, str]) -> dict[str, dict[str, Any]]:
    keys = {"train-ai": "ai_training", "train-genai": "ai_generative_training", "inference": "ai_inference", "data-mining": "data_mining"}
    return {keys[p]: {"use": "allowed" if v == "allowed" else "notAllowed"} for p, v in intent.items() if p in keys}


def evaluators(ctx: PlanContext) -> list[VendorManifest]:
    return ctx.with_op("optout.evaluate")


def reads(vendor: VendorManifest, channel: str) -> bool:
    return channel in option(vendor, "optout.evaluate", "channels", [])


def families_read(vendor: VendorManifest) -> list[str]:
    read = {SIGNAL_FAMILY[c] for c in option(vendor, "optout.evaluate", "channels", []) if c in SIGNAL_FAMILY}
    return [f for f in OPTOUT_SIGNAL_FAMILIES if f in read]


def _short(text: Any, limit: int = 160) -> str:
    s = str(text)
    return s if len(s) <= limit else s[:limit] + "…"


# -- publishing and evaluating --------------------------------------------------------------

def material_mode(ctx: PlanContext, evaluator: str, mode: str) -> str:
    """How an evaluator gets the site: as the profile says, but inline for an evaluator whose
    placement cannot reach the test site (it gets what the harness's own crawl saw)."""
    return "inline" if evaluator in ctx.fixtures.offline else mode


def evaluate_step(evaluator: str, site_files: list[dict[str, Any]], resource: str, agent: str, purposes: list[str],
                  families: list[str], mode: str, timeout_s: float) -> Step:
    """Publish the files on the test site and build the evaluator's step: the URL to fetch
    (``mode`` "fetch"), or what the harness's own crawl saw, inline ("inline")."""
    site = SITE.site.publish(site_files)
    params: dict[str, Any] = {"url": site.url(resource), "agent": agent, "purposes": purposes, "channels": families,
                              "timeout_s": timeout_s}
    if mode == "inline":
        material, body = crawl(params["url"], agent, timeout_s)
        for fetched in material.values():
            fetched["headers"] = [[k, v] for k, v in fetched["headers"] if k.lower() not in VOLATILE_HEADERS]
            fetched["url"] = fetched["url"].replace(site.origin, "http://site.test")
            fetched["redirects"] = [u.replace(site.origin, "http://site.test") for u in fetched["redirects"]]
        params["url"] = params["url"].replace(site.origin, "http://site.test")
        params["material"] = material
        return vendor_step(evaluator, "optout.evaluate", transform_step("harness.bytes", NO_INPUT, {"hex": body.hex()}), params)
    params["site_digest"] = site.digest
    return vendor_step(evaluator, "optout.evaluate", NO_INPUT, params)


def declared_files(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: f[k] for k in ("path", "status", "headers", "body_base64") if k in f} for f in report["files"]]


def decision_of(answers: Answers, role: str, family: str, purpose: str) -> tuple[str, str]:
    """(decision, explanation) of one role's answer: an evaluator's, a metadata reader's
    (plus:DataMining) or a C2PA reader's (training-mining)."""
    report = answers.report(role)
    if "decisions" in report:
        d = report["decisions"].get(purpose) or {"decision": "unknown"}
        said = report.get("channels", {}).get(family, {}).get(purpose, d["decision"])
        why = "; ".join(str(x) for x in (d.get("source"), d.get("rule")) if x) or "no source"
        notes = report.get("notes") or []
        return said, why + (f" (notes: {_short('; '.join(notes))})" if notes else "")
    if "fields" in report:
        value = report["fields"].get("data_mining")
        return plus_decisions(value)[purpose], f"plus:DataMining read as {value!r}"
    manifest = report.get("active_manifest") or {}
    entries = manifest.get("training_mining") or {}
    return training_mining_decisions(entries)[purpose], f"training-mining entries {_short(canonical_json(entries))}"


class OptoutCheck(Check):
    """A check of this family: it runs with the test site open."""

    family = "optout"
    catalogue_data = "the catalogue's opt-out intents and curated sites"

    def session(self, load: Callable[[str], bytes]) -> AbstractContextManager[Any]:
        return SITE.open(load)


def _resolve(spec: dict[str, Any]) -> dict[str, Any]:
    """A file spec naming an artifact of the cache by sha256, with its bytes inlined."""
    if "sha256" not in spec:
        return spec
    import base64

    data = SITE.artifact(spec["sha256"])
    return {k: v for k, v in spec.items() if k != "sha256"} | {"body_base64": base64.b64encode(data).decode()}
