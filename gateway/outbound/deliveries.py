"""The delivery log and what an operator does with it: read deliveries with their attempts,
send one again (`redeliverWebhook`), replay an endpoint's messages over a time window
(`replayWebhooks`). A resent message keeps its `webhook-id`, so receivers dedupe it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import Clock, ErrorCode
from gateway.errors import ServiceError
from gateway.outbound import tables
from gateway.outbound.tables import OPEN_STATUSES, DeliveryStatus

#: The most messages one replay may queue (a wider window is several calls).
MAX_REPLAY = 10_000


@dataclass(frozen=True)
class Attempt:
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass
class Delivery:
    id: int
    webhook_id: str
    event_type: str
    endpoint_id: str
    session_id: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    payload: dict
    attempts: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    has_next: bool


def _problem(code: ErrorCode, message: str, *path: str) -> ServiceError:
    return ServiceError.single(code, message, path or None)


class WebhookDeliveries:
    def __init__(
        self,
        read: async_sessionmaker[AsyncSession],
        write: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        self._read = read
        self._write = write
        self.clock = clock

    async def page(
        self,
        *,
        endpoint_id: str | None = None,
        session_id: str | None = None,
        status: DeliveryStatus | None = None,
        first: int = 20,
        before_id: int | None = None,
    ) -> DeliveryPage:
        """Newest first; `before_id` is the last id of the previous page."""
        d = tables.deliveries
        query = _with_message()
        if endpoint_id is not None:
            query = query.where(d.c.endpoint_id == endpoint_id)
        if session_id is not None:
            query = query.where(d.c.session_id == session_id)
        if status is not None:
            query = query.where(d.c.status == status.value)
        if before_id is not None:
            query = query.where(d.c.id < before_id)
        query = query.order_by(d.c.id.desc()).limit(first + 1)
        async with self._read() as db:
            conn = await db.connection()
            rows = (await conn.execute(query)).mappings().all()
            deliveries = [_delivery(row) for row in rows[:first]]
            await self._attach_attempts(conn, deliveries)
        return DeliveryPage(deliveries, has_next=len(rows) > first)

    async def get(self, delivery_id: int) -> Delivery | None:
        query = _with_message().where(tables.deliveries.c.id == delivery_id)
        async with self._read() as db:
            conn = await db.connection()
            row = (await conn.execute(query)).mappings().first()
            if row is None:
                return None
            delivery = _delivery(row)
            await self._attach_attempts(conn, [delivery])
        return delivery

    async def _attach_attempts(self, conn: AsyncConnection, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        a = tables.attempts
        by_id: defaultdict[int, list[Attempt]] = defaultdict(list)
        rows = await conn.execute(
            select(a)
            .where(a.c.delivery_id.in_([delivery.id for delivery in deliveries]))
            .order_by(a.c.id)
        )
        for row in rows.mappings():
            by_id[row["delivery_id"]].append(
                Attempt(row["attempted_at"], row["status_code"], row["error"], row["duration_ms"])
            )
        for delivery in deliveries:
            delivery.attempts = by_id.get(delivery.id, [])

    async def redeliver(self, delivery_id: int) -> Delivery:
        """Queue a finished delivery again, due now, with a fresh retry schedule."""
        d, e = tables.deliveries, tables.endpoints
        now = self.clock()
        async with self._write() as db, db.begin():
            conn = await db.connection()
            row = (
                await conn.execute(
                    select(d.c.status, e.c.disabled_at)
                    .join(e, e.c.id == d.c.endpoint_id)
                    .where(d.c.id == delivery_id)
                    .with_for_update(of=d)
                )
            ).first()
            if row is None:
                raise _problem(ErrorCode.NOT_FOUND, "webhook delivery not found", "id")
            if row.status in OPEN_STATUSES:
                raise _problem(
                    ErrorCode.BAD_USER_INPUT,
                    f"this delivery is {row.status} already: it will be sent",
                    "id",
                )
            if row.disabled_at is not None:
                raise _problem(
                    ErrorCode.BAD_USER_INPUT,
                    "its endpoint is disabled: enable it first (updateWebhookEndpoint)",
                    "id",
                )
            await conn.execute(
                update(d)
                .where(d.c.id == delivery_id)
                .values(
                    status=DeliveryStatus.PENDING.value,
                    round_attempts=0,
                    next_attempt_at=now,
                    finished_at=None,
                )
            )
        delivery = await self.get(delivery_id)
        assert delivery is not None
        return delivery

    async def replay(self, endpoint_id: str, since: datetime, until: datetime) -> int:
        """Queue again every message created in [since, until) that the endpoint takes
        (its event types and vendors); returns how many."""
        if until <= since:
            raise _problem(ErrorCode.BAD_USER_INPUT, "to must be after from", "to")
        d, m, e = tables.deliveries, tables.messages, tables.endpoints
        now = self.clock()
        async with self._write() as db, db.begin():
            conn = await db.connection()
            endpoint = (await conn.execute(select(e).where(e.c.id == endpoint_id))).first()
            if endpoint is None:
                raise _problem(ErrorCode.NOT_FOUND, "webhook endpoint not found", "endpointId")
            if endpoint.disabled_at is not None:
                raise _problem(
                    ErrorCode.BAD_USER_INPUT,
                    "the endpoint is disabled: enable it first (updateWebhookEndpoint)",
                    "endpointId",
                )
            query = (
                select(m.c.id, m.c.session_id)
                .where(
                    m.c.created_at >= since,
                    m.c.created_at < until,
                    m.c.fanned_out.is_(True),
                    m.c.event_type.in_(endpoint.event_types),
                )
                .order_by(m.c.id)
                .limit(MAX_REPLAY + 1)
            )
            if endpoint.providers:
                query = query.where(m.c.provider.in_(endpoint.providers))
            messages = (await conn.execute(query)).all()
            if len(messages) > MAX_REPLAY:
                raise _problem(
                    ErrorCode.BAD_USER_INPUT,
                    f"more than {MAX_REPLAY} messages in that window: replay a shorter one",
                    "to",
                )
            if messages:
                await conn.execute(
                    insert(d),
                    [
                        {
                            "message_id": message.id,
                            "endpoint_id": endpoint_id,
                            "session_id": message.session_id,
                            "status": DeliveryStatus.PENDING.value,
                            "attempt_count": 0,
                            "round_attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                        for message in messages
                    ],
                )
        return len(messages)


def _with_message() -> Select[Any]:
    """A delivery's columns with what its message says (the webhook id, type, payload)."""
    d, m = tables.deliveries, tables.messages
    return select(d, m.c.message_id.label("webhook_id"), m.c.event_type, m.c.payload).join(
        m, m.c.id == d.c.message_id
    )


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        webhook_id=row["webhook_id"],
        event_type=row["event_type"],
        endpoint_id=row["endpoint_id"],
        session_id=row["session_id"],
        status=DeliveryStatus(row["status"]),
        attempt_count=row["attempt_count"],
        next_attempt_at=row["next_attempt_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        payload=row["payload"],
    )
