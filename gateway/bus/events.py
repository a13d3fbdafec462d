"""In-process event bus for status changes, with bounded per-subscriber queues.

A slow subscriber never blocks publishers or other subscribers: when its queue is full it is
closed with `SubscriberOverflow`, and the client resumes from its last cursor (the changes are
in the database, so nothing is lost). The `EventBus` protocol is what a Redis bus implements
for scale-out.

A queue holds events of a fixed, small size (payloads are built as they are sent), so its
count bounds its memory; shared websocket streams, which queue serialized payloads, are
bounded in bytes as well (`gateway/web/graphql/shared_streams.py`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.base import SessionStatus
from gateway import metrics
from gateway.bus.mailbox import Mailbox, MailboxFull

log = logging.getLogger(__name__)


class StatusSource(enum.StrEnum):
    """Where a status change came from; stored with it and shown in GraphQL as it is."""

    WEBHOOK = "WEBHOOK"
    POLL = "POLL"
    API = "API"
    SANDBOX = "SANDBOX"


@dataclass(frozen=True)
class StatusChanged:
    cursor: int  # the status change's global id
    session_id: str
    provider: str
    client_reference: str | None
    sequence: int
    previous_status: SessionStatus | None
    status: SessionStatus
    provider_status: str
    source: StatusSource
    occurred_at: datetime


Predicate = Callable[[StatusChanged], bool]


class SubscriberOverflow(Exception):
    """The subscriber fell too far behind; resubscribe with `after` = last cursor seen."""

    def __init__(self, last_cursor: int | None) -> None:
        super().__init__(
            f"subscriber fell behind; resubscribe with after: {last_cursor}"
            if last_cursor is not None
            else "subscriber fell behind; resubscribe"
        )
        self.last_cursor = last_cursor


_CLOSED = object()


class Subscription:
    def __init__(
        self, bus: InProcessBus, predicate: Predicate, maxsize: int, session_id: str | None = None
    ) -> None:
        self._bus = bus
        self._predicate = predicate
        self.session_id = session_id
        self._queue: Mailbox[object] = Mailbox(maxsize)
        self._overflowed = False
        self._last_cursor: int | None = None

    def offer(self, event: StatusChanged) -> None:
        if self._overflowed or not self._predicate(event):
            return
        try:
            self._queue.put_nowait(event)
        except MailboxFull:
            self._overflowed = True
            metrics.subscriber_overflows_total.labels("bus").inc()
            log.warning(
                "subscriber overflow: its queue is full (a slow client); closing it",
                extra={"queue": self._queue.maxsize},
            )
            self._bus.discard(self)

    async def __aiter__(self) -> AsyncIterator[StatusChanged]:
        while True:
            if self._overflowed and self._queue.empty():
                raise SubscriberOverflow(self._last_cursor)
            item = await self._queue.get() if not self._overflowed else self._queue.get_nowait()
            if item is _CLOSED:
                return
            assert isinstance(item, StatusChanged)
            self._last_cursor = item.cursor
            yield item

    def close(self) -> None:
        self._bus.discard(self)
        try:
            self._queue.put_nowait(_CLOSED)
        except MailboxFull:
            self._overflowed = True

    @property
    def pending(self) -> int:
        return self._queue.qsize()


class EventBus(Protocol):
    async def publish(self, event: StatusChanged) -> None: ...

    def subscribe(self, predicate: Predicate, session_id: str | None = None) -> Subscription: ...

    async def aclose(self) -> None: ...


class InProcessBus:
    """Fan-out within one process; publishing never awaits a subscriber.

    Subscriptions that name a session are indexed by it, so an event is offered only to its
    session's subscribers and the unkeyed ones: with thousands of sessions followed one by one,
    testing every predicate on every event would cost more than delivering it."""

    def __init__(self, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._by_session: dict[str, set[Subscription]] = {}
        self._unkeyed: set[Subscription] = set()

    async def publish(self, event: StatusChanged) -> None:
        for subscriber in list(self._by_session.get(event.session_id, ())):
            subscriber.offer(event)
        for subscriber in list(self._unkeyed):
            subscriber.offer(event)

    def subscribe(self, predicate: Predicate, session_id: str | None = None) -> Subscription:
        """`session_id`: the predicate only ever accepts that session's events."""
        subscription = Subscription(self, predicate, self._queue_size, session_id)
        if session_id is None:
            self._unkeyed.add(subscription)
        else:
            self._by_session.setdefault(session_id, set()).add(subscription)
        return subscription

    def discard(self, subscription: Subscription) -> None:
        key = subscription.session_id
        if key is None:
            self._unkeyed.discard(subscription)
            return
        keyed = self._by_session.get(key)
        if keyed is not None:
            keyed.discard(subscription)
            if not keyed:
                del self._by_session[key]

    @property
    def subscriber_count(self) -> int:
        return len(self._unkeyed) + sum(len(subs) for subs in self._by_session.values())

    async def aclose(self) -> None:
        keyed = [s for subs in self._by_session.values() for s in subs]
        for subscriber in [*self._unkeyed, *keyed]:
            subscriber.close()
