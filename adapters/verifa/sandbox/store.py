"""State of the Verifa emulator: sessions, idempotency records and the webhook settings, in
memory and mirrored atomically to `state_path` after every change, so a sandbox restarted on
the same file still knows every session (and capture link) the gateway has."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from adapters.common.sandbox.store import read_json_state, set_aside, write_json_atomic
from adapters.verifa.sandbox.model import SandboxSession
from adapters.verifa.sandbox.webhooks import WebhookSettings

log = logging.getLogger(__name__)

STATE_VERSION = 1
JSON = dict[str, Any]


class VerifaStore:
    def __init__(self, state_path: str | None, settings: WebhookSettings) -> None:
        self._path = Path(state_path) if state_path else None
        self._sessions: dict[str, SandboxSession] = {}
        #: Idempotency-Key → {fingerprint, status_code, body, created_at}
        self.idempotency: dict[str, JSON] = {}
        self.settings = settings
        self.rate_limit_per_minute: int | None = None
        if self._path is not None and self._path.exists():
            self._load(self._path)

    # -- reads ----------------------------------------------------------------------------
    def get(self, session_id: str) -> SandboxSession | None:
        return self._sessions.get(session_id)

    def by_token(self, token: str) -> SandboxSession | None:
        return next((s for s in self._sessions.values() if s.capture_token == token), None)

    def __iter__(self) -> Iterator[SandboxSession]:
        return iter(list(self._sessions.values()))

    # -- writes ---------------------------------------------------------------------------
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
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }
        write_json_atomic(self._path, payload, prefix=".verifa-sandbox-")

    def _load(self, path: Path) -> None:
        try:
            payload = read_json_state(path, STATE_VERSION)
            sessions = [SandboxSession.from_json(item) for item in payload["sessions"]]
            idempotency = dict(payload.get("idempotency") or {})
            settings = WebhookSettings(**(payload.get("settings") or {}))
            rate_limit = payload.get("rate_limit_per_minute")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # A broken file must not take the gateway down: keep it aside, start empty.
            set_aside(path, exc, log, "verifa sandbox")
            return
        self._sessions = {s.id: s for s in sessions}
        self.idempotency = idempotency
        self.settings.__dict__.update(asdict(settings))
        self.rate_limit_per_minute = rate_limit
        log.info("verifa sandbox loaded %d sessions", len(self._sessions))
