"""Idempotency claims for `createSession`: the key is inserted before the vendor is called,
so two concurrent requests with it cannot both create a vendor session; the loser waits for
the winner's session (or is told its request differs)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import asdict

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import CreateSessionRequest, ErrorCode
from gateway.errors import ServiceError
from gateway.sessions.core import SessionCore
from gateway.store.models import IdempotencyKeyRow, SessionRow

#: A concurrent request with the same idempotency key waits this long, at most, for the first.
IDEMPOTENCY_WAIT_S = 0.05
IDEMPOTENCY_WAIT_STEPS = 600


def request_hash(provider: str, request: CreateSessionRequest) -> str:
    """What a replay must match: the whole request but its key, and the vendor asked for."""
    body = asdict(request)
    body.pop("idempotency_key", None)
    body["provider"] = provider
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=_hashable).encode()).hexdigest()


def _hashable(value: object) -> str:
    """Uploaded files (a SIGN step's document) count by their digest, not their bytes."""
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return str(value)


class IdempotencyClaims:
    def __init__(self, core: SessionCore) -> None:
        self._core = core

    async def claim(self, key: str, request_hash: str) -> SessionRow | None:
        """None when the key is ours (go and create); the first request's session when it
        already made one."""
        for _ in range(IDEMPOTENCY_WAIT_STEPS):
            try:
                async with self._core.write() as db, db.begin():
                    db.add(
                        IdempotencyKeyRow(
                            key=key, request_hash=request_hash, created_at=self._core.clock()
                        )
                    )
                return None  # ours: go and create
            except IntegrityError:
                pass
            async with self._core.db() as db:
                existing = await db.get(IdempotencyKeyRow, key)
                if existing is None:
                    continue  # released by a failed first attempt: claim it again
                if existing.request_hash != request_hash:
                    raise ServiceError.single(
                        ErrorCode.BAD_USER_INPUT,
                        "idempotencyKey was already used with a different request",
                        ("input", "idempotencyKey"),
                    )
                if existing.session_id is not None:
                    session = await db.get(SessionRow, existing.session_id)
                    if session is not None:
                        return session
            await asyncio.sleep(IDEMPOTENCY_WAIT_S)
        raise ServiceError.single(
            ErrorCode.PROVIDER_UNAVAILABLE,
            "a request with this idempotencyKey is still in progress; retry shortly",
            ("input", "idempotencyKey"),
        )

    async def settle(self, db: AsyncSession, key: str, session_id: str) -> None:
        """Point the claim at the session it made, inside the transaction that stores it."""
        claim = await db.get(IdempotencyKeyRow, key)
        if claim is not None:
            claim.session_id = session_id
            db.add(claim)

    async def release(self, key: str) -> None:
        """A failed first attempt gives its key back, so a retry can claim it."""
        async with self._core.write() as db, db.begin():
            claim = await db.get(IdempotencyKeyRow, key)
            if claim is not None and claim.session_id is None:
                await db.delete(claim)
