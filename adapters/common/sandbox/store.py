"""The state of the vendor emulators: one JSON document, rewritten atomically.

Temp file in the same folder + fsync + rename, so a sandbox restarted on the same path (or
killed mid-write) finds either the old state or the new one, never half of one. A file that
cannot be read is moved aside (`<name>.corrupt`) rather than taking the gateway down.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from adapters.common.sandbox.times import parse_iso

_log = logging.getLogger(__name__)


def write_json_atomic(path: Path, payload: Any, *, prefix: str = ".sandbox-") -> None:
    data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json_state(path: Path, version: int) -> Any:
    """The state document at `path`; ValueError if it is not JSON or not of `version` (an
    AttributeError if it is not an object): the caller sets such a file aside."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    if payload.get("version") != version:
        raise ValueError(f"state version {payload.get('version')!r}")
    return payload


def set_aside(path: Path, error: Exception, log: logging.Logger, what: str) -> Path:
    """Move an unreadable state file out of the way (kept for a human to look at)."""
    aside = path.with_name(path.name + ".corrupt")
    os.replace(path, aside)
    log.warning("%s state unreadable (%s); moved to %s", what, type(error).__name__, aside)
    return aside


#: What reading a state file can raise: it is then set aside, and the emulator starts afresh.
UNREADABLE = (OSError, ValueError, KeyError, TypeError, AttributeError)


class Persisted(Protocol):
    """A record an emulator keeps: JSON both ways."""

    def to_json(self) -> Any: ...


class JsonStateStore:
    """An emulator's whole state in one JSON document at `state_path` (none: memory only).

    A subclass says what its state is (`_state`, written after every change with `save()`)
    and how to take it back (`_restore`, which parses everything before it assigns anything,
    so a file that fails half-way changes nothing). `name` ("<vendor> sandbox") names the
    log lines and the temporary files.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1

    def __init__(self, state_path: str | None) -> None:
        self._path = Path(state_path) if state_path else None

    def _load(self) -> bool:
        """Restore the state file, if there is one; False when there was none or it was
        unreadable (and is now set aside)."""
        if self._path is None or not self._path.exists():
            return False
        try:
            self._restore(read_json_state(self._path, self.version))
        except UNREADABLE as exc:
            # A broken file must not take the gateway down: keep it aside, start afresh.
            set_aside(self._path, exc, _log, self.name)
            return False
        return True

    def save(self) -> None:
        """Write the whole state atomically (no-op without a state path)."""
        if self._path is None:
            return
        payload = {"version": self.version, **self._state()}
        write_json_atomic(self._path, payload, prefix=f".{self.name.replace(' ', '-')}-")

    def _state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _restore(self, payload: Any) -> None:
        raise NotImplementedError


S = TypeVar("S", bound=Persisted)


class SessionStore(JsonStateStore, Generic[S]):
    """A `JsonStateStore` whose records are sessions by id (`id_field` of each)."""

    id_field: ClassVar[str] = "id"

    def __init__(self, state_path: str | None) -> None:
        super().__init__(state_path)
        self._sessions: dict[str, S] = {}

    def get(self, session_id: str) -> S | None:
        return self._sessions.get(session_id)

    def find(self, match: Callable[[S], bool]) -> S | None:
        """The first session `match` accepts (e.g. the one a hosted-page token belongs to)."""
        return next((s for s in self._sessions.values() if match(s)), None)

    def __iter__(self) -> Iterator[S]:
        return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)

    def add(self, session: S) -> None:
        self._sessions[getattr(session, self.id_field)] = session
        self.save()

    def _keep(self, sessions: list[S]) -> None:
        """Take the sessions a restore parsed (the last step of a `_restore`)."""
        self._sessions = {getattr(s, self.id_field): s for s in sessions}
        _log.info("%s loaded %d sessions", self.name, len(self._sessions))

    def _session_rows(self) -> list[Any]:
        return [s.to_json() for s in self._sessions.values()]


class IdempotencyKeys:
    """`Idempotency-Key` → what the first request with it got, kept `ttl_s` seconds; mixed
    into a store whose vendor documents the header (persisted with the store's state)."""

    idempotency: dict[str, Any]
    ttl_s: ClassVar[float]
    save: Callable[[], None]  # the store's

    def recall(self, key: str, now: datetime) -> Any:
        """The record kept under `key`, or None (one older than `ttl_s` is forgotten)."""
        record = self.idempotency.get(key)
        if record is None:
            return None
        if (now - parse_iso(record["created_at"])).total_seconds() >= self.ttl_s:
            del self.idempotency[key]
            self.save()
            return None
        return record

    def remember(self, key: str, record: dict[str, Any], now: datetime, created_at: str) -> None:
        """Keep `record` under `key` (stamped `created_at`), forgetting the expired ones."""
        self.idempotency = {
            k: r
            for k, r in self.idempotency.items()
            if (now - parse_iso(r["created_at"])).total_seconds() < self.ttl_s
        }
        self.idempotency[key] = {**record, "created_at": created_at}
        self.save()
