"""The delivery queue as the store holds it: fan-out of outbox messages into deliveries,
claims under a lease, crash recovery and the queue's figures (docs/webhooks.md, Delivery).
Each is one short transaction of set-based statements; none is taken when a look on the
read engine finds nothing to do."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import Clock
from gateway import metrics
from gateway.outbound import signing, tables
from gateway.outbound.tables import OPEN_STATUSES, DeliveryStatus, any_row

#: Messages fanned out per transaction.
FANOUT_BATCH = 500
#: The PostgreSQL advisory lock that lets one replica fan out at a time ("kycgwout").
FANOUT_LOCK_KEY = 0x6B79_6367_776F_7574 & 0x7FFF_FFFF_FFFF_FFFF
#: How often queue depth and the oldest pending age are read for /metrics.
QUEUE_SAMPLE_S = 2.0


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


class DeliveryQueue:
    def __init__(
        self,
        read: async_sessionmaker[AsyncSession],
        write: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        first_delay_s: float,
        lease_s: float,
    ) -> None:
        self._read = read
        self._write = write
        self.clock = clock
        self.first_delay_s = first_delay_s
        self.lease_s = lease_s
        self._dialect: str | None = None
        self._sampled_at = 0.0

    async def _dialect_name(self, conn: AsyncConnection) -> str:
        if self._dialect is None:
            self._dialect = conn.dialect.name
        return self._dialect

    async def recover_own(self) -> None:
        """SQLite has one worker: whatever its last run left SENDING was cut off by a stop
        or a crash, and goes back to PENDING now rather than after its lease."""
        d = tables.deliveries
        sending = select(d.c.id).where(d.c.status == DeliveryStatus.SENDING.value)
        if not await any_row(self._read, sending):
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
        if not await any_row(self._read, select(m.c.id).where(m.c.fanned_out.is_(False))):
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
            first_at = now + timedelta(seconds=self.first_delay_s)
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
        due = or_(
            and_(d.c.status == DeliveryStatus.PENDING.value, d.c.next_attempt_at <= now),
            and_(d.c.status == DeliveryStatus.SENDING.value, d.c.lease_until < now),
        )
        if not await any_row(self._read, select(d.c.id).where(due)):
            return []
        lease_until = now + timedelta(seconds=self.lease_s)
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

    async def sample(self) -> None:
        """Queue depth and the oldest pending age, for /metrics (at most every few s)."""
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
