"""Signed `status.updated` deliveries of the Didit emulator (didit.md §A4).

Own signing code, written from the vendor docs, not shared with the adapter: if the adapter's
verification is wrong, the sandbox's webhooks fail it. Deliveries for one session go out
strictly in order; a failed attempt is retried in the background before the next one starts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from adapters.didit.sandbox_payloads import new_event_id

log = logging.getLogger(__name__)

JSON = dict[str, Any]
USER_AGENT = "DiditWebhook/2.0 +https://didit.me"
#: Didit expects a 2xx within 5 s (didit.md §A4.1).
DELIVERY_TIMEOUT_S = 5.0


def raw_body(payload: JSON) -> bytes:
    """The bytes Didit sends: sorted keys, compact, ASCII-escaped."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _shorten_floats(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_shorten_floats(item) for item in value]
    if isinstance(value, dict):
        return {key: _shorten_floats(item) for key, item in value.items()}
    return value


def canonical_body(payload: JSON) -> bytes:
    """What X-Signature-V2 covers: sorted, compact, whole floats as ints, unescaped Unicode."""
    text = json.dumps(
        _shorten_floats(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return text.encode("utf-8")


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, payload: JSON, raw: bytes) -> dict[str, str]:
    timestamp = str(payload["timestamp"])
    simple = f"{timestamp}:{payload['session_id']}:{payload['status']}:{payload['webhook_type']}"
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Timestamp": timestamp,
        "X-Signature": hmac_hex(secret, raw),
        "X-Signature-V2": hmac_hex(secret, canonical_body(payload)),
        "X-Signature-Simple": hmac_hex(secret, simple.encode("utf-8")),
    }


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    status_code: int | None
    retryable: bool = False

    def to_json(self) -> JSON:
        return {"delivered": self.delivered, "status_code": self.status_code}


NOT_SENT = DeliveryResult(delivered=False, status_code=None)


@dataclass
class _Job:
    session_id: str
    envelope: JSON
    first: asyncio.Future[DeliveryResult] = field(repr=False)


class WebhookDispatcher:
    """One ordered queue per session; callers await the first attempt of their own event."""

    def __init__(
        self,
        url: str,
        secret: str,
        transport: httpx.AsyncBaseTransport | None,
        retry_delays_s: tuple[float, ...],
        clock: Callable[[], datetime],
    ) -> None:
        self._url = url
        self._secret = secret
        self._transport = transport
        self._delays = tuple(retry_delays_s)
        self._clock = clock
        self._client: httpx.AsyncClient | None = None
        self._queues: dict[str, deque[_Job]] = {}
        self._current: dict[str, _Job] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def enqueue(self, session_id: str, envelope: JSON) -> asyncio.Future[DeliveryResult]:
        """Queue one event; the future resolves after its first delivery attempt."""
        first: asyncio.Future[DeliveryResult] = asyncio.get_running_loop().create_future()
        if not self._url:
            first.set_result(NOT_SENT)
            return first
        self._queues.setdefault(session_id, deque()).append(_Job(session_id, envelope, first))
        if session_id not in self._workers:
            self._workers[session_id] = asyncio.create_task(self._run(session_id))
        return first

    def drop(self, session_id: str) -> None:
        """Forget queued deliveries of a deleted session (Didit drops them too)."""
        worker = self._workers.pop(session_id, None)
        if worker is not None:
            worker.cancel()
        self._settle(session_id)

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

    async def _deliver(self, job: _Job) -> None:
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
            log.warning(
                "didit sandbox webhook given up session=%s status=%s attempts=%d",
                job.session_id,
                job.envelope.get("status"),
                attempt,
            )

    async def _attempt(self, job: _Job, attempt: int) -> DeliveryResult:
        """One POST. Each attempt gets its own event_id and a fresh timestamp (didit.md §A4.1:
        event ids are unique per delivery attempt; the timestamp must pass a ±300 s check)."""
        payload = {
            **job.envelope,
            "event_id": new_event_id(),
            "timestamp": int(self._clock().timestamp()),
        }
        raw = raw_body(payload)
        headers = signed_headers(self._secret, payload, raw)
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=DELIVERY_TIMEOUT_S, follow_redirects=False
            )
        try:
            response = await self._client.post(self._url, content=raw, headers=headers)
        except httpx.TimeoutException:
            result = DeliveryResult(delivered=False, status_code=None, retryable=True)
        except httpx.HTTPError as exc:
            log.info("didit sandbox webhook transport error: %s", type(exc).__name__)
            result = DeliveryResult(delivered=False, status_code=None, retryable=True)
        else:
            code = response.status_code
            retryable = code >= 500 or code == 404  # 3xx and other 4xx: not retried
            result = DeliveryResult(200 <= code < 300, code, retryable)
        log.info(
            "didit sandbox webhook session=%s status=%s attempt=%d -> %s",
            job.session_id,
            payload["status"],
            attempt,
            result.status_code if result.status_code is not None else "no response",
        )
        return result
