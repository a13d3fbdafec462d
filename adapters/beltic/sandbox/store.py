"""Storage of the Beltic emulator: accounts, sessions, documents and verifications, in memory
and optionally mirrored to a JSON file.

The file is rewritten atomically (temp file + rename, `adapters.common.sandbox.store`) on
every change, so a sandbox restarted on the same `state_path` still knows every account and
session the gateway has links to.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from adapters.beltic.sandbox.model import Account, Document, Session, Verification
from adapters.common.sandbox.store import set_aside, write_json_atomic

log = logging.getLogger(__name__)

STATE_VERSION = 1


class Store:
    """Records by id; `save()` after each mutation."""

    def __init__(self, state_path: str | None) -> None:
        self._path = Path(state_path) if state_path else None
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, Session] = {}
        self.documents: dict[str, Document] = {}
        self.verifications: dict[str, Verification] = {}
        self._sequence = 0
        if self._path is not None and self._path.exists():
            self._load(self._path)

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def account_by_external_id(self, external_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.external_id == external_id), None)

    def save(self) -> None:
        """Write the whole state atomically (no-op without a state path)."""
        if self._path is None:
            return
        payload: dict[str, Any] = {
            "version": STATE_VERSION,
            "sequence": self._sequence,
            "accounts": [a.to_json() for a in self.accounts.values()],
            "sessions": [s.to_json() for s in self.sessions.values()],
            "documents": [d.to_json() for d in self.documents.values()],
            "verifications": [v.to_json() for v in self.verifications.values()],
        }
        write_json_atomic(self._path, payload, prefix=".beltic-sandbox-")

    def _load(self, path: Path) -> None:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            accounts = [Account.from_json(item) for item in payload["accounts"]]
            sessions = [Session.from_json(item) for item in payload["sessions"]]
            documents = [Document.from_json(item) for item in payload["documents"]]
            verifications = [Verification.from_json(item) for item in payload["verifications"]]
            sequence = int(payload["sequence"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A broken file must not take the gateway down: keep it aside, start empty.
            set_aside(path, exc, log, "beltic sandbox")
            return
        self.accounts = {a.id: a for a in accounts}
        self.sessions = {s.id: s for s in sessions}
        self.documents = {d.id: d for d in documents}
        self.verifications = {v.id: v for v in verifications}
        self._sequence = sequence
        log.info("beltic sandbox loaded %d accounts, %d sessions", len(accounts), len(sessions))
