"""Bounded per-subscriber queues: a slow or vanished subscriber never blocks the others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from adapters.base import SessionStatus
from gateway.bus.events import InProcessBus, StatusChanged, SubscriberOverflow


def event(cursor: int, session: str = "s1") -> StatusChanged:
    return StatusChanged(
        cursor=cursor,
        session_id=session,
        provider="didit",
        client_reference=None,
        sequence=cursor,
        previous_status=None,
        status=SessionStatus.CREATED,
        provider_status="Not Started",
        source="API",
        occurred_at=datetime.now(UTC),
    )


async def test_filtered_fan_out() -> None:
    bus = InProcessBus(queue_size=10)
    mine = bus.subscribe(lambda e: e.session_id == "s1")
    theirs = bus.subscribe(lambda e: e.session_id == "s2")
    await bus.publish(event(1, "s1"))
    await bus.publish(event(2, "s2"))
    assert mine.pending == 1 and theirs.pending == 1


async def test_subscriptions_keyed_by_session_see_only_their_session() -> None:
    bus = InProcessBus(queue_size=10)
    keyed = bus.subscribe(lambda e: e.session_id == "s1", session_id="s1")
    # The predicate still applies on top of the key (e.g. a provider filter).
    never = bus.subscribe(lambda e: e.session_id == "s1" and e.cursor > 99, session_id="s1")
    everyone = bus.subscribe(lambda e: True)
    for cursor, session in enumerate(["s1", "s2", "s1", "s3"], start=1):
        await bus.publish(event(cursor, session))
    assert (keyed.pending, never.pending, everyone.pending) == (2, 0, 4)
    assert bus.subscriber_count == 3
    keyed.close()
    never.close()
    assert bus.subscriber_count == 1
    await bus.publish(event(5, "s1"))
    assert everyone.pending == 5


async def test_slow_subscriber_overflows_alone_and_learns_its_cursor() -> None:
    bus = InProcessBus(queue_size=3)
    slow = bus.subscribe(lambda e: True)
    fast = bus.subscribe(lambda e: True)
    received: list[int] = []

    async def consume() -> None:
        async for e in fast:
            received.append(e.cursor)
            if e.cursor == 10:
                return

    task = asyncio.create_task(consume())
    for i in range(1, 11):
        await bus.publish(event(i))  # never awaits a subscriber
        await asyncio.sleep(0)
    await asyncio.wait_for(task, 1)
    assert received == list(range(1, 11))
    got: list[int] = []
    with pytest.raises(SubscriberOverflow) as info:
        async for e in slow:
            got.append(e.cursor)
    assert got == [1, 2, 3]
    assert info.value.last_cursor == 3
    assert bus.subscriber_count == 1  # the slow one is gone


async def test_closing_removes_the_subscriber_and_ends_iteration() -> None:
    bus = InProcessBus(queue_size=3)
    sub = bus.subscribe(lambda e: True)
    assert bus.subscriber_count == 1
    sub.close()
    assert bus.subscriber_count == 0
    assert [e async for e in sub] == []
