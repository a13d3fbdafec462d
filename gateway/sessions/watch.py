"""Status-change streams for subscriptions: replay from the database after a cursor, then
follow the bus — registered first, so nothing published meanwhile is missed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway import metrics
from gateway.bus.events import EventBus, StatusChanged
from gateway.sessions.applier import to_event
from gateway.store.models import SessionRow, StatusChangeRow

#: Whether a watch counts in `kycgw_active_subscriptions`. A stream shared by many
#: subscribers (gateway/web/graphql/shared_streams.py) counts its subscribers instead.
COUNT_SUBSCRIPTION: ContextVar[bool] = ContextVar("count_subscription", default=True)


@dataclass(frozen=True)
class WatchFilter:
    session_id: str | None = None
    provider: str | None = None
    client_reference: str | None = None

    def matches(self, event: StatusChanged) -> bool:
        return (
            (self.session_id is None or event.session_id == self.session_id)
            and (self.provider is None or event.provider == self.provider)
            and (self.client_reference is None or event.client_reference == self.client_reference)
        )


async def watch(
    db_factory: async_sessionmaker[AsyncSession],
    bus: EventBus,
    where: WatchFilter,
    after: int | None,
) -> AsyncIterator[StatusChanged]:
    """No gap, no repeat: live events at or below the last replayed cursor are skipped."""
    subscription = bus.subscribe(where.matches, where.session_id)
    counted = COUNT_SUBSCRIPTION.get()
    if counted:
        metrics.active_subscriptions.inc()
    try:
        last = after
        if after is not None:
            async for event in replay(db_factory, where, after):
                last = event.cursor
                yield event
        async for event in subscription:
            if last is not None and event.cursor <= last:
                continue
            last = event.cursor
            yield event
    finally:
        subscription.close()
        if counted:
            metrics.active_subscriptions.dec()


async def replay(
    db_factory: async_sessionmaker[AsyncSession],
    where: WatchFilter,
    after: int,
    page: int = 500,
) -> AsyncIterator[StatusChanged]:
    cursor = after
    while True:
        async with db_factory() as db:
            query = (
                select(StatusChangeRow, SessionRow)
                .join(SessionRow, col(SessionRow.id) == col(StatusChangeRow.session_id))
                .where(col(StatusChangeRow.id) > cursor)
            )
            if where.session_id:
                query = query.where(SessionRow.id == where.session_id)
            if where.provider:
                query = query.where(SessionRow.provider == where.provider)
            if where.client_reference is not None:
                query = query.where(SessionRow.client_reference == where.client_reference)
            rows = (await db.exec(query.order_by(col(StatusChangeRow.id)).limit(page))).all()
        for change, session in rows:
            assert change.id is not None
            cursor = change.id
            yield to_event(change, session)
        if len(rows) < page:
            return
