"""Per-vendor circuit breakers (purgatory): consecutive transient failures open a vendor's
breaker; after a cooldown one call is let through (half-open) and decides. Caller errors (bad
input, refusals) never count. State lives in purgatory's unit of work (in memory here; a Redis
unit of work shares it between replicas)."""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import HalfOpenedState, OpenedState

from adapters.base import ErrorCode, ProviderError
from gateway import metrics

T = TypeVar("T")

#: Failures that say "the vendor is not well", as opposed to "the request was wrong".
TRANSIENT = frozenset({ErrorCode.PROVIDER_UNAVAILABLE, ErrorCode.RATE_LIMITED})


class BreakerState(enum.StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class BreakerOpen(Exception):
    def __init__(self, provider: str) -> None:
        super().__init__(f"{provider} is failing; its circuit breaker is open")
        self.provider = provider


def _not_transient(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and error.code not in TRANSIENT


class Breakers:
    def __init__(self, threshold: int = 5, cooldown_s: float = 30.0) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=threshold,
            default_ttl=cooldown_s,
            exclude=[(ProviderError, _not_transient)],
        )

    async def call(self, provider: str, call: Callable[[], Awaitable[T]]) -> T:
        breaker = await self._factory.get_breaker(provider)
        try:
            async with breaker:
                return await call()
        except OpenedState:
            raise BreakerOpen(provider) from None
        finally:
            metrics.breaker_open.labels(provider).set(0 if breaker.context.state == "closed" else 1)

    async def state(self, provider: str) -> BreakerState:
        context = (await self._factory.get_breaker(provider)).context
        if context.state == "closed":
            return BreakerState.CLOSED
        opened_at = getattr(context, "opened_at", None)
        if context.state == HalfOpenedState.name or (
            opened_at is not None and time.time() - opened_at >= self.cooldown_s
        ):
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN
