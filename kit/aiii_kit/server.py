"""The protocol server's public face for code that starts servers itself (the harness,
tests); ``python -m aiii_kit.server`` is the same as ``python -m aiii_kit``."""

import sys

from aiii_kit._core import resolve_version
from aiii_kit._server import DEFAULT_MAX_REQUEST, build_server, load_adapter, main, parse_operation_request, serve

__all__ = ["DEFAULT_MAX_REQUEST", "build_server", "load_adapter", "main",
           "parse_operation_request", "resolve_version", "serve"]

if __name__ == "__main__":
    sys.exit(main())
