"""Vendor-pushed channels (uqudo-style websockets) are followed per session and applied like
webhooks; a dropped channel is followed again; open sessions are re-followed after a start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from adapters.base import Capability, CreateSessionRequest, SessionSnapshot
from gateway.sessions.streams import StreamFollower
from tests.conftest import FakeClock
from tests.gateway.fake_service import fake_service
from tests.support.fake_vendor import FakeVendor


class StreamingVendor(FakeVendor):
    capabilities = FakeVendor.capabilities | {Capability.STREAMING}

    def __init__(self) -> None:
        super().__init__()
        self.channel: asyncio.Queue[SessionSnapshot | Exception | None] = asyncio.Queue()
        self.connects = 0

    async def follow_session(self, provider_session_id: str) -> AsyncIterator[SessionSnapshot]:
        self.connects += 1
        while True:
            item = await self.channel.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item


async def _until(predicate, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.01)):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


async def test_pushed_progress_is_applied_and_following_stops_when_final(
    tmp_path: Path, clock: FakeClock
) -> None:
    vendor = StreamingVendor()
    async with fake_service(tmp_path, clock, vendor) as (service, _):
        follower = StreamFollower(service, max_backoff_s=0.01)
        service.created_hooks.append(follower.follow)
        row = await service.create_session("fake", CreateSessionRequest())
        assert follower.following == 1
        psid = row.provider_session_id
        vendor.channel.put_nowait(vendor.snapshot(psid, "busy"))
        vendor.channel.put_nowait(ConnectionResetError("socket dropped"))
        vendor.channel.put_nowait(vendor.snapshot(psid, "checking"))
        vendor.channel.put_nowait(vendor.snapshot(psid, "ok"))

        async def done() -> bool:
            got = await service.get(row.id)
            return got is not None and got.status == "APPROVED"

        await _until(done)
        await _until(lambda: _zero(follower))
        history = await service.history(row.id)
        assert [(h.to_status, h.source) for h in history] == [
            ("CREATED", "API"),
            ("IN_PROGRESS", "WEBHOOK"),
            ("PROCESSING", "WEBHOOK"),
            ("APPROVED", "WEBHOOK"),
        ]
        assert vendor.connects == 2  # followed again after the drop
        await follower.stop()


async def _zero(follower: StreamFollower) -> bool:
    return follower.following == 0


async def test_open_sessions_are_followed_again_after_a_start(
    tmp_path: Path, clock: FakeClock
) -> None:
    vendor = StreamingVendor()
    async with fake_service(tmp_path, clock, vendor) as (service, _):
        open_row = await service.create_session("fake", CreateSessionRequest())
        done_row = await service.create_session("fake", CreateSessionRequest())
        vendor.set_state(done_row.provider_session_id, "ok")
        await service.refresh(done_row.id)
        follower = StreamFollower(service)
        assert await follower.resume_all() == 1
        assert follower.following == 1
        vendor.channel.put_nowait(vendor.snapshot(open_row.provider_session_id, "ok"))
        await _until(lambda: _zero(follower))
        await follower.stop()


async def test_non_streaming_vendors_are_not_followed(tmp_path: Path, clock: FakeClock) -> None:
    async with fake_service(tmp_path, clock) as (service, _):
        follower = StreamFollower(service)
        service.created_hooks.append(follower.follow)
        await service.create_session("fake", CreateSessionRequest())
        assert follower.following == 0
