"""State of the uqudo emulator: the tenant (client id and RSA signing key) and the QR sessions
with their results, in memory and mirrored atomically to `state_path` after every change.

The key pair is generated on first use (an RSA key costs a quarter second, and a gateway that
never touches uqudo should not pay it) and persisted at once. A sandbox restarted on the same
file keeps its key pair (results signed before the restart
still verify against the JWKS), its client id (their `aud`) and every session; the client
secret and the webhook token are fresh on every start, like the other sandboxes' keys.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

from adapters.common.sandbox.store import read_json_state, set_aside, write_json_atomic
from adapters.uqudo.sandbox.keys import SigningKey
from adapters.uqudo.sandbox.model import UqudoSession

log = logging.getLogger(__name__)

STATE_VERSION = 1


class UqudoStore:
    def __init__(self, state_path: str | None) -> None:
        self._path = Path(state_path) if state_path else None
        self._sessions: dict[str, UqudoSession] = {}
        self._key: SigningKey | None = None
        loaded = self._load(self._path) if self._path and self._path.exists() else False
        if not loaded:
            self.client_id = str(uuid.uuid4())
            self.save()

    @property
    def key(self) -> SigningKey:
        """The tenant's signing key, generated (and persisted) on first use."""
        if self._key is None:
            self._key = SigningKey.generate()
            self.save()
        return self._key

    # -- reads ----------------------------------------------------------------------------
    def get(self, session_id: str) -> UqudoSession | None:
        return self._sessions.get(session_id)

    def by_qr_code_text(self, text: str) -> UqudoSession | None:
        return next((s for s in self._sessions.values() if s.qr_code_text == text), None)

    def by_image(self, image_id: str) -> UqudoSession | None:
        return next((s for s in self._sessions.values() if image_id in s.images), None)

    def __iter__(self) -> Iterator[UqudoSession]:
        return iter(list(self._sessions.values()))

    # -- writes ---------------------------------------------------------------------------
    def add(self, session: UqudoSession) -> None:
        self._sessions[session.id] = session
        self.save()

    def save(self) -> None:
        """Write the whole state atomically (no-op without a state path)."""
        if self._path is None:
            return
        payload = {
            "version": STATE_VERSION,
            "client_id": self.client_id,
            "signing_key": self._key.to_json() if self._key is not None else None,
            "sessions": [s.to_json() for s in self._sessions.values()],
        }
        write_json_atomic(self._path, payload, prefix=".uqudo-sandbox-")

    def _load(self, path: Path) -> bool:
        try:
            payload = read_json_state(path, STATE_VERSION)
            client_id = payload["client_id"]
            if not isinstance(client_id, str) or not client_id:
                raise ValueError("no client id")
            stored_key = payload["signing_key"]
            key = SigningKey.from_json(stored_key) if stored_key is not None else None
            sessions = [UqudoSession.from_json(item) for item in payload["sessions"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # A broken file must not take the gateway down: keep it aside, start afresh.
            set_aside(path, exc, log, "uqudo sandbox")
            return False
        self.client_id = client_id
        self._key = key
        self._sessions = {s.id: s for s in sessions}
        log.info("uqudo sandbox loaded %d sessions", len(self._sessions))
        return True
