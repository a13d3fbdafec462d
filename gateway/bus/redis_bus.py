"""Redis as the event broker between replicas.

A status change committed on any replica is published once to a Redis channel; each replica
holds ONE Redis subscription and fans events out to its own subscribers through the same
bounded in-process queues (`InProcessBus`). Redis pub/sub does not keep messages for a replica
that was briefly disconnected: clients resume from their cursor, and the database replays.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.base import SessionStatus
from gateway.bus.events import InProcessBus, Predicate, StatusChanged, StatusSource, Subscription
from gateway.logs import failure

log = logging.getLogger(__name__)

CHANNEL = "kycgw:status-changed"


def encode(event: StatusChanged) -> str:
    return json.dumps(
        {
            "cursor": event.cursor,
            "session_id": event.session_id,
            "provider": event.provider,
            "client_reference": event.client_reference,
            "sequence": event.sequence,
            "previous_status": event.previous_status.value if event.previous_status else None,
            "status": event.status.value,
            "provider_status": event.provider_status,
            "source": event.source,
            "occurred_at": event.occurred_at.isoformat(),
        }
    )


def decode(raw: str | bytes) -> StatusChanged:
    data = json.loads(raw)
    return StatusChanged(
        cursor=int(data["cursor"]),
        session_id=data["session_id"],
        provider=data["provider"],
        client_reference=data["client_reference"],
        sequence=int(data["sequence"]),
        previous_status=SessionStatus(data["previous_status"]) if data["previous_status"] else None,
        status=SessionStatus(data["status"]),
        provider_status=data["provider_status"],
        source=StatusSource(data["source"]),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
    )


class RedisBus:
    def __init__(self, url: str, queue_size: int = 256, channel: str = CHANNEL) -> None:
        self._redis = Redis.from_url(url)
        self._local = InProcessBus(queue_size=queue_size)
        self._channel = channel
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="kycgw-redis-bus")
            await asyncio.wait_for(self._ready.wait(), 10)

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._ready.set()
                    backoff = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            await self._local.publish(decode(message["data"]))
                        except (ValueError, KeyError) as error:
                            log.warning("bad bus message; dropped", extra=failure(error))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                log.warning(
                    "redis bus disconnected; reconnecting",
                    extra={**failure(error), "retry_in_s": backoff},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)

    async def publish(self, event: StatusChanged) -> None:
        """After commit: a lost publish is recovered by clients resuming from their cursor."""
        try:
            await self._redis.publish(self._channel, encode(event))
        except (RedisError, OSError) as error:
            log.warning("redis publish failed", extra=failure(error))

    def subscribe(self, predicate: Predicate, session_id: str | None = None) -> Subscription:
        return self._local.subscribe(predicate, session_id)

    @property
    def subscriber_count(self) -> int:
        return self._local.subscriber_count

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._local.aclose()
        await self._redis.aclose()
