"""Storage of the Beltic emulator: accounts, sessions, documents and verifications, in memory
and optionally mirrored to a JSON file (the kit's `JsonStateStore`), so a sandbox restarted
on the same `state_path` still knows every account and session the gateway has links to.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.beltic.sandbox.model import Account, Document, Session, Verification
from adapters.common.sandbox.store import JsonStateStore

log = logging.getLogger(__name__)


class Store(JsonStateStore):
    """Records by id; `save()` after each mutation."""

    name = "beltic sandbox"

    def __init__(self, state_path: str | None) -> None:
        super().__init__(state_path)
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, Session] = {}
        self.documents: dict[str, Document] = {}
        self.verifications: dict[str, Verification] = {}
        self._sequence = 0
        self._load()

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def account_by_external_id(self, external_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.external_id == external_id), None)

    def _state(self) -> dict[str, Any]:
        return {
            "sequence": self._sequence,
            "accounts": [a.to_json() for a in self.accounts.values()],
            "sessions": [s.to_json() for s in self.sessions.values()],
            "documents": [d.to_json() for d in self.documents.values()],
            "verifications": [v.to_json() for v in self.verifications.values()],
        }

    def _restore(self, payload: Any) -> None:
        accounts = [Account.from_json(item) for item in payload["accounts"]]
        sessions = [Session.from_json(item) for item in payload["sessions"]]
        documents = [Document.from_json(item) for item in payload["documents"]]
        verifications = [Verification.from_json(item) for item in payload["verifications"]]
        self._sequence = int(payload["sequence"])
        self.accounts = {a.id: a for a in accounts}
        self.sessions = {s.id: s for s in sessions}
        self.documents = {d.id: d for d in documents}
        self.verifications = {v.id: v for v in verifications}
        log.info("beltic sandbox loaded %d accounts, %d sessions", len(accounts), len(sessions))
