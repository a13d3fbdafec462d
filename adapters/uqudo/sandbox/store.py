"""State of the uqudo emulator: the tenant (client id and RSA signing key) and the QR sessions
with their results, in memory and mirrored atomically to `state_path` after every change.

The key pair is generated on first use (an RSA key costs a quarter second, and a gateway that
never touches uqudo should not pay it) and persisted at once. A sandbox restarted on the same
file keeps its key pair (results signed before the restart
still verify against the JWKS), its client id (their `aud`) and every session; the client
secret and the webhook token are fresh on every start, like the other sandboxes' keys.
"""

from __future__ import annotations

import uuid
from typing import Any

from adapters.common.sandbox.store import SessionStore
from adapters.uqudo.sandbox.keys import SigningKey
from adapters.uqudo.sandbox.model import ORIGIN_QR, UqudoSession


class UqudoStore(SessionStore[UqudoSession]):
    name = "uqudo sandbox"

    def __init__(self, state_path: str | None) -> None:
        super().__init__(state_path)
        self._key: SigningKey | None = None
        if not self._load():
            self.client_id = str(uuid.uuid4())
            self.save()

    @property
    def key(self) -> SigningKey:
        """The tenant's signing key, generated (and persisted) on first use."""
        if self._key is None:
            self._key = SigningKey.generate()
            self.save()
        return self._key

    def by_qr_code_text(self, text: str) -> UqudoSession | None:
        """The QR session of a `qrCodeText` (never an SDK session: it has none)."""
        return self.find(lambda s: s.origin == ORIGIN_QR and s.qr_code_text == text)

    def by_image(self, image_id: str) -> UqudoSession | None:
        return self.find(lambda s: image_id in s.images)

    def _state(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "signing_key": self._key.to_json() if self._key is not None else None,
            "sessions": self._session_rows(),
        }

    def _restore(self, payload: Any) -> None:
        client_id = payload["client_id"]
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("no client id")
        stored_key = payload["signing_key"]
        key = SigningKey.from_json(stored_key) if stored_key is not None else None
        sessions = [UqudoSession.from_json(item) for item in payload["sessions"]]
        self.client_id = client_id
        self._key = key
        self._keep(sessions)
