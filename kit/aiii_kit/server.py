"""The protocol server's public face for code that starts servers itself (the harness,
tests); ``python -m aiii_kit.server`` is the same as ``python -m aiii_kit``.

:func:`load_adapter` imports an adapter's entry as a submodule of a package made from
its vendor folder (one package per folder), so an adapter may import its folder's
sibling modules relatively; the harness's ``inproc`` placement loads adapters with it too.
"""

import sys

from aiii_kit._core import resolve_version
from aiii_kit._loader import AdapterLoadError, forget, load_module, package_name
from aiii_kit._server import DEFAULT_MAX_REQUEST, build_server, load_adapter, main, parse_operation_request, serve

__all__ = ["DEFAULT_MAX_REQUEST", "AdapterLoadError", "build_server", "forget", "load_adapter", "load_module", "main",
           "package_name", "parse_operation_request", "resolve_version", "serve"]

if __name__ == "__main__":
    sys.exit(main())
