"""Rights reservation and opt-out: one creator's choice, written through each channel, must
be read the same way by every checker.

Checks:
- ``optout.train_ai``, ``optout.train_genai``, ``optout.search``, ``optout.inference``,
  ``optout.data_mining``: one channel x evaluator matrix per purpose.  Each intent of the
  intents vector is declared through every channel (site channels by an optout.declare
  vendor; plus:DataMining by each metadata writer; C2PA and CAWG training-mining by each
  C2PA signer); the site channels are published on the harness's loopback test site
  and evaluated over HTTP; in-asset channels are also read by the metadata and C2PA
  readers.  Every decision must equal the intent where the channel can express the
  purpose, and ``unknown`` where it cannot (table below).
- ``optout.precedence``: curated sites that exercise each precedence and combination
  rule, each naming its spec section;
- ``optout.malformed``: malformed and hostile signals (values other than 0 and 1, bad
  structured fields, uppercase and duplicate keys, a huge robots.txt, redirects,
  timeouts, bytes that are not UTF-8): the outcome the spec defines, and no crash;
- ``optout.conflicts``: channels that disagree on one site (headers allow, XMP
  prohibits, ...): every evaluator's decision per channel, and where evaluators disagree.

Purposes and what each channel family can express (``runner.adapter.OPTOUT_EXPRESSES``):

| purpose | TDMRep | AI preferences | robots.txt | plus:DataMining | C2PA/CAWG training-mining |
|---|---|---|---|---|---|
| train-ai | tdm-reservation | train-ai | the agent | AIMLTRAINING | ai_training |
| train-genai | tdm-reservation | train-ai (nests) | the agent | GENAIMLTRAINING | ai_generative_training |
| search | unknown | search | the agent | EXCEPTSEARCHENGINEINDEXING | unknown |
| inference | unknown | unknown | the agent | unknown | ai_inference |
| data-mining | tdm-reservation | unknown | the agent | the property itself | data_mining |
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

from aiii_kit.optout import crawl, plus_decisions, training_mining_decisions
from aiii_kit.vocab import OPTOUT_EXPRESSES, OPTOUT_FAMILIES, OPTOUT_PURPOSES, OPTOUT_SITE_CHANNELS, PLUS_DATA_MINING, PLUS_VOCAB

from conformance.base import Answers, Check, PlanContext, unsupported
from conformance.identifiers import option, read_json
from conformance.optout_site import SiteError, TestSite
from conformance.provenance import read_params, sign_params
from runner.errors import PlanError
from runner.model import (
    NO_INPUT,
    Cell,
    Outcome,
    Step,
    StepResult,
    VendorManifest,
    Verdict,
    canonical_json,
    transform_step,
    vendor_step,
)
from runner.paths import display
from runner.vectors import Vector

#: In-asset channels and their family; the site channels are OPTOUT_SITE_CHANNELS.
ASSET_CHANNELS: dict[str, str] = {"plus-datamining": "plus", "c2pa-training-mining": "c2pa", "cawg-training-mining": "c2pa"}
CHANNEL_FAMILY: dict[str, str] = {**OPTOUT_SITE_CHANNELS, **ASSET_CHANNELS}
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
        """Open the site; ``load`` reads an artefact's bytes by sha256 (assets to publish)."""
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

    def artefact(self, sha256: str) -> bytes:
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


def load_cases(vector: Vector) -> list[dict[str, Any]]:
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
        if not isinstance(channels, list) or not channels or not all(c in CHANNEL_FAMILY for c in channels):
            problems.append(f"'channels' from {sorted(CHANNEL_FAMILY)}")
        expect = case.get("expect", {})
        if not isinstance(expect, dict) or not all(p in OPTOUT_PURPOSES and v in ("allowed", "denied", "unknown") for p, v in expect.items()):
            problems.append("'expect' mapping purposes to allowed, denied or unknown")
        if problems:
            raise PlanError(f"{where}: cases[{k}] ({case.get('id', '?')}): needs " + "; ".join(problems))
    return cases


