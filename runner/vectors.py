"""The test vector catalogue: real media files, their checksums, licences and tags.

``test_vectors/catalogue.toml`` lists each source file once (schema:
``runner/schemas/catalogue.schema.json``).  Loading checks every file against its
sha256 and adds the derived vectors (other formats of a source, made by
:mod:`runner.derive` and kept in a cache).  :func:`runner.vector_import.import_directory` writes a catalogue
for a folder of a user's own media so the same harness can run on it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import stat
import tomllib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from aiii_kit.vocab import MEDIA_SUFFIX

from runner import derive as deriver
from runner.errors import ConfigError
from runner.limits import decode_problem as _probe
from runner.model import Limits, Vector
from runner.paths import display

CATALOGUE_FILE = "catalogue.toml"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "catalogue.schema.json"

#: Bytes read from the start of a file to sniff its media type.
SNIFF_BYTES = 65536

#: Extensions each media type is known by (for notes on misleading names).
_KNOWN_SUFFIXES: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "image/tiff": (".tif", ".tiff"),
    "image/gif": (".gif",),
    "audio/wav": (".wav", ".wave"),
    "audio/mpeg": (".mp3",),
    "audio/flac": (".flac",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
}
_MEDIA_SUFFIXES = frozenset(s for group in _KNOWN_SUFFIXES.values() for s in group)

ProgressCallback = Callable[[int, int, str], None]


class CatalogueError(ConfigError):
    """The catalogue or one of its files is wrong; the message is one line."""


@dataclass
class Catalogue:
    """The loaded catalogue: sources and derived vectors, in catalogue order."""

    root: Path
    file: Path
    vectors: list[Vector]
    #: Hash over the catalogue file and every vector's id, media type and sha256.
    sha256: str
    #: Where corpus files are written (``None``: next to nothing; corpora are refused).
    cache_dir: Path | None = None

    def __iter__(self) -> Iterator[Vector]:
        return iter(self.vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    def get(self, vector_id: str) -> Vector:
        """The vector with this id; CatalogueError when there is none."""
        for vector in self.vectors:
            if vector.id == vector_id:
                return vector
        raise CatalogueError(f"{display(self.file)}: no vector with id {vector_id!r}")

    def by_id(self) -> dict[str, Vector]:
        return {v.id: v for v in self.vectors}

    def corpus(self, name: str, members: list[Vector]) -> Vector:
        """A vector standing for a set of vectors (``corpus:<name>``), for checks whose
        cells judge a statistic over many vectors (watermark detection rates).

        Its file is a JSON list of the members' ids, media types and hashes, so the
        corpus is versioned like any vector: the same members give the same sha256.
        """
        if self.cache_dir is None:
            raise CatalogueError(f"{display(self.file)}: this catalogue has no cache folder for corpus {name!r}")
        listing = [{"id": v.id, "media_type": v.media_type, "sha256": v.sha256, "licence": v.licence} for v in members]
        data = json.dumps({"corpus": name, "members": listing}, indent=1, sort_keys=True).encode()
        sha = hashlib.sha256(data).hexdigest()
        folder = self.cache_dir / "vectors" / "corpora"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{sha}.json"
        if not path.exists():
            path.write_bytes(data)
        licences = sorted({v.licence for v in members})
        vector = Vector(f"corpus:{name}", path, "application/json", sha, "; ".join(licences), ("corpus",),
                        derivation=f"corpus of {len(members)} vectors")
        for known in self.vectors:
            if known.id == vector.id:
                if known.sha256 != sha:
                    raise CatalogueError(f"corpus {name!r} was defined twice with different members")
                return known
        self.vectors.append(vector)
        return vector

    def select(
        self,
        tags_any: Iterable[str] | None = None,
        tags_all: Iterable[str] | None = None,
        tags_none: Iterable[str] | None = None,
        media_types: Iterable[str] | None = None,
        ids: Iterable[str] | None = None,
        limit_per_media_type: int | None = None,
    ) -> list[Vector]:
        """Vectors matching every given filter (None or empty means no filter).

        ``ids`` are fnmatch globs; a plain id that names no vector is an error, so a
        typo does not silently select nothing.
        """
        any_ = set(tags_any or ())
        all_ = set(tags_all or ())
        none_ = set(tags_none or ())
        types = set(media_types or ())
        patterns = list(ids or ())
        known = {v.id for v in self.vectors}
        unknown = [p for p in patterns if not _is_glob(p) and p not in known]
        if unknown:
            raise CatalogueError(f"{display(self.file)}: no vector with id {', '.join(map(repr, unknown))}")
        chosen: list[Vector] = []
        per_type: dict[str, int] = {}
        for vector in self.vectors:
            tags = set(vector.tags)
            if any_ and not tags & any_:
                continue
            if all_ and not all_ <= tags:
                continue
            if none_ and tags & none_:
                continue
            if types and vector.media_type not in types:
                continue
            if patterns and not any(fnmatch.fnmatchcase(vector.id, p) for p in patterns):
                continue
            if limit_per_media_type is not None:
                if per_type.get(vector.media_type, 0) >= limit_per_media_type:
                    continue
                per_type[vector.media_type] = per_type.get(vector.media_type, 0) + 1
            chosen.append(vector)
        return chosen


# -- media type sniffing ------------------------------------------------------------


def sniff_media_type(data: bytes) -> str | None:
    """The media type the leading bytes of a file announce, or None when unknown.

    Knows JPEG, PNG, WebP, TIFF (both byte orders), GIF, WAV, MP3 (ID3 tag or an MPEG
    audio frame header), FLAC (also behind an ID3 tag) and Ogg.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"RIFF") and len(data) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(data[8:12])
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"ID3") and len(data) >= 10:
        size_bytes = data[6:10]
        if data[3] in (2, 3, 4) and all(b < 0x80 for b in size_bytes):
            size = sum(b << (7 * (3 - i)) for i, b in enumerate(size_bytes))
            end = 10 + size + (10 if data[3] == 4 and data[5] & 0x10 else 0)
            if data[end : end + 4] == b"fLaC":
                return "audio/flac"
            return "audio/mpeg"
        return None
    if _is_mpeg_audio_frame(data):
        return "audio/mpeg"
    return None


