"""``aiii vectors import``: a catalogue written for a user's own media folder.

Files are sniffed, hashed and tagged from their sub-folder names.  What may not be a
vector (FIFOs, devices, symlinks out of the folder) is skipped with a note; every name
is escaped where it is written; the new catalogue replaces the old one only once it
parses, validates and reads back as the entries it was built from.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiii_kit.vocab import MEDIA_SUFFIX

from runner import derive as deriver
from runner.catalogue import CatalogueError
from runner.paths import display
from runner.vector_files import _KNOWN_SUFFIXES, _escaped_char, _printable, open_regular, refusal, sniff_file
from runner.vectors import CATALOGUE_FILE, _file_sha256, _read_document, _schema_problem, _walk

DEFAULT_IMPORT_LICENCE = "unknown (user-supplied)"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower())
    slug = re.sub(r"-{2,}", "-", slug)
    return slug.strip("-_")


def _toml_str(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif not ch.isprintable():  # control characters, line separators, bidi overrides
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to the catalogue")


def render_catalogue(vectors: list[dict[str, Any]], header: Iterable[str] = ()) -> str:
    """Catalogue TOML text for entry dicts (keys as in the schema); ``header`` lines
    become comments, with characters a comment cannot hold escaped."""
    lines = [f"# {''.join(ch if ch.isprintable() else _escaped_char(ch) for ch in line)}" for line in header]
    lines += ["version = 1", ""]
    order = ("id", "file", "media_type", "sha256", "licence", "tags", "derive")
    for entry in vectors:
        lines.append("[[vectors]]")
        for key in order:
            if key in entry:
                lines.append(f"{key} = {_toml_value(entry[key])}")
        for exp in entry.get("expectations", ()):
            lines.append("[[vectors.expectations]]")
            lines += [f"{key} = {_toml_value(val)}" for key, val in exp.items()]
        lines.append("")
    return "\n".join(lines)


def import_directory(
    media_dir: Path,
    licence: str = DEFAULT_IMPORT_LICENCE,
    *,
    notes: list[str] | None = None,
) -> Path:
    """Write ``media_dir/catalogue.toml`` for a folder of one's own media; return its path.

    Media types come from each file's leading bytes, not its name; files of unknown
    type are skipped, and so are FIFOs, sockets, devices and symlinks leading outside
    the folder (never opened).  Ids are slugs of the relative path (made unique), tags
    are the slugs of its folder names.  When a catalogue already exists, entries for
    files still present keep their id, licence, tags, derive list and expectations, and
    get a fresh sha256 and media type.  Skipped files and other remarks are appended to
    ``notes`` and written as comments at the top of the catalogue, names escaped.

    The new catalogue is checked (TOML, schema, read back as built) before it replaces
    the old one, through a temporary file in the folder: a failed import changes nothing.
    """
    media_dir = media_dir.resolve()
    if not media_dir.is_dir():
        raise CatalogueError(f"{display(media_dir)}: not a folder")
    target = media_dir / CATALOGUE_FILE
    previous: dict[str, dict[str, Any]] = {}
    if target.exists():
        _path, _raw, doc = _read_document(media_dir)
        previous = {entry["file"]: entry for entry in doc["vectors"]}

    remarks: list[str] = []
    entries: list[dict[str, Any]] = []
    taken = {entry["id"] for entry in previous.values()}
    for file in _walk(media_dir):
        if file == target:
            continue
        rel = file.relative_to(media_dir).as_posix()
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            remarks.append(f"{_printable(repr(rel))}: skipped, the file name is not valid UTF-8")
            continue
        shown = _printable(rel)
        refused = refusal(file, media_dir)
        if refused:
            remarks.append(f"{shown}: skipped, it {refused}")
            continue
        if "\\" in rel:
            remarks.append(f"{shown}: skipped, a catalogue path cannot hold a backslash")
            continue
        try:
            media_type = sniff_file(file) or _text_type(file)
            sha256 = _file_sha256(file) if media_type is not None else ""
        except (OSError, CatalogueError) as exc:  # vanished, unreadable, swapped for a FIFO
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            remarks.append(f"{shown}: skipped, it cannot be read ({_printable(why)})")
            continue
        if media_type is None:
            remarks.append(f"{shown}: skipped, not a media type the harness knows")
            continue
        if media_type != "text/plain" and file.suffix.lower() not in _KNOWN_SUFFIXES.get(media_type, ()):
            remarks.append(f"{shown}: the bytes say {media_type}, whatever the name says")
        old = previous.get(rel)
        if old is not None:
            entry = dict(old)
        else:
            parts = rel.split("/")
            tags = list(dict.fromkeys(t for t in (_slug(p)[:100].rstrip("-_") for p in parts[:-1]) if t))
            entry = {"id": _unique_id(rel, media_type, taken), "file": rel, "licence": licence, "tags": tags}
            taken.add(entry["id"])
        entry["media_type"] = media_type
        entry["sha256"] = sha256
        entries.append(entry)
    for rel in sorted(set(previous) - {e["file"] for e in entries}):
        remarks.append(f"{_printable(rel)}: dropped from the catalogue, the file is gone")
    _add_derived_formats(entries, remarks)

    header = ["Written by `aiii vectors import` (runner.vector_import.import_directory); edit licences and tags freely."]
    header += remarks
    text = render_catalogue(entries, header)
    problem = _rendered_problem(text, entries)
    if problem:
        raise CatalogueError(f"{display(target)}: not written, the new catalogue would be invalid: {problem}"
                             " (the previous catalogue is unchanged)")
    deriver.atomic_write(target, text.encode("utf-8"))
    if notes is not None:
        notes.extend(remarks)
    return target


#: Names of plain-text files: a file so named whose bytes are UTF-8 without NUL is text/plain.
TEXT_SUFFIXES = (".txt", ".text", ".md")
#: Larger text files are not imported as text (a vector is read whole).
TEXT_MAX_BYTES = 8 * 1024 * 1024


def _text_type(file: Path) -> str | None:
    """``text/plain`` for a UTF-8 text file with a text name (no magic bytes say so)."""
    if file.suffix.lower() not in TEXT_SUFFIXES:
        return None
    with open_regular(file) as fh:
        data = fh.read(TEXT_MAX_BYTES + 1)
    if len(data) > TEXT_MAX_BYTES or b"\0" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def _add_derived_formats(entries: list[dict[str, Any]], remarks: list[str]) -> None:
    """Give every entry without a ``derive`` list the formats the catalogue derives for its
    own media of that kind (images: JPEG, PNG, WebP, TIFF; audio: WAV, FLAC, MP3), other
    than its own, so the checks that select those formats read the user's files too.  A
    format whose derived id (``<id>-<suffix>``) another file of the folder already holds
    is left out: that file is the format."""
    ids = {e["id"] for e in entries}
    for entry in entries:
        if "derive" in entry:
            continue  # the user's own choice (an empty list derives nothing)
        kind = entry["media_type"].split("/", 1)[0]
        targets = {"image": deriver.IMAGE_TARGETS, "audio": deriver.AUDIO_TARGETS}.get(kind, ())
        wanted = [t for t in targets if t != entry["media_type"] and deriver.can_derive(entry["media_type"], t)]
        taken = [t for t in wanted if f"{entry['id']}-{MEDIA_SUFFIX[t].lstrip('.')}" in ids]
        if taken:
            remarks.append(f"{_printable(entry['file'])}: not derived as {', '.join(taken)}: the folder's"
                           f" {', '.join(_printable(entry['id']) + '-' + MEDIA_SUFFIX[t].lstrip('.') for t in taken)}"
                           " holds that id")
        if wanted:
            entry["derive"] = [t for t in wanted if t not in taken]


def _rendered_problem(text: str, entries: list[dict[str, Any]]) -> str | None:
    """What is wrong with rendered catalogue text: TOML, schema, or not what was meant."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"invalid TOML: {exc}"
    problem = _schema_problem(doc)
    if problem:
        return problem
    if doc != {"version": 1, "vectors": entries}:
        return "it does not read back as the entries it was rendered from"
    return None


def _unique_id(rel: str, media_type: str, taken: set[str]) -> str:
    stem = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel
    base = _slug(stem)[:90].rstrip("-_") or "vector"
    if base not in taken:
        return base
    with_type = f"{base}-{MEDIA_SUFFIX[media_type].lstrip('.')}"
    if with_type not in taken:
        return with_type
    n = 2
    while f"{with_type}-{n}" in taken:
        n += 1
    return f"{with_type}-{n}"
