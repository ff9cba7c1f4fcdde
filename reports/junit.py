"""JUnit XML for CI: one testsuite per check, one testcase per cell."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from reports.bundle import validate_bundle
from reports.text import shorten, visible

#: Longest message attribute; the element text carries the whole reason.
MAX_MESSAGE = 1000


def _t(text: str) -> str:
    """Element text: XML-legal, hidden characters visible, newlines kept."""
    return visible(text, keep_newlines=True)


def _a(text: str) -> str:
    """Attribute value: XML-legal, on one line."""
    return visible(text)


def _case_name(cell: dict[str, Any]) -> str:
    prefix = f"{cell['check']}/"
    return cell["id"][len(prefix) :] if cell["id"].startswith(prefix) else cell["id"]


def _details(cell: dict[str, Any]) -> str:
    lines = [
        f"cell: {cell['id']}",
        f"level: {cell['level']}",
        f"producer: {cell['producer'] or '-'}",
        f"consumer: {cell['consumer'] or '-'}",
        f"vector: {cell['vector']}",
        f"channel: {cell['channel'] or '-'}",
        f"variant: {cell['variant'] or '-'}",
        f"reason: {cell['reason']}",
    ]
    if cell["measurements"]:
        dumped = json.dumps(cell["measurements"], indent=2, sort_keys=True, ensure_ascii=False)
        lines.append("measurements: " + dumped)
    return _t("\n".join(lines))


def _expectation_text(cell: dict[str, Any]) -> str:
    expectation = cell["expectation"]
    if expectation is None:
        return ""
    return f"{expectation['reason']} ({expectation['link']}, expires {expectation['expires']})"


def _testcase(suite: ET.Element, cell: dict[str, Any]) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_a(cell["check"]),
        name=_a(_case_name(cell)),
        time=f"{cell['duration_s']:.3f}",
    )
    outcome = cell["outcome"]
    reason = _a(shorten(cell["reason"], MAX_MESSAGE))
    if outcome == "fail":
        ET.SubElement(case, "failure", message=reason, type=cell["level"]).text = _details(cell)
    elif outcome == "error":
        ET.SubElement(case, "error", message=reason, type="error").text = _details(cell)
    elif outcome in ("unsupported", "blocked"):
        ET.SubElement(case, "skipped", message=f"{outcome}: {reason}", type=outcome).text = _details(cell)
    elif outcome == "inconclusive":
        # Not a verdict either way: CI must not go red for it, but should show it.
        message = f"insufficient evidence: {reason}"
        ET.SubElement(case, "skipped", message=message, type="inconclusive").text = _details(cell)
    elif outcome == "xfail":
        message = f"known issue: {reason} — {_a(_expectation_text(cell))}"
        ET.SubElement(case, "skipped", message=message, type="xfail").text = _details(cell)
    elif outcome == "xpass":
        # Passed, but the declared known issue no longer holds: say so where CI shows it.
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="outcome", value="xpass")
        if cell["expectation"] is not None:
            ET.SubElement(properties, "property", name="expectation", value=_a(cell["expectation"]["link"]))
        out = ET.SubElement(case, "system-out")
        out.text = _t(f"XPASS: expected to fail ({_expectation_text(cell)}) but passed: {cell['reason']}")


def build_junit(bundle: dict[str, Any]) -> ET.ElementTree:
    """The JUnit document for ``bundle`` (not validated here)."""
    by_check: dict[str, list[dict[str, Any]]] = {check["id"]: [] for check in bundle["checks"]}
    for cell in bundle["cells"]:
        by_check[cell["check"]].append(cell)
    run = bundle["run"]
    root = ET.Element("testsuites", name=_a(f"aiii-interop {run['profile']} {run['id']}"))
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped", "time"), 0.0)
    for check in bundle["checks"]:
        cells = by_check[check["id"]]
        counts = Counter(cell["outcome"] for cell in cells)
        stats: dict[str, float] = {
            "tests": len(cells),
            "failures": counts["fail"],
            "errors": counts["error"],
            "skipped": sum(counts[o] for o in ("unsupported", "blocked", "xfail", "inconclusive")),
            "time": sum(cell["duration_s"] for cell in cells),
        }
        for key, value in stats.items():
            totals[key] += value
        attributes = {"name": _a(check["id"]), "timestamp": _a(run["started"])}
        attributes |= {key: f"{value:.3f}" if key == "time" else str(int(value)) for key, value in stats.items()}
        suite = ET.SubElement(root, "testsuite", attributes)
        properties = ET.SubElement(suite, "properties")
        for name, value in (("level", check["level"]), ("family", check["family"]), ("title", check["title"])):
            ET.SubElement(properties, "property", name=name, value=_a(value))
        for cell in cells:
            _testcase(suite, cell)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(int(totals[key])))
    root.set("time", f"{totals['time']:.3f}")
    return ET.ElementTree(root)


def write_junit(bundle: dict[str, Any], path: Path | str, *, validate: bool = True) -> Path:
    """Write ``bundle`` as JUnit XML to ``path``."""
    if validate:
        validate_bundle(bundle)
    tree = build_junit(bundle)
    ET.indent(tree)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tree.write(target, encoding="utf-8", xml_declaration=True)
    return target