def expected(intent: dict[str, str], family: str, purpose: str) -> str | None:
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
    read = {CHANNEL_FAMILY[c] for c in option(vendor, "optout.evaluate", "channels", []) if c in CHANNEL_FAMILY}
    return [f for f in OPTOUT_FAMILIES if f in read]


def _short(text: Any, limit: int = 160) -> str:
    s = str(text)
    return s if len(s) <= limit else s[:limit] + "…"


# -- publishing and evaluating --------------------------------------------------------------

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


# -- channel x evaluator, one matrix per purpose --------------------------------------------

class OptoutCheck(Check):
    """A check of this family: it runs with the test site open."""

    family = "optout"

    def session(self, load: Callable[[str], bytes]) -> AbstractContextManager[Any]:
        return SITE.open(load)


class ChannelMatrix(OptoutCheck):

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self.id = f"optout.{purpose.replace('-', '_')}"  # type: ignore[misc]
        self.title = f"Opt-out for {purpose}: channel x evaluator"  # type: ignore[misc]
        self.description = (  # type: ignore[misc]
            f"Each intent is declared through each channel (row: the channel, with the vendor that wrote it) and read by each evaluator (column);"
            f" the {purpose} decision must equal the intent, or be unknown where the channel cannot express {purpose}.")

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        intents_vectors = [v for v in ctx.vectors if v.media_type == "application/json"]
        images = [v for v in ctx.vectors if v.media_type == "image/jpeg"]
        mode = str(ctx.config.params.get("material", "fetch"))
        timeout = float(ctx.config.params.get("timeout_s", DEFAULT_TIMEOUT_S))
        for vector in intents_vectors:
            doc = load_intents(vector)
            agent = doc["agents"][self.purpose][0]
            for intent in doc["intents"]:
                yield from self._site_cells(ctx, vector, doc, intent, agent, mode, timeout)
                for image in images[:1]:
                    yield from self._asset_cells(ctx, vector, image, intent, agent, mode, timeout)

    def _cell(self, ctx: PlanContext, vector: Vector, channel: str, producer: str, evaluator: str, intent: dict[str, Any],
              context: dict[str, Any]) -> Cell:
        """Row: the channel (and the vendor that wrote it); column: the evaluator."""
        return Cell(self.id, ctx.config.level, vector.id, producer, evaluator, f"{channel}.{intent['id']}", channel=channel,
                    context_json=canonical_json({"purpose": self.purpose, "intent": intent["purposes"], "channel": channel, **context}))

    def _site_cells(self, ctx: PlanContext, vector: Vector, doc: dict[str, Any], intent: dict[str, Any], agent: str,
                    mode: str, timeout: float) -> Iterator[Cell]:
        for declarer in ctx.with_op("optout.declare"):
            for channel in option(declarer, "optout.declare", "channels", []):
                family = OPTOUT_SITE_CHANNELS[channel]
                params = {"channel": channel, "intent": {"purposes": intent["purposes"], "policy": intent.get("policy")},
                          "agents": doc["agents"]}
                declare = vendor_step(declarer.id, "optout.declare", NO_INPUT, params)
                for ev in [e for e in evaluators(ctx) if reads(e, channel)]:  # the others have no cell here
                    cell = self._cell(ctx, vector, channel, declarer.id, ev.id, intent,
                                      {"family": family, "agent": agent, "mode": mode, "timeout_s": timeout})
                    yield replace(cell, steps={"declare": declare})

    def _asset_cells(self, ctx: PlanContext, vector: Vector, image: Vector, intent: dict[str, Any], agent: str,
                     mode: str, timeout: float) -> Iterator[Cell]:
        mt = image.media_type
        base = {"agent": agent, "mode": mode, "timeout_s": timeout, "media_type": mt}
        code = plus_code(intent["purposes"])
        for writer in [w for w in ctx.with_op("metadata.write") if w.capability("metadata.write", mt)]:
            write = vendor_step(writer.id, "metadata.write", image.id, {"fields": {"data_mining": PLUS_VOCAB + (code or "")}})
            consumers = [r for r in ctx.with_op("metadata.read") if r.capability("metadata.read", mt)]
            consumers += [e for e in evaluators(ctx) if reads(e, "plus-datamining")]
            for reader in consumers:
                cell = self._cell(ctx, vector, "plus-datamining", writer.id, reader.id, intent, {**base, "family": "plus", "code": code})
                if code is None:
                    yield unsupported(cell, f"no plus:DataMining value says exactly {canonical_json(intent['purposes'])}")
                elif reader.capability("optout.evaluate"):
                    yield replace(cell, steps={"write": write})  # expand publishes the asset and evaluates it
                else:
                    yield replace(cell, steps={"write": write, "read": vendor_step(reader.id, "metadata.read", write, {})})
        for label in ("c2pa.training-mining", "cawg.training-mining"):
            channel = label.replace(".", "-")
            for signer in [s for s in ctx.with_op("provenance.sign") if s.capability("provenance.sign", mt)]:
                params = {**sign_params(ctx, signer.id, f"aiii optout {intent['id']}", label),
                          "training_mining": training_mining_entries(intent["purposes"])}
                sign = vendor_step(signer.id, "provenance.sign", image.id, params)
                for reader in [r for r in ctx.with_op("provenance.read") if r.capability("provenance.read", mt)]:
                    cell = self._cell(ctx, vector, channel, signer.id, reader.id, intent, {**base, "family": "c2pa"})
                    read = vendor_step(reader.id, "provenance.read", sign, read_params(ctx, True))
                    yield replace(cell, steps={"sign": sign, "read": read})

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        ctx = cell.context
        assert cell.consumer is not None
        if "declare" in cell.steps:
            declared = step(cell.steps["declare"])
            if not declared.ok or declared.report is None:
                return cell
            files, resource = declared_files(declared.report), declared.report["resource"]
            first = "declare"
        elif "write" in cell.steps and "read" not in cell.steps:
            written = step(cell.steps["write"])
            if not written.ok or written.asset_sha256 is None:
                return cell
            resource, first = "/photo.jpg", "write"
            files = [{"path": resource, "headers": [["Content-Type", ctx["media_type"]]], "sha256": written.asset_sha256}]
        else:
            return cell
        files = [_resolve(f) for f in files]
        ev = evaluate_step(cell.consumer, files, resource, ctx["agent"], [self.purpose], [ctx["family"]], ctx["mode"], ctx["timeout_s"])
        return replace(cell, steps={first: cell.steps[first], "evaluate": ev})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
        want = expected(ctx["intent"], ctx["family"], self.purpose)
        role = "evaluate" if "evaluate" in answers.results else "read"
        got, why = decision_of(answers, role, ctx["family"], self.purpose)
        measurements = {"purpose": self.purpose, "channel": ctx["channel"], "intent": ctx["intent"], "expected": want,
                        "decision": got, "explanation": why}
        if ctx.get("code"):
            measurements["plus_code"] = ctx["code"]
        if want is None:
            return Verdict(Outcome.UNSUPPORTED, f"the intent says nothing about {self.purpose}", measurements)
        if got == want:
            note = " (the channel cannot express it)" if want == "unknown" and ctx["intent"].get(self.purpose) else ""
            return Verdict(Outcome.PASS, f"{got}, as declared{note}: {_short(why)}", measurements)
        return Verdict(Outcome.FAIL, f"{cell.consumer} says {got}, the declared intent gives {want}: {_short(why)}", measurements)


