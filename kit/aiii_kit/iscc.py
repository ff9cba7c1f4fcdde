"""ISCC (ISO 24138) helpers.

ISCC implementations share the reference API (``gen_meta_code_v0``, ...); these helpers
drive any module with that API, so two implementations see identical inputs and only
their algorithms are compared.  Media preprocessing happens here, once, for all of them.
Images need Pillow (the kit's ``iscc`` extra), imported when first used; audio needs
Chromaprint's ``fpcalc`` program.
"""

from __future__ import annotations

import json
from typing import Any

from aiii_kit._core import AdapterError, Asset, Unsupported
from aiii_kit.vocab import MEDIA_SUFFIX

ISCC_UNITS: tuple[str, ...] = ("meta", "content", "data", "instance", "iscc_code")
#: In function mode, an ``args`` item that stands for the asset: as a stream or as bytes.
ASSET_AS_STREAM = "$asset:stream"
ASSET_AS_BYTES = "$asset:bytes"


def iscc_image_pixels(data: bytes) -> list[int]:
    """32x32 grey pixels of an image, as ISO 24138's Image-Code takes them.

    EXIF orientation applied, transparency flattened onto white, converted to 8-bit grey,
    resized with bicubic resampling.  (Unlike iscc-sdk, uniform borders are not trimmed.)
    """
    import io

    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        img = ImageOps.exif_transpose(opened)
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, rgba)
        grey = img.convert("L").resize((32, 32), Image.Resampling.BICUBIC)
        return list(grey.tobytes())


def chromaprint_vector(data: bytes, suffix: str, fpcalc: str = "fpcalc", timeout_s: float = 120) -> list[int]:
    """The raw, signed Chromaprint vector of a whole audio file (``fpcalc -raw -json -signed -length 0``).

    fpcalc 1.5.1 exits 3 after a successful run that reached the end of the input; the
    JSON on stdout decides.  Raises :class:`Unsupported` when fpcalc is not installed.
    """
    import os
    import shutil
    import subprocess
    import tempfile

    exe = shutil.which(fpcalc)
    if exe is None:
        raise Unsupported(f"audio content codes need Chromaprint's {fpcalc} (Debian: libchromaprint-tools), not found")
    fd, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        proc = subprocess.run([exe, "-raw", "-json", "-signed", "-length", "0", path],
                              capture_output=True, timeout=timeout_s, check=False)
    finally:
        os.unlink(path)
    try:
        doc = json.loads(proc.stdout.decode("utf-8", "replace"))
        vector = doc["fingerprint"]
    except (ValueError, KeyError, TypeError):
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AdapterError(f"fpcalc exited {proc.returncode} without a fingerprint: {err[-1] if err else 'no output'}") from None
    if not isinstance(vector, list) or not all(isinstance(v, int) for v in vector):
        raise AdapterError("fpcalc's fingerprint is not a list of integers")
    return vector


def iscc_generate(impl: Any, asset: Asset, params: dict[str, Any], fpcalc: str = "fpcalc") -> dict[str, Any]:
    """An ``identifier.generate`` answer from a module with the ISCC reference API."""
    import io

    if params.get("function"):
        return iscc_function(impl, asset, params)
    bits = int(params.get("bits", 64))
    wanted = params.get("units") or list(ISCC_UNITS)
    codes: dict[str, str] = {}
    not_made: dict[str, str] = {}
    kind: str | None = None
    meta = params.get("meta")
    if "meta" in wanted or "iscc_code" in wanted:
        if meta:
            codes["meta"] = str(impl.gen_meta_code_v0(meta["name"], meta.get("description") or "", bits=bits)["iscc"])
        else:
            not_made["meta"] = "no metadata given"
    if "content" in wanted or "iscc_code" in wanted:
        major = asset.media_type.split("/", 1)[0]
        try:
            if major == "image":
                kind = "image"
                codes["content"] = str(impl.gen_image_code_v0(iscc_image_pixels(asset.data), bits=bits)["iscc"])
            elif major == "audio":
                kind = "audio"
                vector = chromaprint_vector(asset.data, MEDIA_SUFFIX.get(asset.media_type, ".bin"), fpcalc)
                codes["content"] = str(impl.gen_audio_code_v0(vector, bits=bits)["iscc"])
            elif asset.media_type == "text/plain":
                kind = "text"
                codes["content"] = str(impl.gen_text_code_v0(asset.data.decode("utf-8"), bits=bits)["iscc"])
            else:
                not_made["content"] = f"no content code for {asset.media_type}"
        except Unsupported as exc:
            not_made["content"] = str(exc)
        except (OSError, ValueError) as exc:
            raise AdapterError(f"cannot decode the {asset.media_type} asset: {exc}") from exc
    if "data" in wanted or "iscc_code" in wanted:
        codes["data"] = str(impl.gen_data_code_v0(io.BytesIO(asset.data), bits=bits)["iscc"])
    if "instance" in wanted or "iscc_code" in wanted:
        codes["instance"] = str(impl.gen_instance_code_v0(io.BytesIO(asset.data), bits=bits)["iscc"])
    if "iscc_code" in wanted:
        parts = [codes[u] for u in ("meta", "content", "data", "instance") if u in codes]
        codes["iscc_code"] = str(impl.gen_iscc_code_v0(parts)["iscc"])
    codes = {u: c for u, c in codes.items() if u in wanted}
    return {"scheme": "iscc", "codes": codes, "content_kind": kind,
            "not_made": {u: why for u, why in not_made.items() if u in wanted}}


def iscc_function(impl: Any, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
    """Function mode: one ISO 24138 function called with the conformance data's inputs."""
    import io

    name = str(params["function"])
    fn = getattr(impl, name, None)
    if fn is None:
        raise Unsupported(f"this implementation has no {name}")
    args: list[Any] = []
    for arg in params.get("args", []):
        if arg == ASSET_AS_STREAM:
            args.append(io.BytesIO(asset.data))
        elif arg == ASSET_AS_BYTES:
            args.append(asset.data)
        else:
            args.append(arg)
    try:
        result = fn(*args)
    except (TypeError, ValueError) as exc:
        raise AdapterError(f"{name} refused its inputs: {exc}") from exc
    return {"scheme": "iscc", "outputs": _jsonable(result)}


def _jsonable(value: Any) -> Any:
    """A function's result in the conformance data's JSON form (bytes as ``bytes:<hex>``)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes:" + bytes(value).hex()
    if isinstance(value, dict) or hasattr(value, "keys"):
        return {str(k): _jsonable(value[k]) for k in list(value.keys())}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
