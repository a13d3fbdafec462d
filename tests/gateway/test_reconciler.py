"""The reconciler: per-vendor budget, backoff while nothing changes, no polling once final,
a vendor 429 pauses the vendor, and polled changes take the webhook's path (source POLL)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta
from pathlib import Path

from adapters.base import CreateSessionRequest, SessionStatus, TimelineEntry
from gateway.errors import ServiceError
from gateway.sessions.reconcile import Reconciler, RequestBudget
from tests.conftest import FakeClock
from tests.gateway.fake_service import fake_service


async def test_budget_holds_with_500_open_sessions(tmp_path: Path, clock: FakeClock) -> None:
    async with fake_service(tmp_path, clock) as (service, vendor):
        for i in range(500):
            await service.create_session("fake", CreateSessionRequest(client_reference=f"r{i}"))
        calls: list[tuple[float, str]] = []
        original = vendor.fetch_session

        async def counted(psid: str):  # type: ignore[no-untyped-def]
            calls.append(((clock.now - start).total_seconds(), psid))
            return await original(psid)

        vendor.fetch_session = counted  # type: ignore[method-assign]
        start = clock.now
        reconciler = Reconciler(service, service.policies, tick_s=1.0)
        for _ in range(300):  # five simulated minutes, one tick a second
            clock.advance(1)
            await reconciler.tick()
        per_minute = vendor.poll_policy.requests_per_minute  # 120
        times = [t for t, _ in calls]
        worst = max(sum(1 for u in times if t <= u < t + 60) for t in times)
        assert worst <= per_minute, f"{worst} requests in one minute"
        # The budget is used, not wasted: a backlog of 500 keeps it near full.
        assert len(calls) >= per_minute * 5 * 0.9
        # Fair: the longest-waiting go first, so every session is read once before any twice.
        counts = Counter(psid for _, psid in calls)
        assert len(counts) == 500
        assert len({p for _, p in calls[:500]}) == 500


async def test_backoff_doubles_while_nothing_changes_and_resets_on_progress(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with fake_service(tmp_path, clock) as (service, vendor):
        row = await service.create_session("fake", CreateSessionRequest())
        reconciler = Reconciler(service, service.policies, tick_s=1.0)
        polled_at: list[float] = []
        start = clock.now
        for second in range(1, 400):
            clock.advance(1)
            if second == 200:
                vendor.set_state(row.provider_session_id, "busy")
            before = len(vendor.fetches)
            await reconciler.tick()
            if len(vendor.fetches) > before:
                polled_at.append((clock.now - start).total_seconds())
        gaps = [round(b - a) for a, b in itertools.pairwise(polled_at)]
        # 10 s, then 20, 40, 80 (the cap), 80 ... until the vendor moved; then back to 10.
        assert gaps[:4] == [20, 40, 80, 80]
        assert 10 in gaps[gaps.index(80) :]
        got = await service.get(row.id)
        assert got is not None and got.status == "IN_PROGRESS"
        history = await service.history(row.id)
        assert [(h.to_status, h.source) for h in history] == [
            ("CREATED", "API"),
            ("IN_PROGRESS", "POLL"),
        ]


async def test_final_sessions_are_never_polled(tmp_path: Path, clock: FakeClock) -> None:
    async with fake_service(tmp_path, clock) as (service, vendor):
        row = await service.create_session("fake", CreateSessionRequest())
        vendor.set_state(row.provider_session_id, "ok")
        reconciler = Reconciler(service, service.policies, tick_s=1.0)
        for _ in range(30):
            clock.advance(1)
            await reconciler.tick()
        got = await service.get(row.id)
        assert got is not None and got.status == "APPROVED" and got.next_poll_at is None
        reads = len(vendor.fetches)
        for _ in range(600):
            clock.advance(1)
            await reconciler.tick()
        assert len(vendor.fetches) == reads == 1


async def test_vendor_rate_limit_pauses_the_vendor(tmp_path: Path, clock: FakeClock) -> None:
    from adapters.base import ErrorCode, ProviderError

    async with fake_service(tmp_path, clock) as (service, vendor):
        for _ in range(3):
            await service.create_session("fake", CreateSessionRequest())

        async def limited(psid: str):  # type: ignore[no-untyped-def]
            vendor.fetches.append(psid)
            raise ProviderError(ErrorCode.RATE_LIMITED, "slow down", retry_after=30)

        vendor.fetch_session = limited  # type: ignore[method-assign]
        reconciler = Reconciler(service, service.policies, tick_s=1.0)
        clock.advance(10)
        await reconciler.tick()
        first = len(vendor.fetches)
        assert first >= 1
        for _ in range(25):
            clock.advance(1)
            await reconciler.tick()
        assert len(vendor.fetches) == first  # paused for Retry-After


def test_budget_window_is_sliding(clock: FakeClock) -> None:
    budget = RequestBudget(per_minute=6, tick_s=10, clock=clock)
    assert budget.per_tick == 1
    sent = 0
    for _ in range(12):  # 2 minutes in 10 s ticks
        for _ in range(budget.available()):
            budget.spend()
            sent += 1
        clock.advance(10)
    assert sent == 12


async def test_timeline_records_missed_states_with_vendor_times(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Polling learns several transitions at once; history still shows each, at its time."""
    async with fake_service(tmp_path, clock) as (service, vendor):
        row = await service.create_session("fake", CreateSessionRequest())
        t0 = clock.now
        vendor.set_state(
            row.provider_session_id,
            "waiting",
            occurred_at=t0 + timedelta(seconds=30),
            timeline=(
                TimelineEntry(SessionStatus.IN_PROGRESS, "busy", t0 + timedelta(seconds=10)),
                TimelineEntry(SessionStatus.PROCESSING, "checking", t0 + timedelta(seconds=20)),
            ),
        )
        clock.advance(60)
        await service.refresh(row.id)
        history = await service.history(row.id)
        assert [(h.to_status, h.source, (h.occurred_at - t0).seconds) for h in history[1:]] == [
            ("IN_PROGRESS", "POLL", 10),
            ("PROCESSING", "POLL", 20),
            ("AWAITING_DECISION", "POLL", 30),
        ]
        # Polling again with the same answer records nothing new.
        await service.refresh(row.id)
        assert len(await service.history(row.id)) == 4


async def test_unknown_session_poll_is_a_not_found_error(tmp_path: Path, clock: FakeClock) -> None:
    async with fake_service(tmp_path, clock) as (service, _):
        try:
            await service.poll("ses_missing")
        except ServiceError as error:
            assert error.problems[0].code.value == "NOT_FOUND"
        else:
            raise AssertionError("expected NOT_FOUND")


async def test_timeline_never_moves_an_untimed_session_back(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with fake_service(tmp_path, clock) as (service, vendor):
        row = await service.create_session("fake", CreateSessionRequest())
        vendor.set_state(row.provider_session_id, "busy")  # no vendor time
        await service.refresh(row.id)
        t0 = clock.now
        vendor.set_state(
            row.provider_session_id,
            "waiting",
            occurred_at=t0 + timedelta(seconds=5),
            timeline=(TimelineEntry(SessionStatus.CREATED, "new", t0 - timedelta(seconds=5)),),
        )
        await service.refresh(row.id)
        history = await service.history(row.id)
        assert [h.to_status for h in history] == ["CREATED", "IN_PROGRESS", "AWAITING_DECISION"]
