"""State of the Verifa emulator: sessions, idempotency records and the webhook settings, in
memory and mirrored atomically to `state_path` after every change (the kit's
`SessionStore`), so a sandbox restarted on the same file still knows every session (and
capture link) the gateway has."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from adapters.common.sandbox.store import IdempotencyKeys, SessionStore
from adapters.verifa.sandbox.model import IDEMPOTENCY_TTL_S, SandboxSession
from adapters.verifa.sandbox.webhooks import WebhookSettings

JSON = dict[str, Any]


class VerifaStore(IdempotencyKeys, SessionStore[SandboxSession]):
    name = "verifa sandbox"
    ttl_s = IDEMPOTENCY_TTL_S

    def __init__(self, state_path: str | None, settings: WebhookSettings) -> None:
        super().__init__(state_path)
        #: Idempotency-Key → {fingerprint, status_code, body, created_at}
        self.idempotency: dict[str, JSON] = {}
        self.settings = settings
        self.rate_limit_per_minute: int | None = None
        self._load()

    def by_token(self, token: str) -> SandboxSession | None:
        return self.find(lambda s: s.capture_token == token)

    def _state(self) -> dict[str, Any]:
        return {
            "sessions": self._session_rows(),
            "idempotency": self.idempotency,
            "settings": asdict(self.settings),
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }

    def _restore(self, payload: Any) -> None:
        sessions = [SandboxSession.from_json(item) for item in payload["sessions"]]
        idempotency = dict(payload.get("idempotency") or {})
        settings = WebhookSettings(**(payload.get("settings") or {}))
        self.rate_limit_per_minute = payload.get("rate_limit_per_minute")
        self.idempotency = idempotency
        self.settings.__dict__.update(asdict(settings))
        self._keep(sessions)
