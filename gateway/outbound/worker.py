"""The delivery worker: fans outbox messages out to endpoints, claims due deliveries, sends
them and records every attempt.

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
import enum
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import Clock
from gateway import metrics
from gateway.logs import failure
from gateway.outbound import signing, tables
from gateway.outbound.endpoints import disabled_reason
from gateway.outbound.sender import AttemptResult, Sender

log = logging.getLogger(__name__)

#: Messages fanned out per transaction.
FANOUT_BATCH = 500
#: The PostgreSQL advisory lock that lets one replica fan out at a time ("kycgwout").
FANOUT_LOCK_KEY = 0x6B79_6367_776F_7574 & 0x7FFF_FFFF_FFFF_FFFF
#: How often queue depth and the oldest pending age are read for /metrics.
QUEUE_SAMPLE_S = 2.0
#: After an unexpected failure of a whole loop turn (the database away), wait this long.
ERROR_BACKOFF_S = 1.0
PAYLOAD_SEPARATORS = (",", ":")


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


OPEN_STATUSES = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


@dataclass(frozen=True)
class DeliveryConfig:
    schedule_s: tuple[float, ...]
    disable_after_s: float
    lease_s: float
    concurrency: int
    poll_interval_s: float


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds until `lease_until`, with what it takes to send it."""

    delivery_id: int
    lease_until: datetime
    round_attempts: int
    endpoint_id: str
    url: str
    keys: list[str]
    message_id: str
    payload: dict[str, Any]
    #: The endpoint was failing when claimed: a success resets its failure clock.
    failing: bool = False


@dataclass(frozen=True)
class Finished:
    """An attempt's result, waiting to be recorded."""

    claimed: Claimed
    result: AttemptResult
    at: datetime


