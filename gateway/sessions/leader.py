"""One reconciler in the cluster: replicas elect it with a PostgreSQL advisory lock held on a
dedicated connection. If the holder dies its connection closes, the lock is released, and
another replica takes the role at its next attempt (within `retry_s`). On SQLite there is one
process: it is always the leader."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import metrics
from gateway.logs import failure

log = logging.getLogger(__name__)

#: Arbitrary, fixed: every replica of one deployment must use the same key.
LOCK_KEY = 0x4B59_4347_0001


class Leadership:
    def __init__(self, engine: AsyncEngine, retry_s: float = 2.0) -> None:
        self._engine = engine
        self.retry_s = retry_s
        self._single = engine.dialect.name != "postgresql"
        self._conn: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self.is_leader = self._single
        metrics.reconciler_leader.set(1 if self.is_leader else 0)

    async def _try(self) -> None:
        if self._conn is None:
            self._conn = await self._engine.connect()
        got = await self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})
        if got.scalar():
            if not self.is_leader:
                log.info("this replica now runs the reconciler")
            self.is_leader = True

    async def _check_alive(self) -> None:
        assert self._conn is not None
        await self._conn.execute(text("SELECT 1"))

    async def _run(self) -> None:
        while True:
            try:
                if self.is_leader:
                    await self._check_alive()
                else:
                    await self._try()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # lost the connection: lost the lock too
                log.warning(
                    "leader election connection lost; this replica stops reconciling",
                    extra={**failure(error), "retry_in_s": self.retry_s},
                )
                self.is_leader = False
                if self._conn is not None:
                    with contextlib.suppress(Exception):
                        await self._conn.close()
                self._conn = None
            metrics.reconciler_leader.set(1 if self.is_leader else 0)
            await asyncio.sleep(self.retry_s)

    def start(self) -> None:
        if not self._single and self._task is None:
            self._task = asyncio.create_task(self._run(), name="kycgw-leader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        self.is_leader = self._single
