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

from sqlalchemy import and_, exists, func, insert, or_, select, text, update
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

    def wake(self) -> None:
        """Look for work now (called after every commit that may have made some)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="webhook-delivery-worker")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for inflight in list(self._inflight):
            inflight.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
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

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for the deliveries in flight (tests and shutdown)."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout_s)

    async def _dialect_name(self, conn: AsyncConnection) -> str:
        if self._dialect is None:
            self._dialect = conn.dialect.name
        return self._dialect

    async def _recover_own(self) -> None:
        """SQLite has one worker: whatever its last run left SENDING was cut off by a stop
        or a crash, and goes back to PENDING now rather than after its lease."""
        async with self._write() as db, db.begin():
            conn = await db.connection()
            if await self._dialect_name(conn) != "sqlite":
                return
            d = tables.deliveries
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

    async def claim(self, limit: int) -> list[Claimed]:
        d, m, e = tables.deliveries, tables.messages, tables.endpoints
        earlier = d.alias("earlier")
        now = self.clock()
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
                m.c.message_id,
                m.c.payload,
            )
            .join(e, e.c.id == d.c.endpoint_id)
            .join(m, m.c.id == d.c.message_id)
            .where(
                e.c.disabled_at.is_(None),
                or_(
                    and_(
                        d.c.status == DeliveryStatus.PENDING.value,
                        d.c.next_attempt_at <= now,
                    ),
                    and_(d.c.status == DeliveryStatus.SENDING.value, d.c.lease_until < now),
                ),
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
            )
            for row in rows
        ]

    async def _deliver(self, claimed: Claimed) -> None:
        try:
            result = await self.attempt(claimed)
            await self.record(claimed, result)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # recorded next time: the lease runs out, it is retried
            log.warning(
                "webhook delivery could not be recorded",
                extra={"delivery_id": claimed.delivery_id, **failure(error)},
            )

    async def attempt(self, claimed: Claimed) -> AttemptResult:
        body = body_of(claimed.payload)
        headers = signing.headers(claimed.keys, claimed.message_id, self.clock(), body)
        result = await self.sender.send(claimed.url, headers, body)
        metrics.outbound_attempt_seconds.observe(result.duration_ms / 1000)
        return result

    async def record(self, claimed: Claimed, result: AttemptResult) -> None:
        d, e, a = tables.deliveries, tables.endpoints, tables.attempts
        now = self.clock()
        schedule = self.config.schedule_s
        round_attempts = claimed.round_attempts + 1
        if result.succeeded:
            outcome, status, next_at = "succeeded", DeliveryStatus.SUCCEEDED, None
        elif round_attempts < len(schedule):
            outcome, status = "retrying", DeliveryStatus.PENDING
            next_at = now + timedelta(seconds=schedule[round_attempts])
        else:
            outcome, status, next_at = "failed", DeliveryStatus.FAILED, None
        async with self._write() as db, db.begin():
            conn = await db.connection()
            await conn.execute(
                insert(a).values(
                    delivery_id=claimed.delivery_id,
                    attempted_at=now,
                    status_code=result.status_code,
                    error=result.error,
                    duration_ms=result.duration_ms,
                )
            )
            changed = await conn.execute(
                update(d)
                .where(
                    d.c.id == claimed.delivery_id,
                    d.c.status == DeliveryStatus.SENDING.value,
                    d.c.lease_until == claimed.lease_until,
                )
                .values(
                    status=status.value,
                    attempt_count=d.c.attempt_count + 1,
                    round_attempts=round_attempts,
                    next_attempt_at=next_at,
                    lease_until=None,
                    last_status_code=result.status_code,
                    last_error=result.error,
                    finished_at=None if status is DeliveryStatus.PENDING else now,
                )
            )
            if changed.rowcount == 0:
                log.warning(
                    "webhook delivery lease ran out before its attempt was recorded; it "
                    "may be sent again",
                    extra={"delivery_id": claimed.delivery_id},
                )
            if result.succeeded:
                await conn.execute(
                    update(e)
                    .where(e.c.id == claimed.endpoint_id, e.c.failing_since.is_not(None))
                    .values(failing_since=None)
                )
            else:
                await self._endpoint_failed(conn, claimed.endpoint_id, now)
        metrics.outbound_deliveries_total.labels(outcome).inc()
        if not result.succeeded:
            log.info(
                "webhook attempt failed",
                extra={
                    "delivery_id": claimed.delivery_id,
                    "endpoint_id": claimed.endpoint_id,
                    "status_code": result.status_code,
                    "outcome": outcome,
                    "attempt": round_attempts,
                },
            )

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
