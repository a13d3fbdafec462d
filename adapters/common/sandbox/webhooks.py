"""Ordered, retried webhook deliveries for the vendor emulators (the sandboxes).

Vendor-neutral: each sandbox brings its own signing (`build`) and its own retry rule
(`should_retry`), written from that vendor's docs. What is shared is the delivery discipline:

- one queue per session: a session's deliveries go out strictly in order, and a failed one is
  retried (after each of `retry_delays_s`) before the next one of that session starts;
- the caller gets a future that resolves after the *first* attempt of its own event, so the
  request that caused a change can report whether its webhook got through;
- `drop()` forgets a session's queue, `aclose()` cancels everything still pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from adapters.base import SandboxConfig

JSON = dict[str, Any]
#: (job, attempt number starting at 1) → (raw body, headers) of that attempt.
BuildRequest = Callable[["DeliveryJob", int], tuple[bytes, dict[str, str]]]


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    status_code: int | None
    retryable: bool = False

    def to_json(self) -> JSON:
        return {"delivered": self.delivered, "status_code": self.status_code}


NOT_SENT = DeliveryResult(delivered=False, status_code=None)


@dataclass
class DeliveryJob:
    """One event for one session; `payload` is whatever `build` needs, `label` is what the log
    may show about it (an event name or status: never PII or secrets)."""

    session_id: str
    payload: JSON
    label: str
    first: asyncio.Future[DeliveryResult] = field(repr=False)


class OrderedWebhookDispatcher:
    """One ordered queue per session; callers await the first attempt of their own event."""

    def __init__(
        self,
        *,
        url: str,
        transport: httpx.AsyncBaseTransport | None,
        retry_delays_s: tuple[float, ...],
        build: BuildRequest,
        should_retry: Callable[[int], bool],
        timeout_s: float,
        logger: logging.Logger,
        name: str,
    ) -> None:
        self._url = url
        self._transport = transport
        self._delays = tuple(retry_delays_s)
        self._build = build
        self._should_retry = should_retry
        self._timeout_s = timeout_s
        self._log = logger
        self._name = name
        self._client: httpx.AsyncClient | None = None
        self._queues: dict[str, deque[DeliveryJob]] = {}
        self._current: dict[str, DeliveryJob] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def enqueue(self, session_id: str, payload: JSON, label: str) -> asyncio.Future[DeliveryResult]:
        """Queue one event; the future resolves after its first delivery attempt."""
        first: asyncio.Future[DeliveryResult] = asyncio.get_running_loop().create_future()
        if not self._url:
            first.set_result(NOT_SENT)
            return first
        job = DeliveryJob(session_id, payload, label, first)
        self._queues.setdefault(session_id, deque()).append(job)
        if session_id not in self._workers:
            self._workers[session_id] = asyncio.create_task(self._run(session_id))
        return first

    def drop(self, session_id: str) -> None:
        """Forget the queued deliveries of one session (e.g. a deleted one)."""
        worker = self._workers.pop(session_id, None)
        if worker is not None:
            worker.cancel()
        self._settle(session_id)

    async def idle(self) -> None:
        """Until every queue is empty (retries included)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def aclose(self) -> None:
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for session_id in list(self._queues):
            self._settle(session_id)
        self._workers.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- internals ------------------------------------------------------------------------
    def _settle(self, session_id: str) -> None:
        """Resolve every waiter of a session whose deliveries will not happen."""
        jobs = list(self._queues.pop(session_id, ()))
        current = self._current.pop(session_id, None)
        for job in [*jobs, *([current] if current else [])]:
            if not job.first.done():
                job.first.set_result(NOT_SENT)

    async def _run(self, session_id: str) -> None:
        queue = self._queues[session_id]
        try:
            while queue:
                job = queue.popleft()
                self._current[session_id] = job
                await self._deliver(job)
                self._current.pop(session_id, None)
        finally:
            # No await between the last `while queue` check and here: enqueue() cannot
            # slip a job in unseen.
            if self._workers.get(session_id) is asyncio.current_task():
                del self._workers[session_id]
                if not queue:
                    self._queues.pop(session_id, None)

    async def _deliver(self, job: DeliveryJob) -> None:
        result = await self._attempt(job, 1)
        if not job.first.done():
            job.first.set_result(result)
        attempt = 1
        for delay in self._delays:
            if result.delivered or not result.retryable:
                return
            await asyncio.sleep(delay)
            attempt += 1
            result = await self._attempt(job, attempt)
        if not result.delivered:
            self._log.warning(
                "%s sandbox webhook given up session=%s event=%s attempts=%d",
                self._name,
                job.session_id,
                job.label,
                attempt,
            )

    async def _attempt(self, job: DeliveryJob, attempt: int) -> DeliveryResult:
        raw, headers = self._build(job, attempt)
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout_s, follow_redirects=False
            )
        try:
            response = await self._client.post(self._url, content=raw, headers=headers)
        except httpx.TimeoutException:
            result = DeliveryResult(delivered=False, status_code=None, retryable=True)
        except httpx.HTTPError as exc:
            self._log.info("%s sandbox webhook transport error: %s", self._name, type(exc).__name__)
            result = DeliveryResult(delivered=False, status_code=None, retryable=True)
        else:
            code = response.status_code
            delivered = 200 <= code < 300
            result = DeliveryResult(delivered, code, not delivered and self._should_retry(code))
        self._log.info(
            "%s sandbox webhook session=%s event=%s attempt=%d -> %s",
            self._name,
            job.session_id,
            job.label,
            attempt,
            result.status_code if result.status_code is not None else "no response",
        )
        return result


