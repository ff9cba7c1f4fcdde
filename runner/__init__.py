"""aiii-interop: the interoperability test harness for AI-era IP infrastructure."""

__version__ = "0.1.0"
#: Bumped whenever a check's meaning changes, so published scorecards stay comparable.
METHODOLOGY_VERSION = "2026.11-1"
