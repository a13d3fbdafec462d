"""Group commit for vendor events: webhooks that arrive while a write transaction runs are
written together in the next one.

SQLite has one write lock and PostgreSQL pays a round trip and a WAL flush per commit, so one
transaction per webhook caps ingest at what a single writer can commit one by one. Queued
events share a transaction instead (at low load a batch is one event, so latency stays the
same); each caller still gets its own outcome, and is answered only after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

#: A batch writer returns one outcome (or the exception to raise) per item, in order.
BatchWriter = Callable[[Sequence[Item]], Awaitable[Sequence[Outcome | BaseException]]]


#: How long a batch waits for stragglers, only while the previous batch was bigger.
LINGER_S = 0.001


@dataclass
class _Pending(Generic[Item, Outcome]):
    item: Item
    future: asyncio.Future[Outcome]


class GroupCommit(Generic[Item, Outcome]):
    """One drain task at a time takes everything queued (up to `max_batch`) into one call of
    `write_batch`; it starts on demand and ends when the queue is empty."""

    def __init__(
        self,
        write_batch: BatchWriter[Item, Outcome],
        max_batch: int = 128,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._on_batch = on_batch
        self._queue: deque[_Pending[Item, Outcome]] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._last_batch = 1
        self.batches = 0
        self.items = 0

    async def submit(self, item: Item) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        # Retrieved here so a caller that went away leaves no "never retrieved" warning.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._queue.append(_Pending(item, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        # A caller that goes away (the vendor hung up) does not cancel the write.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            if len(self._queue) < self._last_batch:
                # Under load, the callers a batch just answered send again at once: waiting
                # a moment lets them join this batch instead of trailing it one by one.
                await asyncio.sleep(LINGER_S)
            batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
            try:
                outcomes: Sequence[Outcome | BaseException] = await self._write_batch(
                    [pending.item for pending in batch]
                )
            except Exception as error:  # every caller of the batch learns of the failure
                outcomes = [error] * len(batch)
            self._last_batch = len(batch)
            self.batches += 1
            self.items += len(batch)
            if self._on_batch is not None:
                self._on_batch(len(batch))
            for pending, outcome in zip(batch, outcomes, strict=True):
                if pending.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    pending.future.set_exception(outcome)
                else:
                    pending.future.set_result(outcome)
