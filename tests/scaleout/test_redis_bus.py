"""The Redis bus: an event published on one replica reaches subscribers on another, and each
replica holds one Redis subscription however many GraphQL subscribers it has."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis

from adapters.base import SessionStatus
from gateway.bus.events import StatusChanged
from gateway.bus.redis_bus import RedisBus, decode, encode
from tests.support.redis_service import require_redis


def event(cursor: int) -> StatusChanged:
    return StatusChanged(
        cursor=cursor,
        session_id="ses_1",
        provider="didit",
        client_reference="r",
        sequence=cursor,
        previous_status=SessionStatus.CREATED,
        status=SessionStatus.IN_PROGRESS,
        provider_status="In Progress",
        source="WEBHOOK",
        occurred_at=datetime.now(UTC),
    )


def test_wire_format_round_trips() -> None:
    original = event(7)
    assert decode(encode(original)) == original


async def test_cross_replica_fan_out_with_one_redis_subscription_each() -> None:
    url = await require_redis()
    channel = f"kycgw:test:{uuid.uuid4().hex}"
    a, b = RedisBus(url, channel=channel), RedisBus(url, channel=channel)
    await a.start()
    await b.start()
    try:
        local = [b.subscribe(lambda e: True) for _ in range(25)]
        probe = Redis.from_url(url)
        counts = await probe.pubsub_numsub(channel)
        await probe.aclose()
        assert counts[0][1] == 2  # two replicas, not 25 subscribers
        await a.publish(event(1))
        for subscription in local:
            got = await asyncio.wait_for(anext(aiter(subscription)), 5)
            assert got.cursor == 1
    finally:
        await a.aclose()
        await b.aclose()
