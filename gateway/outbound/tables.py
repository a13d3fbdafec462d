"""The outbound tables as SQLAlchemy Core tables: the worker's hot paths (fan-out, claim,
record) are set-based statements, not ORM objects."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.store.models import (
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)


class DeliveryStatus(enum.StrEnum):
    """`webhook_deliveries.status` (docs/webhooks.md, Delivery)."""

    PENDING = "PENDING"
    SENDING = "SENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


OPEN_STATUSES = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
FINISHED_STATUSES = (DeliveryStatus.SUCCEEDED.value, DeliveryStatus.FAILED.value)

endpoints: Table = WebhookEndpointRow.__table__  # type: ignore[attr-defined]
messages: Table = WebhookMessageRow.__table__  # type: ignore[attr-defined]
deliveries: Table = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]
attempts: Table = WebhookAttemptRow.__table__  # type: ignore[attr-defined]


async def any_row(read: async_sessionmaker[AsyncSession], query: Select[Any]) -> bool:
    """A cheap look on the read engine before a write transaction: an idle worker never
    takes the write lock (on SQLite, the one webhook ingest needs)."""
    async with read() as db:
        conn = await db.connection()
        found = (await conn.execute(query.limit(1))).first() is not None
        await db.rollback()
    return found
