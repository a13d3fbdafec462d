"""The reconciler: polls what webhooks do not cover (all of Beltic, Verifa `processing`, any
session the vendor has been silent about for too long), within a per-vendor request budget.

A polled change takes exactly the webhook's path (`SessionService.poll` → the applier), with
`source: POLL`. Which sessions are due is decided when they change
(`gateway/sessions/polling.py`), so a tick is one indexed query per vendor; final sessions
are never due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from adapters.base import Clock, ErrorCode
from gateway import metrics
from gateway.errors import ServiceError
from gateway.logs import failure
from gateway.sessions.polling import EffectivePolicy
from gateway.sessions.service import SessionService

log = logging.getLogger(__name__)

WINDOW = timedelta(seconds=60)


class RequestBudget:
    """At most `per_minute` requests in any sliding 60 s window, spread over ticks so a
    backlog does not arrive at the vendor as one burst; a 429 pauses the whole vendor."""

    def __init__(self, per_minute: float, tick_s: float, clock: Clock) -> None:
        self.per_minute = max(1, math.floor(per_minute))
        self.per_tick = max(1, math.ceil(per_minute / 60 * tick_s))
        self._clock = clock
        self._sent: deque[datetime] = deque()
        self._paused_until: datetime | None = None

    def available(self) -> int:
        now = self._clock()
        if self._paused_until is not None and now < self._paused_until:
            return 0
        while self._sent and now - self._sent[0] >= WINDOW:
            self._sent.popleft()
        return max(0, min(self.per_tick, self.per_minute - len(self._sent)))

    def spend(self) -> None:
        self._sent.append(self._clock())

    def pause(self, seconds: float) -> None:
        self._paused_until = self._clock() + timedelta(seconds=seconds)


class Reconciler:
    def __init__(
        self,
        service: SessionService,
        policies: Mapping[str, EffectivePolicy],
        *,
        tick_s: float = 1.0,
        concurrency: int = 4,
        is_leader: Callable[[], bool] = lambda: True,
    ) -> None:
        self.service = service
        self.policies = policies
        self.tick_s = tick_s
        self.is_leader = is_leader
        self._limit = asyncio.Semaphore(concurrency)
        self._budgets = {
            name: RequestBudget(policy.requests_per_minute, tick_s, service.clock)
            for name, policy in policies.items()
        }
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> dict[str, int]:
        """Poll every session that is due, within each vendor's budget. Returns polls made."""
        made: dict[str, int] = {}
        if not self.is_leader():
            return made  # another replica reconciles
        for provider, budget in self._budgets.items():
            if not self.service.is_configured(provider):
                continue
            room = budget.available()
            if room == 0:
                continue
            due = await self.service.due_for_poll(provider, room)
            for _ in due:
                budget.spend()
            await asyncio.gather(*(self._poll(provider, sid, budget) for sid in due))
            made[provider] = len(due)
        return made

    async def _poll(self, provider: str, session_id: str, budget: RequestBudget) -> None:
        policy = self.policies[provider]
        async with self._limit:
            try:
                _, progressed = await self.service.poll(session_id)
                metrics.reconciler_polls_total.labels(provider, str(progressed).lower()).inc()
            except ServiceError as error:
                problem = error.problems[0]
                metrics.reconciler_polls_total.labels(provider, "error").inc()
                if problem.code is ErrorCode.RATE_LIMITED:
                    budget.pause(problem.retry_after or 60)
                    log.warning(
                        "vendor rate limit; polling paused",
                        extra={"provider": provider, "pause_s": problem.retry_after or 60},
                    )
                later = min(policy.max_interval_s, max(policy.interval_s * 4, 30.0))
                await self.service.postpone_poll(session_id, later)
                log.warning(
                    "poll failed; retrying later",
                    extra={
                        "provider": provider,
                        "session_id": session_id,
                        "code": problem.code.value,
                        "reason": problem.message[:200],
                        "retry_in_s": later,
                    },
                )
            except Exception as error:
                metrics.reconciler_polls_total.labels(provider, "error").inc()
                log.exception(
                    "poll crashed; retrying later",
                    extra={"provider": provider, "session_id": session_id, **failure(error)},
                )
                await self.service.postpone_poll(session_id, policy.max_interval_s)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception as error:  # a bad tick must not end reconciliation
                log.exception("reconciler tick failed", extra=failure(error))
            await asyncio.sleep(self.tick_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="kycgw-reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
