"""The test vector catalogue: real media files, their checksums, licences and tags.

``test_vectors/catalogue.toml`` lists each source file once (schema:
``runner/schemas/catalogue.schema.json``).  Loading checks every file against its
sha256 and adds the derived vectors (other formats of a source, made by
:mod:`runner.derive` and kept in a cache).  :func:`runner.vector_import.import_directory` writes a catalogue
for a folder of a user's own media so the same harness can run on it.

The loaded catalogue is :class:`runner.catalogue.Catalogue`; what a vector file may be
(regular, inside its folder, its sniffed media type) is :mod:`runner.vector_files`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from aiii_kit.vocab import MEDIA_SUFFIX

from runner import derive as deriver
from runner.catalogue import Catalogue, CatalogueError
from runner.limits import file_problem
from runner.model import Limits, Vector
from runner.paths import display
from runner.vector_files import (
    _MEDIA_SUFFIXES,
    _printable,
    decode_problem,
    open_regular,
    refusal,
    sniff_file,
    sniff_media_type,
)

CATALOGUE_FILE = "catalogue.toml"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "catalogue.schema.json"

ProgressCallback = Callable[[int, int, str], None]


# -- attack strings -----------------------------------------------------------------


def load_attack_strings(root: Path) -> dict[str, list[str]]:
    """Injection strings by list name (``xss``, ``sql_injection``, ...).

    ``root`` is the catalogue folder (holding ``attacks/``) or the attacks folder
    itself.  Lines split on ``\\n`` only, so carriage returns, NULs and other control
    characters inside a string are kept; empty lines are dropped.
    """
    folder = root / "attacks" if (root / "attacks").is_dir() else root
    lists: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.attack")):
        text = path.read_bytes().decode("utf-8")
        lists[path.stem] = [line for line in text.split("\n") if line]
    if not lists:
        raise CatalogueError(f"{display(folder)}: no *.attack files")
    return lists


# -- loading ------------------------------------------------------------------------


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _key_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _schema_problem(doc: Any) -> str | None:
    """The first schema violation in document order as ``key.path: message``."""
    errors = list(_validator().iter_errors(doc))
    if not errors:
        return None

    def order(err: jsonschema.ValidationError) -> list[tuple[int, Any]]:
        return [(0, p) if isinstance(p, int) else (1, str(p)) for p in err.absolute_path]

    first_path = order(min(errors, key=order))
    candidates = [e for e in errors if order(e) == first_path]
    err = jsonschema.exceptions.best_match(candidates)
    description = err.schema.get("description") if isinstance(err.schema, dict) else None
    if description and err.validator in ("pattern", "enum", "const", "type", "minLength", "maxLength"):
        message = f"expected {description}, got {_short(err.instance)}"
    else:
        message = err.message if len(err.message) <= 160 else err.message[:159] + "…"
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{_key_path(err.absolute_path)}: {message}{suffix}".replace("\n", " ")


def _read_document(directory: Path) -> tuple[Path, bytes, dict[str, Any]]:
    """The catalogue file, its bytes and its schema-valid document."""
    path = directory / CATALOGUE_FILE
    where = display(path)
    try:
        with open_regular(path) as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise CatalogueError(f"{where}: file not found (for a folder of your own media, write one with"
                             f" `aiii vectors import {display(directory)}`)") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{where}: invalid TOML: {exc}") from None
    problem = _schema_problem(doc)
    if problem:
        raise CatalogueError(f"{where}: {problem}")
    return path, raw, doc


def _file_sha256(path: Path) -> str:
    with open_regular(path) as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _entry_problems(directory: Path, doc: dict[str, Any], where: str) -> list[str]:
    """Every problem of the entries: duplicate ids, missing files, checksums, types."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    all_ids = {entry["id"] for entry in doc["vectors"]}
    for i, entry in enumerate(doc["vectors"]):
        vid = entry["id"]
        at = f"{where}: vectors[{i}] ({vid})"
        if vid in seen:
            problems.append(f"{where}: vectors[{i}].id: duplicate id {vid!r} (also vectors[{seen[vid]}])")
        else:
            seen[vid] = i
        for k, target in enumerate(entry.get("derive", ())):
            if target == entry["media_type"]:
                continue
            if not deriver.can_derive(entry["media_type"], target):
                problems.append(f"{at}: derive[{k}]: cannot derive {target} from {entry['media_type']}")
            elif _derived_id(vid, target) in all_ids:
                problems.append(f"{at}: derive[{k}]: derived id {_derived_id(vid, target)!r} is taken by another vector")
        path = directory / entry["file"]
        refused = refusal(path, directory)
        if refused:
            problems.append(f"{at}: file {_printable(entry['file'])} {refused}")
            continue
        if not path.is_file():
            problems.append(f"{at}: file not found: {_printable(entry['file'])}")
            continue
        actual = _file_sha256(path)
        if actual != entry["sha256"]:
            problems.append(f"{at}: sha256 mismatch: file has {actual}, catalogue says {entry['sha256']}")
            continue
        sniffed = sniff_file(path)
        hostile = "hostile" in entry.get("tags", ())
        opaque = entry["media_type"] in ("text/plain", "application/json", "application/octet-stream")
        if not hostile and sniffed != entry["media_type"] and not (sniffed is None and opaque):
            looks = sniffed or "no media type the harness knows"
            problems.append(f"{at}: media_type is {entry['media_type']} but the file looks like {looks}")
    return problems


