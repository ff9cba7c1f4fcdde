"""iscc-sdk: the ISCC toolkit (media processing on top of iscc-lib), and its IEP-0020
``io.iscc.v0`` C2PA soft bindings.

It runs in its own environment (the process placement): with its text extractor it is
several hundred megabytes.  Offline it makes image codes and, from text the adapter
hands it, text codes; its audio and video modes download fpcalc and ffmpeg at first use,
so they are declared unsupported.  Its text extraction (Apache Tika) is not used.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import iscc_lib
import iscc_sdk as idk
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.vocab import MEDIA_SUFFIX

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif"})


class IsccSdkAdapter(Adapter):
    def implementation_version(self) -> str | None:
        return str(idk.__version__)

    def identifier_generate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("function"):
            raise Unsupported("iscc-sdk works on files; the conformance functions are iscc-lib's")
        if asset.media_type not in IMAGE_TYPES and asset.media_type != "text/plain":
            raise Unsupported(f"iscc-sdk needs downloaded tools (fpcalc, ffmpeg) for {asset.media_type}")
        fd, path = tempfile.mkstemp(suffix=MEDIA_SUFFIX.get(asset.media_type, ".bin"))
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(asset.data)
            return self._generate(path, asset, params)
        except (idk.IsccExtractionError, OSError, ValueError) as exc:
            raise AdapterError(f"iscc-sdk: {exc}") from exc
        finally:
            os.unlink(path)

    def _generate(self, path: str, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        bits = int(params.get("bits", 64))
        wanted = params.get("units") or ["meta", "content", "data", "instance", "iscc_code"]
        answer: dict[str, Any] = {"scheme": "iscc"}
        codes: dict[str, str] = {}
        not_made: dict[str, str] = {}
        meta = params.get("meta")
        if meta:
            codes["meta"] = iscc_lib.gen_meta_code_v0(meta["name"], meta.get("description") or "", bits=bits)["iscc"]
        else:
            not_made["meta"] = "no metadata given"
        opts = {"bits": bits, "extract_meta": False, "create_thumb": False}
        if asset.media_type == "text/plain":
            codes["content"] = idk.code_text(path, text=asset.data.decode("utf-8"), **opts).iscc
            answer["content_kind"] = "text"
        else:
            codes["content"] = idk.code_image(path, **opts).iscc
            answer["content_kind"] = "image"
        codes["data"] = idk.code_data(path, bits=bits).iscc
        codes["instance"] = idk.code_instance(path, bits=bits).iscc
        parts = [codes[u] for u in ("meta", "content", "data", "instance") if u in codes]
        codes["iscc_code"] = iscc_lib.gen_iscc_code_v0(parts)["iscc"]
        answer["codes"] = {u: str(c) for u, c in codes.items() if u in wanted}
        answer["not_made"] = {u: why for u, why in not_made.items() if u in wanted}
        if params.get("soft_binding"):
            # IEP-0020: 256-bit units (no Semantic-Codes: their models are not available offline)
            sb = idk.soft_binding(path, semantic=False)
            definition = idk.soft_binding_definition(sb)
            answer["soft_binding"] = {
                "alg": definition["data"]["alg"],
                "value_hex": bytes(sb.value).hex(),
                "units": [str(u) for u in sb.units],
                "binding_metadata": definition["data"].get("bindingMetadata") or {},
            }
        return answer
