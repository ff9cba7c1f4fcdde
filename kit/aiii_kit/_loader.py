"""Loading an adapter's entry (``file.py:Class``) from a vendor folder.

The entry file is imported as a submodule of a package made from the vendor's folder,
so an adapter may be split into sibling modules and import them relatively
(``from . import tables``, ``from .tables import X``).  Each folder gets its own package
name (``aiii_vendor_<folder name>_<hash of its path>``), so two vendors' ``common.py``
never collide even when they share one interpreter (the ``inproc`` placement); nothing
is put on ``sys.path``.  Standard library only, like the rest of the kit's core.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from aiii_kit._core import Adapter


class AdapterLoadError(Exception):
    """The entry cannot be located, or does not name an :class:`Adapter` subclass.

    An exception raised by the entry's own module while it is imported propagates as is.
    """


def _identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text, flags=re.ASCII)
    return f"_{name}" if not name or name[0].isdigit() else name


def package_name(folder: Path) -> str:
    """The package name of a vendor folder: unique per (resolved) folder path."""
    folder = folder.resolve()
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:10]
    return f"aiii_vendor_{_identifier(folder.name)}_{digest}"


def _package(name: str, folder: Path) -> ModuleType:
    """The package ``name`` whose submodules are found in ``folder`` (its ``__init__.py`` run, if any)."""
    if name in sys.modules:
        return sys.modules[name]
    init = folder / "__init__.py"
    spec: importlib.machinery.ModuleSpec | None
    if init.is_file():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder)])
    else:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    if spec is None:
        raise AdapterLoadError(f"cannot load {folder} as a package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if spec.loader is not None:
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def forget(folder: Path) -> None:
    """Drop the package of ``folder`` and all its modules from ``sys.modules`` (a later load starts afresh)."""
    _forget(package_name(folder))


def _forget(package: str) -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def load_module(path: Path, folder: Path | None = None) -> ModuleType:
    """Import the file ``path`` as a submodule of the package made from ``folder``.

    ``folder`` defaults to the file's own folder; a file in a subfolder of ``folder`` is
    imported through the packages of the folders between.  A module already imported
    from the same file is returned as is; a failed import leaves nothing of the package
    behind, so a retry starts afresh.
    """
    path = path.resolve()
    folder = (folder or path.parent).resolve()
    try:
        parts = path.relative_to(folder).parts
    except ValueError:  # outside the folder: its own folder is the package
        folder, parts = path.parent, (path.name,)
    if path.suffix != ".py" or not path.is_file():
        raise AdapterLoadError(f"cannot load {path}: not a Python file")
    root = package_name(folder)
    package, where = root, folder
    names = [_identifier(p) for p in parts[:-1]] + [_identifier(path.stem)]
    module_name = ".".join([root, *names])
    cached = sys.modules.get(module_name)
    if cached is not None and getattr(cached, "__file__", None) == str(path):
        return cached
    fresh = root not in sys.modules
    try:
        _package(root, folder)
        for part, name in zip(parts[:-1], names[:-1], strict=True):
            package, where = f"{package}.{name}", where / part
            _package(package, where)
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise AdapterLoadError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except BaseException:
        if fresh:
            _forget(root)
        else:
            sys.modules.pop(module_name, None)
        raise
    return module


def load_adapter(entry: str, base: Path | None = None) -> type[Adapter]:
    """Import ``path/to/file.py:Class`` (relative to the vendor folder ``base``) and return the class.

    The file is a submodule of ``base``'s package (see :func:`load_module`), so it may
    import sibling modules of its folder relatively.
    """
    file_name, _, class_name = entry.partition(":")
    base = base or Path.cwd()
    module = load_module(base / file_name, base)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise AdapterLoadError(f"{entry} is not an Adapter subclass")
    return cls
