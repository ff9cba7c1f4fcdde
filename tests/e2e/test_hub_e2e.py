"""The hub as participants meet it: `aiii hub serve` on loopback (a real uvicorn server),
`aiii submit` and raw HTTP uploads.  Each upload gets a state; every bad one is refused
with its state and reason and changes nothing else; the published site and its API are
served; the OpenAPI document is valid."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import ROOT, aiii, serving_hub

PROFILE = """name = "tiny"
description = "exiv2 and exiftool on one JPEG"
vendors = ["exiftool", "exiv2", "acme"]

[[checks]]
id = "metadata.roundtrip"
level = "MUST"
vectors = {{ ids = ["kodim01-jpg"] }}
params = {{ value_sets = ["{values}"] }}
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    w = tmp_path_factory.mktemp("hub")
    home = w / "home"
    env = {"AIII_HUB_KEYS": str(w / "hub-public")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        proc = aiii(home, *args, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc

    run("keys", "generate", "--out", str(w / "keys"), "--id", "hub")
    run("keys", "generate", "--out", str(w / "keys"), "--id", "acme")
    (w / "hub-public").mkdir()
    shutil.copy(w / "keys" / "hub.pub", w / "hub-public")
    acme = w / "vendors" / "acme"
    shutil.copytree(ROOT / "vendors" / "exiv2", acme, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    toml = acme / "vendor.toml"
    toml.write_text(toml.read_text().replace('id = "exiv2"', 'id = "acme"', 1).replace('role = "reference"', 'role = "participant"'))
    (acme / "keys").mkdir()
    shutil.copy(w / "keys" / "acme.pub", acme / "keys")
    (w / "tiny.toml").write_text(PROFILE.format(values="ascii"))
    (w / "tiny-old.toml").write_text(PROFILE.format(values="unicode"))
    common = ("--vendor-dir", str(w / "vendors"), "-q")
    hub_sign = ("--sign-key", str(w / "keys" / "hub.pem"), "--sign-as", "hub")
    run("run", "--profile", str(w / "tiny-old.toml"), *common, *hub_sign, "--out", str(w / "old"))  # an older plan
    run("run", "--profile", str(w / "tiny.toml"), *common, *hub_sign, "--out", str(w / "r1"))
    run("run", "--profile", str(w / "tiny.toml"), *common, "--sign-key", str(w / "keys" / "acme.pem"),
        "--sign-as", "acme", "--out", str(w / "acme-run"))
    run("run", "--profile", str(w / "tiny.toml"), *common, "--produce", "acme", "--sign-key", str(w / "keys" / "acme.pem"),
        "--sign-as", "acme", "--out", str(w / "acme-pack"))
    tokens = {who: aiii(home, "hub", "token", who, "--tokens", str(w / "tokens.json")).stdout.strip()
              for who in ("hub", "acme")}
    assert all(len(t) > 30 for t in tokens.values())
    with serving_hub(home, "--tokens", str(w / "tokens.json"), "--site", str(w / "site"), "--history",
                     str(w / "history.sqlite"), "--state", str(w / "state"), "--keys", str(w / "vendors"),
                     "--max-upload-mib", "1", env=env) as url:
        yield {"w": w, "home": home, "url": url, "tokens": tokens, "env": env}


def _post(hub: dict[str, Any], files: dict[str, Any], token: str | None, path: str = "api/v1/uploads",
          **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(hub["url"] + path, files=files, headers=headers, timeout=120, **kwargs)


def _bundle_files(folder: Path, bundle: bytes | None = None) -> dict[str, Any]:
    return {"bundle": ("results.json", bundle if bundle is not None else (folder / "results.json").read_bytes()),
            "envelope": ("results.dsse.json", (folder / "results.dsse.json").read_bytes())}


def _published(hub: dict[str, Any]) -> str:
    """What the hub publishes of its history: its run list, hashed."""
    answer = requests.get(hub["url"] + "api/runs.json", timeout=30)
    return hashlib.sha256(answer.content).hexdigest() if answer.status_code == 200 else str(answer.status_code)


def _submit(hub: dict[str, Any], what: Path, who: str) -> subprocess.CompletedProcess[str]:
    return aiii(hub["home"], "submit", hub["url"], str(what), env={**hub["env"], "AIII_HUB_TOKEN": hub["tokens"][who]})


def test_a_signed_bundle_is_ingested_and_published_and_a_replay_changes_nothing(hub: dict[str, Any]) -> None:
    sent = _submit(hub, hub["w"] / "r1", "hub")
    assert sent.returncode == 0 and sent.stdout.startswith(f"valid: {hub['w'] / 'r1' / 'results.json'}: run "), sent.stderr
    runs = requests.get(hub["url"] + "api/runs.json", timeout=30).json()["runs"]
    run_id = json.loads((hub["w"] / "r1" / "results.json").read_text())["run"]["id"]
    assert [r["run_id"] for r in runs] == [run_id]
    landing = requests.get(hub["url"], timeout=30)
    assert landing.status_code == 200 and "Who works with whom" in landing.text and run_id in landing.text
    scorecard = requests.get(hub["url"] + f"runs/{run_id}/site/index.html", timeout=30)
    assert scorecard.status_code == 200 and "metadata" in scorecard.text
    before = _published(hub)
    again = _submit(hub, hub["w"] / "r1", "hub")
    assert again.returncode == 0 and again.stdout.startswith("duplicate: "), again.stdout + again.stderr
    assert _published(hub) == before
    upload_id = again.stdout.rsplit("(upload ", 1)[1].rstrip(")\n")
    record = requests.get(hub["url"] + f"api/v1/uploads/{upload_id}", timeout=30).json()
    assert (record["state"], record["participant"], record["kind"]) == ("duplicate", "hub", "bundle")


def _refusals(hub: dict[str, Any]) -> dict[str, tuple[requests.Response, int, str, str]]:
    w, tokens = hub["w"], hub["tokens"]
    raw = (w / "r1" / "results.json").read_bytes()

    def chunked() -> Iterator[bytes]:
        yield b"--x\r\n"

    return {
        "no token": (_post(hub, _bundle_files(w / "r1"), None), 401, "invalid", "no upload token"),
        "another's token": (_post(hub, _bundle_files(w / "r1"), "not-a-token"), 401, "invalid", "an unknown upload token"),
        "signed for another": (_post(hub, _bundle_files(w / "r1"), tokens["acme"]), 403, "invalid",
                               "signed for hub, but the token is acme's"),
        "oversized": (_post(hub, {"bundle": ("results.json", b"{" + b" " * (2 * 1024 * 1024) + b"}")}, tokens["hub"]),
                      413, "invalid", "oversized: "),
        "truncated": (_post(hub, _bundle_files(w / "r1", raw[: len(raw) // 2]), tokens["hub"]), 400, "invalid", ""),
        "not JSON": (_post(hub, _bundle_files(w / "r1", b"\x89PNG not json"), tokens["hub"]), 400, "invalid", ""),
        "not multipart": (_post(hub, {}, tokens["hub"], data=b"junk"), 400, "invalid", ""),
        "no length": (requests.post(hub["url"] + "api/v1/uploads", data=chunked(), timeout=30,
                                    headers={"Authorization": f"Bearer {tokens['hub']}",
                                             "Content-Type": "multipart/form-data; boundary=x"}),
                      411, "invalid", "no Content-Length"),
        "another plan": (_post(hub, _bundle_files(w / "old"), tokens["hub"]), 409, "stale", "plan"),
    }


def test_every_bad_upload_is_refused_with_its_state_and_reason_and_changes_nothing(hub: dict[str, Any]) -> None:
    assert _submit(hub, hub["w"] / "r1", "hub").returncode == 0  # the history has the latest plan's run
    before = _published(hub)
    site_files = sorted(str(p.relative_to(hub["w"] / "site")) for p in (hub["w"] / "site").rglob("*") if p.is_file())
    for name, (answer, status, state, says) in _refusals(hub).items():
        assert answer.status_code == status, (name, answer.status_code, answer.text[:300])
        record = answer.json()
        assert record["state"] == state and says in (record["reason"] or ""), (name, record)
        assert record["reason"] and "\n" not in record["reason"], (name, record)
    assert _published(hub) == before, "a refused upload changes nothing"
    after = sorted(str(p.relative_to(hub["w"] / "site")) for p in (hub["w"] / "site").rglob("*") if p.is_file())
    assert after == site_files


def test_submit_says_why_an_upload_was_refused_and_exits_1(hub: dict[str, Any]) -> None:
    refused = _submit(hub, hub["w"] / "r1", "acme")
    assert refused.returncode == 1 and refused.stderr.startswith("invalid: ") and "signed for hub" in refused.stderr
    gone = aiii(hub["home"], "submit", "http://127.0.0.1:9/", str(hub["w"] / "r1"), env={"AIII_HUB_TOKEN": "x"})
    assert gone.returncode == 2 and "cannot reach the hub" in gone.stderr


def test_a_participant_uploads_its_own_signed_bundle_and_pack(hub: dict[str, Any]) -> None:
    own = _submit(hub, hub["w"] / "acme-run", "acme")
    assert own.returncode == 0 and own.stdout.startswith("valid: "), own.stdout + own.stderr
    pack = hub["w"] / "acme-pack" / "pack-acme.tar"
    sent = _submit(hub, pack, "acme")
    assert sent.returncode == 0 and sent.stdout.startswith("valid: "), sent.stdout + sent.stderr
    listed = requests.get(hub["url"] + "api/v1/packs", timeout=30).json()["packs"]
    assert [p["producer"] for p in listed] == ["acme"]
    kept = requests.get(hub["url"] + listed[0]["href"], timeout=30)
    assert kept.status_code == 200 and kept.content == pack.read_bytes()
    assert _submit(hub, pack, "acme").stdout.startswith("duplicate: ")
    raw = bytearray(pack.read_bytes())
    raw[len(raw) // 3] ^= 1
    bad = _post(hub, {"pack": ("pack.tar", bytes(raw))}, hub["tokens"]["acme"], "api/v1/packs")
    assert bad.status_code == 400 and bad.json()["state"] == "invalid" and "refused" in bad.json()["reason"]


def test_the_openapi_document_describes_the_api(hub: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    doc = requests.get(hub["url"] + "api/v1/openapi.json", timeout=30).json()
    validate(doc)
    assert {"/api/v1/uploads", "/api/v1/packs", "/api/v1/uploads/{upload_id}"} <= set(doc["paths"])
    states = doc["components"]["schemas"]["Upload"]["properties"]["state"]["enum"]
    assert states == ["received", "valid", "invalid", "duplicate", "stale"]


def test_a_browser_asking_for_the_icon_gets_no_error(hub: dict[str, Any]) -> None:
    """Chromium asks for /favicon.ico on a document that is not HTML (a badge, the API's
    JSON); a 404 there was an error in its console on the crawl of the hub's site."""
    got = requests.get(hub["url"] + "favicon.ico", timeout=30)
    assert got.status_code == 204 and got.content == b""


def test_the_tokens_file_keeps_only_digests_readable_by_its_owner(hub: dict[str, Any]) -> None:
    text = (hub["w"] / "tokens.json").read_text()
    assert all(token not in text for token in hub["tokens"].values())
    digests = json.loads(text)["participants"]
    assert {who: d["sha256"] for who, d in digests.items()} == {
        who: hashlib.sha256(token.encode()).hexdigest() for who, token in hub["tokens"].items()}
    assert (hub["w"] / "tokens.json").stat().st_mode & 0o077 == 0
