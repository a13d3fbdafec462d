"""A bounded single-consumer queue, lighter than `asyncio.Queue`.

Every live subscription holds one or two of these for as long as it lives, mostly empty;
`asyncio.Queue` allocates three deques (items, getters, putters) each, which showed up as the
largest share of an idle subscription's memory. One consumer and non-blocking producers need
only the items and one waiter."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class MailboxFull(Exception):
    pass


class Mailbox(Generic[T]):
    __slots__ = ("_items", "_waiter", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[T] | None = None  # allocated on first use: idle costs nothing
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: T) -> None:
        """Raises `MailboxFull` when `maxsize` items already wait."""
        if self._items is None:
            self._items = deque()
        elif len(self._items) >= self.maxsize:
            raise MailboxFull
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> T:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def get_nowait(self) -> T:
        if not self._items:
            raise IndexError("mailbox is empty")
        return self._items.popleft()

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items
