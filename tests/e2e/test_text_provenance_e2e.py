"""C2PA in text end to end: ``aiii run`` of the text checks on the text vectors with the three
text codecs, and what each text channel does to a marked text, as the cells record it."""

from __future__ import annotations

from pathlib import Path

from helpers import ROOT, aiii, cells

PROFILE = ROOT / "tests" / "profiles" / "text.toml"
VECTORS = ("text-arabic-muallaqa", "text-cjk-classics", "text-cyrillic-onegin", "text-emoji-test", "text-latin-alice")
CODECS = ("c2pa-text", "c2pa-unstructured-text", "c2patxt")
READERS = (*CODECS, "encypher-c2pa")  # a validator that takes text too


def test_every_embedder_x_reader_and_every_text_channel_on_the_text_vectors(tmp_path: Path) -> None:
    proc = aiii(tmp_path / "home", "run", "--profile", str(PROFILE), "--out", str(tmp_path / "out"),
                "--store", str(tmp_path / "s.sqlite"), "-q", timeout=600)
    assert proc.returncode == 0, proc.stderr
    got = cells(tmp_path / "s.sqlite")
    direct = [c for c in got.values() if c["check"] == "provenance.text"]
    # 5 vectors x (the signer + 2 re-embedders) x 4 readers; 5 x 6 channels x 4 readers
    assert len(direct) == 60 and len(got) == 60 + 120
    assert {c["vector"] for c in direct} == set(VECTORS)
    assert {c["producer"] for c in direct} == {"c2patxt", "c2patxt+c2pa-text", "c2patxt+c2pa-unstructured-text"}
    for c in direct:
        m = c["measurements"]
        assert c["outcome"] == "pass" and m["bytes"] == "identical", c["id"]
        assert m["manifest_store"]["sha256"] == m["signer_manifest_store"]["sha256"]
        assert m["signer_manifest_store"]["size"] > 1000  # encypher-c2pa gives the digest only
        if c["consumer"] in ("c2patxt", "encypher-c2pa"):
            assert m["reader"]["state"] == "Valid" and m["reader"]["failure"] == ["signingCredential.untrusted"]
        if c["producer"] != "c2patxt":
            assert m["text"] == "identical", c["id"]  # re-embedding rebuilt the signer's text exactly

    channels = {(c["variant"], c["vector"], c["consumer"]): c for c in got.values() if c["check"] == "provenance.text_channels"}
    assert all(c["outcome"] == "pass" for c in channels.values()), [c["reason"] for c in channels.values() if c["outcome"] != "pass"]
    for vector in VECTORS:
        for reader in READERS:
            clip = channels[("text-clipboard", vector, reader)]["measurements"]
            assert clip["channel_effect"] == "wrapper lost" and clip["bytes"] == "none found"
            for kept in ("text-nfc", "text-html", "text-utf16", "text-trim"):
                m = channels[(kept, vector, reader)]["measurements"]
                assert m["channel_effect"] == "unchanged" and m["bytes"] == "identical", (kept, vector, reader)
    # NFKC folds the CJK text's ideographic spaces: the manifest is found intact but no longer binds the text
    nfkc = channels[("text-nfkc", "text-cjk-classics", "c2patxt")]["measurements"]
    assert nfkc["channel_effect"] == "visible text changed" and nfkc["bytes"] == "identical"
    assert nfkc["reader"]["state"] == "Invalid"
    assert channels[("text-nfkc", "text-latin-alice", "c2patxt")]["measurements"]["reader"]["state"] == "Valid"
    assert channels[("text-nfkc", "text-cjk-classics", "encypher-c2pa")]["measurements"]["reader"]["state"] == "Invalid"