class SignedWebhooks:
    """Base of a sandbox's webhook sender: one shared ordered dispatcher that sends what the
    subclass's `_build` (its vendor's signing, with `_secret` and `_clock`) makes.

    A subclass declares its vendor's `name` (for log lines), `timeout_s` (how long the
    vendor waits for an answer), `should_retry` (which answers it retries: by default every
    non-2xx) and `max_attempts` when the vendor documents a cap. Where a delivery goes and
    how often it is retried is the gateway's `SandboxConfig`.
    """

    name: ClassVar[str]
    timeout_s: ClassVar[float]
    #: Attempts at most, the first included (None: one per configured delay, plus one).
    max_attempts: ClassVar[int | None] = None

    def __init__(self, config: SandboxConfig, secret: str) -> None:
        self._secret = secret
        self._clock = config.clock
        delays = tuple(config.webhook_retry_delays_s)
        if self.max_attempts is not None:
            delays = delays[: self.max_attempts - 1]
        self._dispatcher = OrderedWebhookDispatcher(
            url=config.webhook_url,
            transport=config.webhook_transport,
            retry_delays_s=delays,
            build=self._build,
            should_retry=self.should_retry,
            timeout_s=self.timeout_s,
            logger=logging.getLogger(type(self).__module__),
            name=self.name,
        )

    def should_retry(self, status_code: int) -> bool:
        """Whether a non-2xx answer is retried (no answer at all always is)."""
        return True

    def _build(self, job: DeliveryJob, attempt: int) -> tuple[bytes, dict[str, str]]:
        raise NotImplementedError

    def _stamped(self, job: DeliveryJob) -> tuple[bytes, int]:
        """A job queued with its body serialised once (`raw`: byte-identical on every retry)
        and this attempt's Unix time, for a fresh signature."""
        return job.payload["raw"].encode("utf-8"), int(self._clock().timestamp())

    def _enqueue(
        self, session_id: str, payload: JSON, label: str
    ) -> asyncio.Future[DeliveryResult]:
        return self._dispatcher.enqueue(session_id, payload, label)

    def drop(self, session_id: str) -> None:
        """Forget the queued deliveries of one session."""
        self._dispatcher.drop(session_id)

    async def idle(self) -> None:
        await self._dispatcher.idle()

    async def aclose(self) -> None:
        await self._dispatcher.aclose()
