"""The bounded single-consumer queue behind every subscription (gateway/bus/mailbox.py)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.bus.mailbox import Mailbox, MailboxFull


async def test_fifo_and_bounded() -> None:
    box: Mailbox[int] = Mailbox(2)
    assert box.empty() and box.qsize() == 0
    box.put_nowait(1)
    box.put_nowait(2)
    with pytest.raises(MailboxFull):
        box.put_nowait(3)
    assert [await box.get(), box.get_nowait()] == [1, 2]
    with pytest.raises(IndexError):
        box.get_nowait()


async def test_a_waiting_consumer_wakes_on_put_and_can_be_cancelled() -> None:
    box: Mailbox[str] = Mailbox(4)
    getter = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    assert not getter.done()
    box.put_nowait("x")
    assert await asyncio.wait_for(getter, 1) == "x"

    cancelled = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    box.put_nowait("y")  # no stale waiter left behind
    assert await asyncio.wait_for(box.get(), 1) == "y"
