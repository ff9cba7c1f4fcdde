"""``python -m aiii_kit --entry file.py:Class --vendor ID --unix PATH``: serve an adapter."""

import sys

from aiii_kit._server import main

sys.exit(main())
