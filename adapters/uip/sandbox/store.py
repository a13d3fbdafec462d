"""State of the UIP emulator: sessions, `Idempotency-Key` records and the sandbox settings,
in memory and mirrored atomically (the shared `write_json_atomic`) to `state_path` after
every change, so a sandbox restarted on the same file still knows every session."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from adapters.common.sandbox.store import read_json_state, set_aside, write_json_atomic
from adapters.uip.sandbox.model import GATE_ERROR_STATUSES, GET_SHAPES, SandboxSession

log = logging.getLogger(__name__)

STATE_VERSION = 1
JSON = dict[str, Any]


@dataclass
class SandboxSettings:
    """Choices the UIP docs leave open, switchable at run time (`POST /sandbox-settings`).

    - `get_shape`: which published version of GET /v1/sessions/{id} is served ("a" | "b");
    - `gate_error_status`: continue/stop outside a gate answers 409 or 400 ("handle both");
    - `funds_exhausted`: the business balance is empty: create answers 402 and the next step
      to verify fails the session with `insufficient_funds`.
    """

    get_shape: str = "a"
    gate_error_status: int = 409
    funds_exhausted: bool = False

    def check(self) -> None:
        if self.get_shape not in GET_SHAPES:
            raise ValueError(f"get_shape must be one of {GET_SHAPES}")
        if self.gate_error_status not in GATE_ERROR_STATUSES:
            raise ValueError(f"gate_error_status must be one of {GATE_ERROR_STATUSES}")
        if not isinstance(self.funds_exhausted, bool):
            raise ValueError("funds_exhausted must be a boolean")


class UipStore:
    def __init__(self, state_path: str | None, settings: SandboxSettings) -> None:
        self._path = Path(state_path) if state_path else None
        self._sessions: dict[str, SandboxSession] = {}
        #: Idempotency-Key → {fingerprint, session_id, status_code, created_at}
        self.idempotency: dict[str, JSON] = {}
        self.settings = settings
        if self._path is not None and self._path.exists():
            self._load(self._path)

    def get(self, session_id: str) -> SandboxSession | None:
        return self._sessions.get(session_id)

    def add(self, session: SandboxSession) -> None:
        self._sessions[session.id] = session
        self.save()

    def save(self) -> None:
        """Write the whole state atomically (no-op without a state path)."""
        if self._path is None:
            return
        payload = {
            "version": STATE_VERSION,
            "sessions": [s.to_json() for s in self._sessions.values()],
            "idempotency": self.idempotency,
            "settings": asdict(self.settings),
        }
        write_json_atomic(self._path, payload, prefix=".uip-sandbox-")

    def _load(self, path: Path) -> None:
        try:
            payload = read_json_state(path, STATE_VERSION)
            sessions = [SandboxSession.from_json(item) for item in payload["sessions"]]
            idempotency = dict(payload.get("idempotency") or {})
            settings = SandboxSettings(**(payload.get("settings") or {}))
            settings.check()
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # A broken file must not take the gateway down: keep it aside, start empty.
            set_aside(path, exc, log, "uip sandbox")
            return
        self._sessions = {s.id: s for s in sessions}
        self.idempotency = idempotency
        self.settings.__dict__.update(asdict(settings))
        log.info("uip sandbox loaded %d sessions", len(self._sessions))
