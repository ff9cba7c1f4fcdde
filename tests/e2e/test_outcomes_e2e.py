"""How step failures and declared known issues become outcomes."""

from __future__ import annotations

import json
import sqlite3

import pytest
from helpers import TESTS

from conformance.discovery import discover
from runner.run import RunOptions, execute_run


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict], int]:
    tmp = tmp_path_factory.mktemp("fake")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(tmp / "home"))
        summary = execute_run(
            RunOptions(profile=str(TESTS / "profiles" / "fakesigner.toml"), out=str(tmp / "out"),
                       store=str(tmp / "s.sqlite"), extra_vendor_dirs=[str(TESTS / "doubles")], fail_on="MUST"),
            discover(), progress=False,
        )
    with sqlite3.connect(tmp / "s.sqlite") as db:
        cells = {cid: json.loads(rec) for cid, rec in db.execute("SELECT cell_id, record FROM cells")}
    return cells, summary.failing


def test_declared_known_issue_turns_a_failure_into_xfail(fake_run: tuple[dict[str, dict], int]) -> None:
    cells, _ = fake_run
    got = cells["provenance.sign_validate/kodim01-jpg/fakesigner/c2pa-python/anchor"]
    assert got["outcome"] == "xfail"
    assert "signing is not implemented yet" in got["reason"] and "no manifest" in got["reason"]
    assert got["expectation"]["link"] == "https://example.org/fakesigner/issues/1"


def test_expired_known_issue_no_longer_hides_the_failure(fake_run: tuple[dict[str, dict], int]) -> None:
    cells, failing = fake_run
    got = cells["provenance.sign_validate/kodim01-jpg/fakesigner/exiftool/anchor"]
    assert got["outcome"] == "fail"
    assert "expired 2001-01-01" in got["reason"]
    assert failing >= 1, "the expired issue counts against the MUST level again"


def test_a_lying_producer_blocks_the_harness_steps_after_it(fake_run: tuple[dict[str, dict], int]) -> None:
    cells, _ = fake_run
    # there is no signature to change in an unsigned file: the harness step cannot run
    got = cells["provenance.tamper/kodim01-jpg/fakesigner/c2pa-python/signature"]
    assert got["outcome"] == "blocked"
    assert "tamper.signature" in got["reason"]
    # a one-byte pixel change can still run; the validator then finds no manifest at all
    pixel = cells["provenance.tamper/kodim01-jpg/fakesigner/c2pa-python/pixel"]
    assert pixel["outcome"] == "fail" and "no longer found" in pixel["reason"]
    # the honest signer in the same run is unaffected
    assert cells["provenance.tamper/kodim01-jpg/c2pa-python/c2pa-python/signature"]["outcome"] == "pass"


def test_undeclared_capability_is_unsupported_not_failed(fake_run: tuple[dict[str, dict], int]) -> None:
    cells, _ = fake_run
    # exiftool decodes but does not validate, so a signature tamper is not its to judge
    got = cells["provenance.tamper/kodim01-jpg/c2pa-python/exiftool/signature"]
    assert got["outcome"] == "unsupported" and "does not validate" in got["reason"]
