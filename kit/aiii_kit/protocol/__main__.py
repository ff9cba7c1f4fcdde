"""``python -m aiii_kit.protocol``: print the protocol's OpenAPI document (made from its schemas)."""

import json
import sys

from aiii_kit.protocol import openapi

sys.stdout.write(json.dumps(openapi(), indent=2) + "\n")