def _derived_id(source_id: str, target_media_type: str) -> str:
    return f"{source_id}-{MEDIA_SUFFIX[target_media_type].lstrip('.')}"


def _catalogue_hash(raw: bytes, vectors: list[Vector]) -> str:
    digest = hashlib.sha256(b"aiii-catalogue-v1\n")
    digest.update(hashlib.sha256(raw).hexdigest().encode() + b"\n")
    for vector in sorted(vectors, key=lambda v: v.id):
        digest.update(f"{vector.id}\t{vector.media_type}\t{vector.sha256}\n".encode())
    return digest.hexdigest()


def load_catalogue(
    directory: Path,
    cache_dir: Path,
    derive: bool = True,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    derive_failures: list[str] | None = None,
    limits: Limits | None = None,
) -> Catalogue:
    """Load and check ``directory/catalogue.toml``, deriving the listed formats.

    Raises :class:`CatalogueError` (one line naming the file and the key) on the first
    problem.  Derived files are made once into ``cache_dir/vectors/`` and reused;
    ``progress(done, total, vector_id)`` is called after each derived vector;
    ``workers`` threads derive at once (default: the CPU count, at most 8).  With
    ``derive_failures`` (a user's own folder, whose files may be broken), a format that
    cannot be derived is left out and its one-line reason appended there instead.  A
    source over ``limits.max_file_bytes`` (the run's cap, else the default) is never
    derived: its formats would carry it past the cap that blocks it.
    """
    directory = directory.resolve()
    path, raw, doc = _read_document(directory)
    where = display(path)
    problems = _entry_problems(directory, doc, where)
    if problems:
        raise CatalogueError(problems[0])

    sources: list[Vector] = []
    plans: list[tuple[Vector, str]] = []
    for entry in doc["vectors"]:
        vector = Vector(
            id=entry["id"],
            path=directory / entry["file"],
            media_type=entry["media_type"],
            sha256=entry["sha256"],
            licence=entry["licence"],
            tags=tuple(entry.get("tags", ())),
            expectations=tuple(entry.get("expectations", ())),
        )
        sources.append(vector)
        targets = [t for t in entry.get("derive", ()) if derive and t != vector.media_type]
        too_big = file_problem(vector.path, limits or Limits()) if targets else None
        if too_big:
            if derive_failures is None:
                raise CatalogueError(f"{where}: {vector.id}: not derived: {too_big}")
            derive_failures.append(f"{where}: {vector.id}: not derived: {too_big}")
            continue
        plans.extend((vector, target) for target in targets)

    by_source: dict[str, list[Vector]] = {}
    made = _derive_all(plans, cache_dir, where, progress, workers, derive_failures is not None)
    for (src, _target), got in zip(plans, made, strict=True):
        if isinstance(got, str):
            if derive_failures is not None:  # always, when a failure was tolerated
                derive_failures.append(got)
            continue
        by_source.setdefault(src.id, []).append(got)
    vectors: list[Vector] = []
    for src in sources:
        vectors.append(src)
        vectors.extend(by_source.get(src.id, ()))
    return Catalogue(root=directory, file=path, vectors=vectors, sha256=_catalogue_hash(raw, vectors),
                     cache_dir=cache_dir)


