"""What a run on a user's own folder gives each file: the files no cell reads, and why.

A file counts as read when a cell's vector is the file, one of its derived formats, or a
corpus holding either.  For a file nobody reads, the reason is the first that holds:
no check of the profile selects its media types (its own and its derived ones); no vendor
of the run declares any of those types; or the checks that select it planned no cell for
it (they pair implementations, say, and only one takes the type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.catalogue import Catalogue
from runner.check import Suite
from runner.model import Cell, Profile, VendorManifest


def _relative(catalogue: Catalogue, vector_id: str) -> str:
    vector = catalogue.by_id()[vector_id]
    try:
        return vector.path.relative_to(catalogue.root).as_posix()
    except ValueError:
        return vector.path.name


def unread_files(cells: Sequence[Cell], catalogue: Catalogue, profile: Profile,
                 vendors: Mapping[str, VendorManifest], suite: Suite) -> list[str]:
    """One line per file of ``catalogue`` that no cell reads, naming it and saying why."""
    read = {c.vector for c in cells}
    for corpus in list(read):
        read.update(catalogue.members.get(corpus, ()))
    derived: dict[str, list[str]] = {}
    for v in catalogue.vectors:
        if v.source:
            derived.setdefault(v.source, []).append(v.media_type)
    declared = {mt: sorted(vid for vid, m in vendors.items() if any(mt in c.media_types for c in m.capabilities))
                for v in catalogue.vectors for mt in (v.media_type,)}
    lines = []
    for src in catalogue.vectors:
        if src.source or "corpus" in src.tags:
            continue
        family = {src.id, *(v.id for v in catalogue.vectors if v.source == src.id)}
        if family & read:
            continue
        types = [src.media_type, *derived.get(src.id, ())]
        shown = ", ".join(dict.fromkeys(types))
        selecting = [c.id for c in profile.checks if not suite.checks[c.id].catalogue_data
                     and (not c.vectors.media_types or set(types) & set(c.vectors.media_types))]
        takers = sorted({vid for mt in types for vid in declared.get(mt, ())})
        if not selecting:
            why = f"no check of profile {profile.name} selects {shown}"
        elif not takers:
            why = f"no vendor of this run takes {shown} (checks selecting it: {', '.join(selecting)})"
        else:
            why = (f"the checks selecting it ({', '.join(selecting)}) planned no cell for it with the vendors"
                   f" taking {shown} ({', '.join(takers)})")
        lines.append(f"no cell reads {_relative(catalogue, src.id)} ({src.media_type}): {why}")
    return lines
