"""Follows vendor-pushed progress channels (Capability.STREAMING, e.g. uqudo's session
websocket): one task per live session, applied like a webhook. Non-final sessions are followed
again after a restart; a channel that drops is re-followed with backoff until the session is
final (the reconciler still polls, so a dead channel never leaves a session stuck)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from adapters.base import Capability, SessionStatus, UnsupportedByProvider
from gateway.errors import ServiceError
from gateway.logs import failure
from gateway.sessions.service import SessionService
from gateway.store.models import SessionRow

log = logging.getLogger(__name__)


class StreamFollower:
    def __init__(self, service: SessionService, *, max_backoff_s: float = 60.0) -> None:
        self.service = service
        self.max_backoff_s = max_backoff_s
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def streaming_providers(self) -> list[str]:
        return self.service.providers_with(Capability.STREAMING)

    def wants(self, row: SessionRow) -> bool:
        return row.provider in self.streaming_providers() and not SessionStatus(row.status).is_final

    def follow(self, row: SessionRow) -> None:
        if row.id in self._tasks or not self.wants(row):
            return
        task = asyncio.create_task(self._run(row), name=f"kycgw-follow-{row.id}")
        self._tasks[row.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(row.id, None))

    async def resume_all(self) -> int:
        """Follow every non-final session of a streaming vendor (after a start)."""
        rows = await self.service.open_sessions(self.streaming_providers())
        for row in rows:
            self.follow(row)
        return len(rows)

    @property
    def following(self) -> int:
        return len(self._tasks)

    async def _run(self, row: SessionRow) -> None:
        follow = self.service.channel(row)
        backoff = 1.0
        while True:
            try:
                async for snapshot in follow():
                    current = await self.service.apply_pushed(row.id, snapshot)
                    backoff = 1.0
                    if SessionStatus(current.status).is_final:
                        return
                return  # the vendor closed the channel after its last message
            except UnsupportedByProvider:
                return
            except asyncio.CancelledError:
                raise
            except (ServiceError, Exception) as error:  # keep following: never crash the app
                log.warning(
                    "session channel dropped; following again",
                    extra={
                        "provider": row.provider,
                        "session_id": row.id,
                        **failure(error),
                    },
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)
            fresh = await self.service.get(row.id)
            if fresh is None or SessionStatus(fresh.status).is_final:
                return

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