def _derive_all(
    plans: list[tuple[Vector, str]],
    cache_dir: Path,
    where: str,
    progress: ProgressCallback | None,
    workers: int | None,
    tolerate: bool = False,
) -> list[Vector | str]:
    """The derived vectors for ``(source, target)`` plans, in plan order; with ``tolerate``,
    a derivation that fails gives its one-line reason in its place instead of raising."""
    results: dict[int, Vector | str] = {}
    if not plans:
        return []
    # Pillow and libsndfile release the GIL while encoding, so threads use every core.
    pool = ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1))
    try:
        futures = {pool.submit(_derive_one, src, target, cache_dir, where): i for i, (src, target) in enumerate(plans)}
        for done, future in enumerate(as_completed(futures), start=1):
            i = futures[future]
            try:
                results[i] = future.result()
            except CatalogueError as exc:
                if not tolerate:
                    raise
                results[i] = str(exc)
            if progress is not None:
                progress(done, len(plans), _derived_id(plans[i][0].id, plans[i][1]))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[i] for i in range(len(plans))]


def _derive_one(src: Vector, target: str, cache_dir: Path, where: str) -> Vector:
    """The derived vector of ``src`` in ``target``, from the cache or made now."""
    try:
        made = deriver.cached_derivation(src.path, src.sha256, src.media_type, target, cache_dir)
    except Exception as exc:  # a codec failing on a user's file: name the vector
        raise CatalogueError(f"{where}: {src.id}: deriving {target} failed: {exc}".replace("\n", " ")) from exc
    return Vector(
        id=_derived_id(src.id, target),
        path=made,
        media_type=target,
        sha256=_file_sha256(made),
        licence=src.licence,
        tags=src.tags if "derived" in src.tags else (*src.tags, "derived"),
        source=src.id,
        derivation=deriver.describe(target),
    )


def verify_catalogue(directory: Path) -> list[str]:
    """Every problem of a catalogue folder, one line each; empty when all is well.

    Reports schema errors, duplicate ids, missing files, sha256 mismatches, media types
    the bytes contradict, and media files in the folder that the catalogue omits.
    """
    directory = directory.resolve()
    try:
        path, _raw, doc = _read_document(directory)
    except CatalogueError as exc:
        return [str(exc)]
    problems = _entry_problems(directory, doc, display(path))
    listed = {(directory / entry["file"]).resolve() for entry in doc["vectors"]}
    for file in _walk(directory):
        if file == path or refusal(file, directory) or file.resolve() in listed:
            continue
        if file.suffix.lower() in _MEDIA_SUFFIXES or sniff_file(file) is not None:
            problems.append(f"{display(file)}: not in the catalogue")
    return problems


def _walk(directory: Path) -> Iterator[Path]:
    """Files under ``directory`` in a stable order, skipping hidden names."""
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(current) / name


__all__ = [
    "CATALOGUE_FILE", "Catalogue", "CatalogueError", "ProgressCallback", "Vector", "decode_problem", "load_attack_strings",
    "load_catalogue", "open_regular", "refusal", "sniff_file", "sniff_media_type", "verify_catalogue",
]
