"""Session storage of the Didit emulator: in memory, optionally mirrored to a JSON file.

The file is rewritten atomically (temp file + rename, `adapters.common.sandbox.store`) on
every change, so a sandbox restarted on the same `state_path` still knows every session the
gateway has links to.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from adapters.common.sandbox.store import set_aside, write_json_atomic
from adapters.didit.sandbox.model import FIRST_SESSION_NUMBER, SandboxSession

log = logging.getLogger(__name__)

STATE_VERSION = 1


class SessionStore:
    """Sessions by id and by hosted-page token; `save()` after each mutation."""

    def __init__(self, state_path: str | None) -> None:
        self._path = Path(state_path) if state_path else None
        self._sessions: dict[str, SandboxSession] = {}
        self._next_number = FIRST_SESSION_NUMBER
        if self._path is not None and self._path.exists():
            self._load(self._path)

    # -- reads ----------------------------------------------------------------------------
    def get(self, session_id: str) -> SandboxSession | None:
        return self._sessions.get(session_id)

    def by_token(self, token: str) -> SandboxSession | None:
        return next((s for s in self._sessions.values() if s.session_token == token), None)

    def __iter__(self) -> Iterator[SandboxSession]:
        return iter(list(self._sessions.values()))

    # -- writes ---------------------------------------------------------------------------
    def next_number(self) -> int:
        number = self._next_number
        self._next_number += 1
        return number

    def add(self, session: SandboxSession) -> None:
        self._sessions[session.session_id] = session
        self.save()

    def remove(self, session_id: str) -> SandboxSession | None:
        session = self._sessions.pop(session_id, None)
        self.save()
        return session

    def save(self) -> None:
        """Write the whole state atomically (no-op without a state path)."""
        if self._path is None:
            return
        payload = {
            "version": STATE_VERSION,
            "next_session_number": self._next_number,
            "sessions": [s.to_json() for s in self._sessions.values()],
        }
        write_json_atomic(self._path, payload, prefix=".didit-sandbox-")

    def _load(self, path: Path) -> None:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            sessions = [SandboxSession.from_json(item) for item in payload["sessions"]]
            next_number = int(payload["next_session_number"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A broken file must not take the gateway down: keep it aside, start empty.
            set_aside(path, exc, log, "didit sandbox")
            return
        self._sessions = {s.session_id: s for s in sessions}
        self._next_number = max(
            [next_number, FIRST_SESSION_NUMBER, *(s.session_number + 1 for s in sessions)]
        )
        log.info("didit sandbox loaded %d sessions", len(self._sessions))
