"""Session storage of the Didit emulator: in memory, optionally mirrored to a JSON file
(the kit's `SessionStore`), so a sandbox restarted on the same `state_path` still knows every
session the gateway has links to."""

from __future__ import annotations

from typing import Any

from adapters.common.sandbox.store import SessionStore
from adapters.didit.sandbox.model import FIRST_SESSION_NUMBER, SandboxSession


class DiditStore(SessionStore[SandboxSession]):
    """Sessions by id and by hosted-page token, and the next session number."""

    name = "didit sandbox"
    id_field = "session_id"

    def __init__(self, state_path: str | None) -> None:
        super().__init__(state_path)
        self._next_number = FIRST_SESSION_NUMBER
        self._load()

    def by_token(self, token: str) -> SandboxSession | None:
        return self.find(lambda s: s.session_token == token)

    def next_number(self) -> int:
        number = self._next_number
        self._next_number += 1
        return number

    def remove(self, session_id: str) -> SandboxSession | None:
        session = self._sessions.pop(session_id, None)
        self.save()
        return session

    def _state(self) -> dict[str, Any]:
        return {"next_session_number": self._next_number, "sessions": self._session_rows()}

    def _restore(self, payload: Any) -> None:
        sessions = [SandboxSession.from_json(item) for item in payload["sessions"]]
        next_number = int(payload["next_session_number"])
        self._next_number = max(
            [next_number, FIRST_SESSION_NUMBER, *(s.session_number + 1 for s in sessions)]
        )
        self._keep(sessions)
