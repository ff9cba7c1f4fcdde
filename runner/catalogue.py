"""The loaded catalogue: its vectors in catalogue order, selection by tags, media types
and ids, and corpora (one vector standing for many).  Loading it is
:func:`runner.vectors.load_catalogue`."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import ConfigError
from runner.model import Vector
from runner.paths import display


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
    #: The member ids of each corpus the plan made (``corpus:<name>`` -> ids).
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
        self.members[vector.id] = tuple(v.id for v in members)
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


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")
