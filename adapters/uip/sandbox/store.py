"""State of the UIP emulator: sessions, `Idempotency-Key` records and the sandbox settings,
in memory and mirrored atomically (the kit's `SessionStore`) to `state_path` after
every change, so a sandbox restarted on the same file still knows every session."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from adapters.common.sandbox.http import one_of
from adapters.common.sandbox.store import IdempotencyKeys, SessionStore
from adapters.uip.sandbox.model import (
    GATE_ERROR_STATUSES,
    GET_SHAPES,
    IDEMPOTENCY_TTL_S,
    SandboxSession,
)

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
        one_of("get_shape", self.get_shape, GET_SHAPES)
        one_of("gate_error_status", self.gate_error_status, GATE_ERROR_STATUSES)
        if not isinstance(self.funds_exhausted, bool):
            raise ValueError("funds_exhausted must be a boolean")


class UipStore(IdempotencyKeys, SessionStore[SandboxSession]):
    name = "uip sandbox"
    ttl_s = IDEMPOTENCY_TTL_S

    def __init__(self, state_path: str | None, settings: SandboxSettings) -> None:
        super().__init__(state_path)
        #: Idempotency-Key → {fingerprint, session_id, status_code, created_at}
        self.idempotency: dict[str, JSON] = {}
        self.settings = settings
        self._load()

    def _state(self) -> dict[str, Any]:
        return {
            "sessions": self._session_rows(),
            "idempotency": self.idempotency,
            "settings": asdict(self.settings),
        }

    def _restore(self, payload: Any) -> None:
        sessions = [SandboxSession.from_json(item) for item in payload["sessions"]]
        idempotency = dict(payload.get("idempotency") or {})
        settings = SandboxSettings(**(payload.get("settings") or {}))
        settings.check()
        self.idempotency = idempotency
        self.settings.__dict__.update(asdict(settings))
        self._keep(sessions)
