"""Typed errors of the harness; each message is one line naming the file or vendor."""


class HarnessError(Exception):
    """Base of the harness's own errors: shown to the user without a traceback."""


class ConfigError(HarnessError):
    """A vendor manifest, profile or catalogue is malformed."""


class PlanError(HarnessError):
    """A profile asks for something the harness cannot plan (unknown check, ...)."""


class TransportError(HarnessError):
    """The adapter crashed, hung, or broke the protocol (becomes an ``error`` outcome).

    Defined here, re-exported by ``runner.transports``: the placements' helpers (images)
    raise it without importing the placement registry."""
