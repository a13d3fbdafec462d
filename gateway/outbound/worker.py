"""The delivery worker: the loop that fans outbox messages out to endpoints and claims due
deliveries (`queue.py`), sends them (`sender.py`), records every attempt in batches
(`recorder.py`) and now and then forgets old ones (`retention.py`).

- **Durable**: a message exists once its status change committed (`outbox.py`); a delivery
  row once it is fanned out; nothing is forgotten by a crash, only sent again (at least once,
  the same `webhook-id` every time).
- **One in flight**: a worker claims a delivery by marking it SENDING with a lease, in a
  transaction that takes the rows `FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas never
  claim the same one; a lease that runs out (a crashed replica) makes it claimable again.
  On SQLite one worker runs, and at start it takes back what its previous run left SENDING.
- **In order**: a delivery is claimable only when no earlier delivery of the same session to
  the same endpoint is still PENDING or SENDING, so a later event waits while an earlier one
  is retrying. Fan-out runs on one replica at a time (an advisory lock), in message order.
- **Retries**: on the schedule in `KYCGW_WEBHOOK_RETRY_SCHEDULE_S`; after the last one the
  delivery is FAILED and kept (`redeliverWebhook`, `replayWebhooks`). An endpoint whose every
  attempt failed for `KYCGW_WEBHOOK_DISABLE_AFTER_S` is disabled, its waiting deliveries
  FAILED, and it says why (`disabledReason`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import Clock
from gateway import metrics
from gateway.logs import failure
from gateway.outbound import signing
from gateway.outbound.queue import FANOUT_BATCH, Claimed, DeliveryQueue
from gateway.outbound.recorder import AttemptRecorder, Finished
from gateway.outbound.retention import prune
from gateway.outbound.sender import AttemptResult, Sender

log = logging.getLogger(__name__)

#: After an unexpected failure of a whole loop turn (the database away), wait this long.
ERROR_BACKOFF_S = 1.0
#: How long `stop` waits for the loop to leave its current transaction before cancelling.
STOP_GRACE_S = 5.0
PAYLOAD_SEPARATORS = (",", ":")


@dataclass(frozen=True)
class DeliveryConfig:
    schedule_s: tuple[float, ...]
    disable_after_s: float
    lease_s: float
    concurrency: int
    poll_interval_s: float
    #: Finished deliveries, their attempts and fanned-out messages older than this go.
    retention_s: float = 30 * 24 * 3600.0
    prune_interval_s: float = 600.0


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=PAYLOAD_SEPARATORS).encode()


class DeliveryWorker:
    def __init__(
        self,
        read: async_sessionmaker[AsyncSession],
        write: async_sessionmaker[AsyncSession],
        sender: Sender,
        config: DeliveryConfig,
        clock: Clock,
    ) -> None:
        self._read = read
        self._write = write
        self.sender = sender
        self.config = config
        self.clock = clock
        self.queue = DeliveryQueue(
            read, write, clock, first_delay_s=config.schedule_s[0], lease_s=config.lease_s
        )
        self.recorder = AttemptRecorder(
            write, clock, schedule_s=config.schedule_s, disable_after_s=config.disable_after_s
        )
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._pruned_at: float | None = None
        self._stopping = False
        self._finished: list[Finished] = []
        self._record_soon = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for work now (called after every commit that may have made some)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="webhook-delivery-worker")
            self._recorder = asyncio.create_task(
                self._record_loop(), name="webhook-delivery-recorder"
            )

    async def stop(self) -> None:
        """Stop claiming, let the loop and the recorder finish the transaction they are in
        (a task cancelled inside a database call can leave its connection hanging), cut
        the attempts in flight (they are sent again: at least once), record what already
        has an answer."""
        self._stopping = True
        self._wake.set()
        self._record_soon.set()
        for task in (self._task, self._recorder):
            if task is None:
                continue
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_S)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._recorder = None
        for inflight in list(self._inflight):
            inflight.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        await self._record_finished()
        await self.sender.aclose()

    async def _run(self) -> None:
        await self.queue.recover_own()
        while not self._stopping:
            busy = False
            try:
                busy = await self.turn()
            except Exception as error:  # the database away: try again, never die
                log.warning("webhook delivery turn failed", extra=failure(error))
                await asyncio.sleep(ERROR_BACKOFF_S)
            if busy or self._stopping:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_s)

    async def turn(self) -> bool:
        """One round: fan out, claim what fits, start sending. True when there may be more
        to do at once (a full batch)."""
        fanned = await self.queue.fan_out()
        free = self.config.concurrency - len(self._inflight)
        claimed: list[Claimed] = []
        if free > 0:
            claimed = await self.queue.claim(free)
            for item in claimed:
                task = asyncio.create_task(self._deliver(item))
                self._inflight.add(task)
                task.add_done_callback(self._done)
        await self.queue.sample()
        await self._prune_now_and_then()
        return fanned >= FANOUT_BATCH or (free > 0 and len(claimed) >= free)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        # The next event of that session may be due now.
        self._wake.set()

    async def _deliver(self, claimed: Claimed) -> None:
        """Send, then hand the result to the recorder: the slot is free as soon as the
        answer is in (the lease keeps the delivery this worker's until it is recorded)."""
        try:
            result = await self.attempt(claimed)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # never lost: the lease runs out and it is sent again
            log.warning(
                "webhook attempt crashed",
                extra={"delivery_id": claimed.delivery_id, **failure(error)},
            )
            return
        self._finished.append(Finished(claimed, result, self.clock()))
        self._record_soon.set()

    async def attempt(self, claimed: Claimed) -> AttemptResult:
        body = body_of(claimed.payload)
        headers = signing.headers(claimed.keys, claimed.message_id, self.clock(), body)
        result = await self.sender.send(claimed.url, headers, body)
        metrics.outbound_attempt_seconds.observe(result.duration_ms / 1000)
        return result

    async def _record_loop(self) -> None:
        """Group commit of attempt results: whatever finished while the last transaction
        ran is recorded in the next one (SQLite has one writer connection, shared with
        webhook ingest; one transaction per attempt would crowd it)."""
        while not self._stopping:
            await self._record_soon.wait()
            self._record_soon.clear()
            await self._record_finished()

    async def _record_finished(self) -> None:
        batch, self._finished = self._finished, []
        if not batch:
            return
        try:
            await self.recorder.record(batch)
        except Exception as error:  # sent again once their leases run out: at least once
            log.warning(
                "webhook attempts could not be recorded; they will be sent again",
                extra={"deliveries": len(batch), **failure(error)},
            )
        # The next event of those sessions may be due now.
        self._wake.set()

    async def _prune_now_and_then(self) -> None:
        loop_time = asyncio.get_running_loop().time()
        last = self._pruned_at
        if last is not None and loop_time - last < self.config.prune_interval_s:
            return
        self._pruned_at = loop_time
        before = self.clock() - timedelta(seconds=self.config.retention_s)
        await prune(self._read, self._write, before)
