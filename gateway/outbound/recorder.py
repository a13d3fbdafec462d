"""Recording attempts: the delivery log, each delivery's next state on the retry schedule,
and the endpoint's failure clock that disables it (docs/webhooks.md, Delivery). One
transaction per batch of finished attempts; a delivery whose lease this worker lost is left
to its new holder."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import Clock
from gateway import metrics
from gateway.outbound import tables
from gateway.outbound.endpoints import disabled_reason
from gateway.outbound.queue import Claimed
from gateway.outbound.sender import AttemptResult
from gateway.outbound.tables import DeliveryStatus

log = logging.getLogger(__name__)


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


class AttemptRecorder:
    def __init__(
        self,
        write: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        schedule_s: tuple[float, ...],
        disable_after_s: float,
    ) -> None:
        self._write = write
        self.clock = clock
        self.schedule_s = schedule_s
        self.disable_after_s = disable_after_s

    async def record(self, batch: list[Finished]) -> None:
        """One transaction for the batch: the attempts in the log, each delivery's new state
        (only while this worker still holds its lease), the endpoints' failure clocks."""
        d, e, a = tables.deliveries, tables.endpoints, tables.attempts
        outcomes = [self.outcome(item) for item in batch]
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

    def outcome(self, item: Finished) -> Outcome:
        schedule = self.schedule_s
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
        if (now - row.failing_since).total_seconds() < self.disable_after_s:
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