def _is_mpeg_audio_frame(data: bytes) -> bool:
    """A plausible MPEG audio frame header (sync, version, layer, bitrate, rate)."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version = (data[1] >> 3) & 0b11  # 0: 2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    layer = (data[1] >> 1) & 0b11  # 0: reserved (ADTS AAC uses it)
    bitrate_index = data[2] >> 4
    rate_index = (data[2] >> 2) & 0b11
    return version != 1 and layer != 0 and bitrate_index != 0xF and rate_index != 3


def sniff_file(path: Path) -> str | None:
    """:func:`sniff_media_type` over the first bytes of a file."""
    with open_regular(path) as fh:
        return sniff_media_type(fh.read(SNIFF_BYTES))


# -- what a vector file may be ------------------------------------------------------


def decode_problem(vector: Vector, limits: Limits) -> str | None:
    """Why ``vector`` cannot be decoded within ``limits`` (over a cap, truncated, not
    decodable at all), or None; cheap checks first, memoised per sha256 (runner/limits.py)."""
    return _probe(vector.path, vector.media_type, vector.sha256, limits, "hostile" in vector.tags)


def open_regular(path: Path) -> io.BufferedReader:
    """``path`` opened for reading, refusing anything but a regular file.

    ``O_NONBLOCK`` keeps a FIFO from blocking the open; the check is on the opened
    descriptor, so a file swapped for a FIFO after a ``stat`` is refused too.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise CatalogueError(f"{display(path)}: {_kind(mode)}, not a regular file")
        os.set_blocking(fd, True)
        return open(fd, "rb", closefd=True)  # noqa: SIM115 - the caller closes it
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))
    return next((name for test, name in kinds if test(mode)), "a special file")


def refusal(path: Path, root: Path) -> str | None:
    """Why the file at ``path`` may not be a vector of the folder ``root`` (resolved), as
    a predicate ("is a FIFO, not a regular file"), or None.  Nothing is opened: FIFOs,
    sockets and devices are told by ``stat``, and a path that resolves outside ``root``
    (through a symlink, of the file or of a folder on the way) is refused, so files from
    elsewhere on the machine never reach a vendor or the run's artifacts."""
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return None  # the caller says "not found" in its own words
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        return f"resolves outside the vectors folder (to {_printable(str(resolved))})"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "is a symlink to nothing" if link else "cannot be examined"
    if not stat.S_ISREG(mode):
        return f"is {_kind(mode)}, not a regular file"
    return None


def _printable(text: str) -> str:
    """``text`` with backslashes and every character that is not printable (control
    characters, line separators, bidi overrides) escaped, for messages and comments."""
    return "".join(_escaped_char(ch) for ch in text)


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped_char(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if ch.isprintable():
        return ch
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


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
        raise CatalogueError(f"{where}: file not found") from None
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
) -> Catalogue:
    """Load and check ``directory/catalogue.toml``, deriving the listed formats.

    Raises :class:`CatalogueError` (one line naming the file and the key) on the first
    problem.  Derived files are made once into ``cache_dir/vectors/`` and reused;
    ``progress(done, total, vector_id)`` is called after each derived vector;
    ``workers`` threads derive at once (default: the CPU count, at most 8).
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
        for target in entry.get("derive", ()) if derive else ():
            if target != vector.media_type:
                plans.append((vector, target))

    by_source: dict[str, list[Vector]] = {}
    for (src, _target), vector in zip(plans, _derive_all(plans, cache_dir, where, progress, workers), strict=True):
        by_source.setdefault(src.id, []).append(vector)
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
) -> list[Vector]:
    """The derived vectors for ``(source, target)`` plans, in plan order."""
    results: dict[int, Vector] = {}
    if not plans:
        return []
    # Pillow and libsndfile release the GIL while encoding, so threads use every core.
    pool = ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1))
    try:
        futures = {pool.submit(_derive_one, src, target, cache_dir, where): i for i, (src, target) in enumerate(plans)}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done, len(plans), results[futures[future]].id)
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


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")
