"""How long the delivery log lasts: finished deliveries, their attempts and the messages no
delivery refers to any more are removed once older than `KYCGW_WEBHOOK_RETENTION_S`; nothing
pending is touched. `replayWebhooks` reaches back as far as messages are kept."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.outbound import tables
from gateway.outbound.tables import FINISHED_STATUSES, any_row

log = logging.getLogger(__name__)

#: Finished deliveries removed per pruning transaction (the rest at the next one).
PRUNE_BATCH = 5_000


async def prune(
    read: async_sessionmaker[AsyncSession],
    write: async_sessionmaker[AsyncSession],
    before: datetime,
) -> int:
    """Returns the deliveries removed."""
    d, a, m = tables.deliveries, tables.attempts, tables.messages
    finished = select(d.c.id).where(d.c.status.in_(FINISHED_STATUSES), d.c.finished_at < before)
    orphaned = select(m.c.id).where(
        m.c.fanned_out.is_(True),
        m.c.created_at < before,
        ~exists().where(d.c.message_id == m.c.id),
    )
    if not await any_row(read, finished) and not await any_row(read, orphaned):
        return 0
    async with write() as db, db.begin():
        conn = await db.connection()
        ids = list((await conn.execute(finished.limit(PRUNE_BATCH))).scalars())
        if ids:
            await conn.execute(delete(a).where(a.c.delivery_id.in_(ids)))
            await conn.execute(delete(d).where(d.c.id.in_(ids)))
        await conn.execute(delete(m).where(m.c.id.in_(orphaned.scalar_subquery())))
    if ids:
        log.info("old webhook deliveries pruned", extra={"deliveries": len(ids)})
    return len(ids)