def _resolve(spec: dict[str, Any]) -> dict[str, Any]:
    """A file spec naming an artefact of the cache by sha256, with its bytes inlined."""
    if "sha256" not in spec:
        return spec
    import base64

    data = SITE.artefact(spec["sha256"])
    return {k: v for k, v in spec.items() if k != "sha256"} | {"body_base64": base64.b64encode(data).decode()}


# -- curated cases: precedence, malformed and hostile signals ------------------------------

class CaseCheck(OptoutCheck):

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        mode = str(ctx.config.params.get("material", "fetch"))
        timeout = float(ctx.config.params.get("timeout_s", DEFAULT_TIMEOUT_S))
        for vector in [v for v in ctx.vectors if v.media_type == "application/json"]:
            for case in load_cases(vector):
                for ev in evaluators(ctx):
                    if not all(reads(ev, c) for c in case["channels"]):
                        continue  # an evaluator of other channels has no cell here
                    context = {"case": case, "mode": mode, "timeout_s": float(case.get("timeout_s", timeout))}
                    yield Cell(self.id, ctx.config.level, vector.id, None, ev.id, case["id"], context_json=canonical_json(context))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        ctx = cell.context
        case = ctx["case"]
        assert cell.consumer is not None
        families = sorted({CHANNEL_FAMILY[c] for c in case["channels"]}, key=OPTOUT_FAMILIES.index)
        ev = evaluate_step(cell.consumer, case["site"], case["resource"], case.get("agent", "GPTBot"), list(case["expect"]),
                           families, ctx["mode"], ctx["timeout_s"])
        return replace(cell, steps={"evaluate": ev})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        case = cell.context["case"]
        report = answers.report("evaluate")
        got = {p: report["decisions"].get(p, {}).get("decision") for p in case["expect"]}
        wrong = {p: {"expected": v, "decision": got[p], "source": report["decisions"].get(p, {}).get("source"),
                     "rule": report["decisions"].get(p, {}).get("rule")} for p, v in case["expect"].items() if got[p] != v}
        asked = cell.steps["evaluate"].params
        measurements = {"spec": case["spec"], "rule": case.get("rule"), "expected": case["expect"], "decisions": got,
                        "notes": report.get("notes", []), "url": asked["url"], "agent": asked["agent"],
                        "material": "inline" if asked.get("material") else "fetched by the evaluator"}
        if wrong:
            measurements["wrong"] = wrong
            first = next(iter(wrong.items()))
            return Verdict(Outcome.FAIL, f"{case['spec']}: {first[0]} {first[1]['decision']}, the spec gives {first[1]['expected']}"
                                         f" ({_short(first[1]['source'])})", measurements)
        return Verdict(Outcome.PASS, f"{case['spec']}: " + ", ".join(f"{p} {d}" for p, d in got.items()), measurements)