@dataclass(frozen=True)
class Outcome:
    """What an attempt makes of its delivery: its metric label, status and next attempt."""

    name: str
    status: DeliveryStatus
    next_at: datetime | None


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
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._sampled_at = 0.0
        self._dialect: str | None = None
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
        """Stop claiming, cut the attempts in flight (they are sent again: at least once),
        record what already has an answer."""
        for task in (self._task, self._recorder):
            if task is not None:
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
        await self._recover_own()
        while True:
            busy = False
            try:
                busy = await self.turn()
            except Exception as error:  # the database away: try again, never die
                log.warning("webhook delivery turn failed", extra=failure(error))
                await asyncio.sleep(ERROR_BACKOFF_S)
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_s)

    async def turn(self) -> bool:
        """One round: fan out, claim what fits, start sending. True when there may be more
        to do at once (a full batch)."""
        fanned = await self.fan_out()
        free = self.config.concurrency - len(self._inflight)
        claimed: list[Claimed] = []
        if free > 0:
            claimed = await self.claim(free)
            for item in claimed:
                task = asyncio.create_task(self._deliver(item))
                self._inflight.add(task)
                task.add_done_callback(self._done)
        await self._sample_queue()
        return fanned >= FANOUT_BATCH or (free > 0 and len(claimed) >= free)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        # The next event of that session may be due now.
        self._wake.set()

    async def _dialect_name(self, conn: AsyncConnection) -> str:
        if self._dialect is None:
            self._dialect = conn.dialect.name
        return self._dialect

    async def _recover_own(self) -> None:
        """SQLite has one worker: whatever its last run left SENDING was cut off by a stop
        or a crash, and goes back to PENDING now rather than after its lease."""
        d = tables.deliveries
        if not await self._any(select(d.c.id).where(d.c.status == DeliveryStatus.SENDING.value)):
            return
        async with self._write() as db, db.begin():
            conn = await db.connection()
            if await self._dialect_name(conn) != "sqlite":
                return
            await conn.execute(
                update(d)
                .where(d.c.status == DeliveryStatus.SENDING.value)
                .values(status=DeliveryStatus.PENDING.value, lease_until=None)
            )

    async def fan_out(self) -> int:
        """One delivery per message and endpoint that wants it (enabled, created before the
        message, subscribed to its type and vendor). Returns the messages handled."""
        m, e, d = tables.messages, tables.endpoints, tables.deliveries
        now = self.clock()
        if not await self._any(select(m.c.id).where(m.c.fanned_out.is_(False))):
            return 0
        async with self._write() as db, db.begin():
            conn = await db.connection()
            if await self._dialect_name(conn) == "postgresql":
                locked = await conn.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FANOUT_LOCK_KEY}
                )
                if not locked:
                    return 0
            rows = (
                await conn.execute(
                    select(m.c.id, m.c.session_id, m.c.provider, m.c.event_type, m.c.created_at)
                    .where(m.c.fanned_out.is_(False))
                    .order_by(m.c.id)
                    .limit(FANOUT_BATCH)
                )
            ).all()
            if not rows:
                return 0
            endpoints = (
                await conn.execute(
                    select(e.c.id, e.c.event_types, e.c.providers, e.c.created_at).where(
                        e.c.disabled_at.is_(None)
                    )
                )
            ).all()
            first_at = now + timedelta(seconds=self.config.schedule_s[0])
            values = [
                {
                    "message_id": message.id,
                    "endpoint_id": endpoint.id,
                    "session_id": message.session_id,
                    "status": DeliveryStatus.PENDING.value,
                    "attempt_count": 0,
                    "round_attempts": 0,
                    "next_attempt_at": first_at,
                    "created_at": now,
                }
                for message in rows
                for endpoint in endpoints
                if endpoint.created_at <= message.created_at
                and message.event_type in endpoint.event_types
                and (not endpoint.providers or message.provider in endpoint.providers)
            ]
            if values:
                await conn.execute(insert(d), values)
            await conn.execute(
                update(m).where(m.c.id.in_([r.id for r in rows])).values(fanned_out=True)
            )
        return len(rows)

    async def _any(self, query: Select[Any]) -> bool:
        """A cheap look on the read engine before a write transaction: an idle worker never
        takes the write lock (on SQLite, the one that webhook ingest needs)."""
        async with self._read() as db:
            conn = await db.connection()
            found = (await conn.execute(query.limit(1))).first() is not None
            await db.rollback()
        return found

    async def claim(self, limit: int) -> list[Claimed]:
        d, m, e = tables.deliveries, tables.messages, tables.endpoints
        earlier = d.alias("earlier")
        now = self.clock()
        due = or_(
            and_(d.c.status == DeliveryStatus.PENDING.value, d.c.next_attempt_at <= now),
            and_(d.c.status == DeliveryStatus.SENDING.value, d.c.lease_until < now),
        )
        if not await self._any(select(d.c.id).where(due)):
            return []
        lease_until = now + timedelta(seconds=self.config.lease_s)
        waiting_behind = exists().where(
            earlier.c.endpoint_id == d.c.endpoint_id,
            earlier.c.session_id == d.c.session_id,
            earlier.c.id < d.c.id,
            earlier.c.status.in_(OPEN_STATUSES),
        )
        query = (
            select(
                d.c.id,
                d.c.round_attempts,
                d.c.endpoint_id,
                e.c.url,
                e.c.secret,
                e.c.previous_secret,
                e.c.previous_secret_until,
                e.c.failing_since,
                m.c.message_id,
                m.c.payload,
            )
            .join(e, e.c.id == d.c.endpoint_id)
            .join(m, m.c.id == d.c.message_id)
            .where(
                e.c.disabled_at.is_(None),
                due,
                ~waiting_behind,
            )
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(limit)
            .with_for_update(of=d, skip_locked=True)
        )
        async with self._write() as db, db.begin():
            conn = await db.connection()
            rows = (await conn.execute(query)).all()
            if not rows:
                return []
            await conn.execute(
                update(d)
                .where(d.c.id.in_([row.id for row in rows]))
                .values(status=DeliveryStatus.SENDING.value, lease_until=lease_until)
            )
        return [
            Claimed(
                delivery_id=row.id,
                lease_until=lease_until,
                round_attempts=row.round_attempts,
                endpoint_id=row.endpoint_id,
                url=row.url,
                keys=signing.signing_secrets(
                    row.secret, row.previous_secret, row.previous_secret_until, now
                ),
                message_id=row.message_id,
                payload=row.payload,
                failing=row.failing_since is not None,
            )
            for row in rows
        ]

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
        while True:
            await self._record_soon.wait()
            self._record_soon.clear()
            await self._record_finished()

    async def _record_finished(self) -> None:
        batch, self._finished = self._finished, []
        if not batch:
            return
        try:
            await self.record(batch)
        except Exception as error:  # sent again once their leases run out: at least once
            log.warning(
                "webhook attempts could not be recorded; they will be sent again",
                extra={"deliveries": len(batch), **failure(error)},
            )
        # The next event of those sessions may be due now.
        self._wake.set()

    async def record(self, batch: list[Finished]) -> None:
        """One transaction for the batch: the attempts in the log, each delivery's new state
        (only while this worker still holds its lease), the endpoints' failure clocks."""
        d, e, a = tables.deliveries, tables.endpoints, tables.attempts
        outcomes = [self._outcome(item) for item in batch]
        update_delivery = (
            update(d)
            .where(
                d.c.id == bindparam("b_id"),
                d.c.status == DeliveryStatus.SENDING.value,
                d.c.lease_until == bindparam("b_lease"),
            )
            .values(
                status=bindparam("b_status"),
                attempt_count=d.c.attempt_count + 1,
                round_attempts=bindparam("b_round"),
                next_attempt_at=bindparam("b_next"),
                lease_until=None,
                last_status_code=bindparam("b_code"),
                last_error=bindparam("b_error"),
                finished_at=bindparam("b_finished"),
            )
        )
        succeeded = {i.claimed.endpoint_id for i in batch if i.result.succeeded}
        recovered = {
            i.claimed.endpoint_id for i in batch if i.result.succeeded and i.claimed.failing
        }
        failing = {i.claimed.endpoint_id for i in batch if not i.result.succeeded} - succeeded
        async with self._write() as db, db.begin():
            conn = await db.connection()
            await conn.execute(
                insert(a),
                [
                    {
                        "delivery_id": item.claimed.delivery_id,
                        "attempted_at": item.at,
                        "status_code": item.result.status_code,
                        "error": item.result.error,
                        "duration_ms": item.result.duration_ms,
                    }
                    for item in batch
                ],
            )
            changed = await conn.execute(
                update_delivery,
                [
                    {
                        "b_id": item.claimed.delivery_id,
                        "b_lease": item.claimed.lease_until,
                        "b_status": outcome.status.value,
                        "b_round": item.claimed.round_attempts + 1,
                        "b_next": outcome.next_at,
                        "b_code": item.result.status_code,
                        "b_error": item.result.error,
                        "b_finished": None if outcome.status is DeliveryStatus.PENDING else item.at,
                    }
                    for item, outcome in zip(batch, outcomes, strict=True)
                ],
            )
            if conn.dialect.supports_sane_multi_rowcount and changed.rowcount < len(batch):
                log.warning(
                    "webhook delivery leases ran out before their attempts were recorded; "
                    "they may be sent again",
                    extra={"deliveries": len(batch) - changed.rowcount},
                )
            if recovered:
                await conn.execute(
                    update(e).where(e.c.id.in_(sorted(recovered))).values(failing_since=None)
                )
            now = self.clock()
            for endpoint_id in sorted(failing):
                await self._endpoint_failed(conn, endpoint_id, now)
        for item, outcome in zip(batch, outcomes, strict=True):
            metrics.outbound_deliveries_total.labels(outcome.name).inc()
            if not item.result.succeeded:
                log.info(
                    "webhook attempt failed",
                    extra={
                        "delivery_id": item.claimed.delivery_id,
                        "endpoint_id": item.claimed.endpoint_id,
                        "status_code": item.result.status_code,
                        "outcome": outcome.name,
                        "attempt": item.claimed.round_attempts + 1,
                    },
                )

    def _outcome(self, item: Finished) -> Outcome:
        schedule = self.config.schedule_s
        done = item.claimed.round_attempts + 1
        if item.result.succeeded:
            return Outcome("succeeded", DeliveryStatus.SUCCEEDED, None)
        if done < len(schedule):
            return Outcome(
                "retrying", DeliveryStatus.PENDING, item.at + timedelta(seconds=schedule[done])
            )
        return Outcome("failed", DeliveryStatus.FAILED, None)

    async def _endpoint_failed(
        self, conn: AsyncConnection, endpoint_id: str, now: datetime
    ) -> None:
        e, d = tables.endpoints, tables.deliveries
        row = (
            await conn.execute(
                select(e.c.failing_since, e.c.disabled_at)
                .where(e.c.id == endpoint_id)
                .with_for_update()
            )
        ).first()
        if row is None or row.disabled_at is not None:
            return
        if row.failing_since is None:
            await conn.execute(update(e).where(e.c.id == endpoint_id).values(failing_since=now))
            return
        if (now - row.failing_since).total_seconds() < self.config.disable_after_s:
            return
        reason = disabled_reason(row.failing_since, now)
        await conn.execute(
            update(e)
            .where(e.c.id == endpoint_id)
            .values(disabled_at=now, disabled_reason=reason, updated_at=now)
        )
        await conn.execute(
            update(d)
            .where(d.c.endpoint_id == endpoint_id, d.c.status == DeliveryStatus.PENDING.value)
            .values(
                status=DeliveryStatus.FAILED.value,
                last_error="endpoint disabled",
                finished_at=now,
                next_attempt_at=None,
            )
        )
        metrics.outbound_endpoints_disabled_total.inc()
        log.warning(
            "webhook endpoint disabled: every attempt failed",
            extra={"endpoint_id": endpoint_id, "reason": reason},
        )

    async def _sample_queue(self) -> None:
        loop_time = asyncio.get_running_loop().time()
        if loop_time - self._sampled_at < QUEUE_SAMPLE_S:
            return
        self._sampled_at = loop_time
        d, m = tables.deliveries, tables.messages
        async with self._read() as db:
            conn = await db.connection()
            depth, oldest = (
                await conn.execute(
                    select(func.count(), func.min(d.c.created_at)).where(
                        d.c.status.in_(OPEN_STATUSES)
                    )
                )
            ).one()
            unfanned, oldest_message = (
                await conn.execute(
                    select(func.count(), func.min(m.c.created_at)).where(m.c.fanned_out.is_(False))
                )
            ).one()
            await db.rollback()
        metrics.outbound_queue_depth.set(depth + unfanned)
        times = [t for t in (oldest, oldest_message) if t is not None]
        oldest_at = min(times) if times else None
        metrics.outbound_oldest_pending_seconds.set(
            max(0.0, (self.clock() - oldest_at).total_seconds()) if oldest_at else 0.0
        )
