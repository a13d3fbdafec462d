"""A burst of refreshes for one session costs one vendor call (cachetools TTL + coalescing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from cachetools import TTLCache

from adapters.base import SessionSnapshot

Key = tuple[str, str]


class VendorReadCache:
    def __init__(self, ttl_s: float, maxsize: int = 10_000) -> None:
        self._cache: TTLCache[Key, SessionSnapshot] = TTLCache(maxsize=maxsize, ttl=ttl_s)
        self._inflight: dict[Key, asyncio.Future[SessionSnapshot]] = {}
        self._enabled = ttl_s > 0

    async def get(
        self, key: Key, fetch: Callable[[], Awaitable[SessionSnapshot]]
    ) -> SessionSnapshot:
        if self._enabled and key in self._cache:
            return self._cache[key]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[SessionSnapshot] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            snapshot = await fetch()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(snapshot)
        if self._enabled:
            self._cache[key] = snapshot
        return snapshot

    def invalidate(self, key: Key) -> None:
        self._cache.pop(key, None)