class Precedence(CaseCheck):
    id = "optout.precedence"
    title = "Opt-out precedence and combination rules"
    description = ("Curated sites for each rule: a TDMRep file beats a header, which beats embedded metadata; in AI"
                   " preferences any disallow wins; robots.txt longest match with * and $; EPUB 3 and PDF namespaces."
                   " Each case names its spec section.")


class Malformed(CaseCheck):
    id = "optout.malformed"
    title = "Malformed and hostile opt-out signals"
    description = ("Reservation values other than 0 and 1, bad structured fields, uppercase and duplicate keys, a huge"
                   " robots.txt, redirects, timeouts and non-UTF-8 bytes get the outcome their spec defines; nothing crashes.")


# -- cross-channel conflicts ----------------------------------------------------------------

class Conflicts(OptoutCheck):
    id = "optout.conflicts"
    title = "Cross-channel conflicts: what each evaluator decides"
    description = ("Sites whose channels disagree (headers allow, XMP prohibits, ...): every evaluator's decision per"
                   " channel and purpose is reported; a cell fails where evaluators reading the same channel disagree.")

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        mode = str(ctx.config.params.get("material", "fetch"))
        timeout = float(ctx.config.params.get("timeout_s", DEFAULT_TIMEOUT_S))
        images = [v for v in ctx.vectors if v.media_type == "image/jpeg"]
        cases_vectors = [v for v in ctx.vectors if v.media_type == "application/json"]
        writers = [w for w in ctx.with_op("metadata.write") if images and w.capability("metadata.write", images[0].media_type)]
        for vector in cases_vectors:
            for case in load_cases(vector):
                cell = Cell(self.id, ctx.config.level, vector.id, None, None, case["id"])
                embeds = [f for f in case["site"] if "embed" in f]
                steps: dict[str, Step] = {}
                readers: list[str] = []
                if embeds:
                    if not images or not writers:
                        yield unsupported(cell, "the case embeds plus:DataMining: needs a JPEG vector and a metadata writer")
                        continue
                    image = images[0]
                    steps["write"] = vendor_step(writers[0].id, "metadata.write", image.id,
                                                 {"fields": {"data_mining": str(embeds[0]["embed"]["data_mining"])}})
                    for r in ctx.with_op("metadata.read"):
                        if r.capability("metadata.read", image.media_type):
                            steps[f"read:{r.id}"] = vendor_step(r.id, "metadata.read", steps["write"], {})
                            readers.append(r.id)
                evs = {e.id: families_read(e) for e in evaluators(ctx)}
                context = {"case": case, "mode": mode, "timeout_s": timeout, "evaluators": evs, "readers": readers,
                           "writer": writers[0].id if embeds else None}
                yield replace(cell, steps=steps, context_json=canonical_json(context))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        ctx = cell.context
        case = ctx["case"]
        files: list[dict[str, Any]] = []
        for f in case["site"]:
            if "embed" in f:
                written = step(cell.steps["write"])
                if not written.ok or written.asset_sha256 is None:
                    return cell
                files.append(_resolve({"path": f["path"], "headers": f.get("headers", []), "sha256": written.asset_sha256}))
            else:
                files.append(f)
        steps = dict(cell.steps)
        for ev, families in ctx["evaluators"].items():
            steps[f"evaluate:{ev}"] = evaluate_step(ev, files, case["resource"], case.get("agent", "GPTBot"),
                                                    list(OPTOUT_PURPOSES), families, ctx["mode"], ctx["timeout_s"])
        return replace(cell, steps=steps)

    judges_clean_errors = False

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
        table: dict[str, dict[str, dict[str, str]]] = {}  # family -> purpose -> who -> decision
        combined: dict[str, dict[str, str]] = {}
        for role in answers.results:
            if role.startswith("evaluate:"):
                who, report = role.split(":", 1)[1], answers.report(role)
                combined[who] = {p: d["decision"] for p, d in report["decisions"].items()}
                for family, said in (report.get("channels") or {}).items():
                    for p, d in said.items():
                        table.setdefault(family, {}).setdefault(p, {})[who] = d
            elif role.startswith("read:"):
                who = role.split(":", 1)[1]
                value = answers.report(role)["fields"].get("data_mining")
                for p, d in plus_decisions(value).items():
                    table.setdefault("plus", {}).setdefault(p, {})[who] = d
        disagreements = []
        for family, by_purpose in table.items():
            for p, said in by_purpose.items():
                if len(set(said.values())) > 1:
                    groups: dict[str, list[str]] = {}
                    for who, d in sorted(said.items()):
                        groups.setdefault(d, []).append(who)
                    disagreements.append(f"{family}/{p}: " + "; ".join(f"{d} by {', '.join(w)}" for d, w in groups.items()))
        per_channel = {f: {p: sorted(set(s.values())) for p, s in by.items()} for f, by in table.items()}
        conflicts = sorted(f"{p}: " + " vs ".join(f"{f} {v[0]}" for f, v in ((f, per_channel[f][p]) for f in per_channel)
                                                if p in per_channel[f] and len(v) == 1 and v[0] != "unknown")
                           for p in OPTOUT_PURPOSES)
        measurements = {"spec": ctx["case"]["spec"], "rule": ctx["case"].get("rule"), "by_channel": table, "combined": combined,
                        "channel_conflicts": conflicts, "disagreements": disagreements, "writer": ctx.get("writer")}
        if disagreements:
            return Verdict(Outcome.FAIL, f"evaluators disagree: {_short(' | '.join(disagreements), 400)}", measurements)
        return Verdict(Outcome.PASS, "every evaluator reads each channel alike; channels say "
                                     + _short("; ".join(c for c in conflicts if " vs " in c) or "the same", 300), measurements)


PURPOSE_CHECKS: tuple[ChannelMatrix, ...] = tuple(ChannelMatrix(p) for p in OPTOUT_PURPOSES)
