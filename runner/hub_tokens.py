"""Upload tokens of the hub: one per participant, kept only as their sha256.

The tokens file (JSON, mode 0600) maps a participant id (a vendor id, or ``hub``) to the
sha256 of its token; ``aiii hub token ID --tokens FILE`` makes (or replaces) a token and
prints it once.  The server compares a presented token's digest with every stored one in
constant time (:func:`hmac.compare_digest`), so neither the token nor its timing leaks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runner.errors import HarnessError
from runner.keys import SIGNER_ID
from runner.paths import display

FORMAT = "aiii-hub-tokens/1"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Tokens:
    """Participant id -> sha256 of its token."""

    digests: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Tokens:
        """The tokens of ``path``; a missing file is no participant, a malformed one an error."""
        if not path.exists():
            return cls({})
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            digests = doc["participants"]
            if doc.get("format") != FORMAT or not isinstance(digests, dict):
                raise ValueError
            out = {str(k): str(v["sha256"]) for k, v in digests.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise HarnessError(f"{display(path)}: not a hub tokens file ({FORMAT}, as `aiii hub token` writes)") from None
        bad = [k for k in out if not SIGNER_ID.match(k)]
        if bad:
            raise HarnessError(f"{display(path)}: participants.{bad[0]!r}: not a vendor id or hub")
        return cls(out)

    def participant(self, token: str | None) -> str | None:
        """Whose ``token`` it is, or None."""
        if not token:
            return None
        digest = _digest(token)
        found = None
        for participant, stored in sorted(self.digests.items()):
            if hmac.compare_digest(digest, stored):
                found = participant
        return found


def issue(path: Path, participant: str) -> str:
    """Make a new token for ``participant`` (replacing its old one) and return it."""
    if not SIGNER_ID.match(participant):
        raise HarnessError(f"{participant!r}: not a vendor id or hub")
    current = Tokens.load(path)
    token = secrets.token_urlsafe(32)
    entries = {k: {"sha256": v} for k, v in current.digests.items()}
    entries[participant] = {"sha256": _digest(token), "issued": datetime.now(UTC).isoformat(timespec="seconds")}
    doc = {"format": FORMAT, "participants": dict(sorted(entries.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(doc, handle, indent=1)
    os.replace(tmp, path)
    return token
