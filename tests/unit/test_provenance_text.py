"""The C2PA-in-text checks as functions: what a channel did to a marked text, and the cells
they plan for signers, re-embedders and readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from channel_media import TEXTS, run, text

from conformance.channels import NAMED, TEXT_CHANNELS
from conformance.provenance.text import TextChannels, TextEmbedding, channel_effect
from runner.check import Fixtures, PlanContext
from runner.errors import PlanError
from runner.model import Capability, CheckConfig, Level, Outcome, Vector, VectorSelector, VendorManifest

#: What each text channel does to a marked vector, as the e2e run finds it too.
EFFECTS = {"text-nfc": "unchanged", "text-nfkc": "unchanged", "text-trim": "unchanged",
           "text-clipboard": "wrapper lost", "text-html": "unchanged", "text-utf16": "unchanged"}


@pytest.mark.parametrize("name", TEXT_CHANNELS)
def test_channel_effect_names_what_each_channel_did_to_a_marked_text(name: str) -> None:
    latin = next(p for p in TEXTS if "latin" in p.name)
    marked = text(latin, marked=True)
    assert channel_effect(marked.data, run(name, marked).data) == EFFECTS[name]


def test_channel_effect_tells_a_changed_text_from_a_lost_wrapper() -> None:
    cjk = next(p for p in TEXTS if "cjk" in p.name)
    marked = text(cjk, marked=True)
    assert channel_effect(marked.data, run("text-nfkc", marked).data) == "visible text changed"
    wrapper = marked.data[marked.data.index("\ufeff".encode()):]
    assert channel_effect(marked.data, marked.data.replace(b"\n", b"\r\n")) == "visible text changed"
    assert channel_effect(marked.data, wrapper) == "visible text changed"  # the text gone, the wrapper kept
    assert channel_effect(marked.data, marked.data[:-8]) == "wrapper lost"  # a wrapper cut short is lost too
    assert channel_effect(marked.data, marked.data.decode().encode("utf-8")) == "unchanged"


def _vendor(vid: str, *caps: Capability) -> VendorManifest:
    return VendorManifest(id=vid, name=vid, organisation="test", placement="inproc", folder=Path("/nonexistent"),
                          version_rule={}, capabilities=caps)


SIGNER = _vendor("signer", Capability("provenance.sign", ("text/plain",), {}),
                 Capability("provenance.read", ("text/plain",), {"validates": True}))
EMBEDDER = _vendor("embedder", Capability("provenance.sign", ("text/plain",), {"signs": False}),
                   Capability("provenance.read", ("text/plain",), {"validates": False}))
IMAGES_ONLY = _vendor("images", Capability("provenance.sign", ("image/jpeg",), {}),
                      Capability("provenance.read", ("image/jpeg",), {}))
VECTORS = [Vector("t", Path("/nonexistent/t.txt"), "text/plain", "0" * 64, "test", ("text",)),
           Vector("p", Path("/nonexistent/p.jpg"), "image/jpeg", "0" * 64, "test", ("photo",))]


def _ctx(check: str, **params: Any) -> PlanContext:
    config = CheckConfig(id=check, level=Level.MUST, vectors=VectorSelector(), params=params)
    return PlanContext(config=config, vectors=VECTORS, vendors={v.id: v for v in (SIGNER, EMBEDDER, IMAGES_ONLY)},
                       fixtures=Fixtures(trust_anchor_pem="", credentials=lambda _v: {}), channels=NAMED)


def test_text_plans_signer_and_re_embedder_x_every_reader_on_text_only() -> None:
    cells = {(c.producer, c.consumer): c for c in TextEmbedding().plan(_ctx("provenance.text"))}
    assert set(cells) == {(p, r) for p in ("signer", "signer+embedder") for r in ("signer", "embedder", "images")}
    assert all(c.vector == "t" for c in cells.values())  # the JPEG is not a text; the embed-only vendor signs nothing
    unsupported = cells[("signer", "images")]
    assert unsupported.preset == (Outcome.UNSUPPORTED, "images does not read manifests in text/plain")
    steps = cells[("signer+embedder", "embedder")].steps
    assert steps["embedded"].vendor == "embedder" and steps["embedded"].source == steps["signed"]
    assert steps["read"].source == steps["embedded"] and steps["own"].vendor == "signer"


def test_text_channels_plans_each_channel_and_refuses_a_channel_of_another_kind() -> None:
    cells = list(TextChannels().plan(_ctx("provenance.text_channels", channels=["text-clipboard", "text-nfkc"])))
    assert {(c.variant, c.consumer) for c in cells} == {(n, r) for n in ("text-clipboard", "text-nfkc")
                                                         for r in ("signer", "embedder", "images")}
    assert all(c.producer == "signer" for c in cells)
    with pytest.raises(PlanError, match=r"provenance.text_channels: params.channels: \['jpeg-q50'\] are not text"):
        list(TextChannels().plan(_ctx("provenance.text_channels", channels=["jpeg-q50"])))
