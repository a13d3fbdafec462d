"""Creates that are safe to retry: an `Idempotency-Key` on the POST, and the POST retried with
the *same* key when the vendor may or may not have seen it.

`VendorHttp` retries only idempotent methods, because a retried POST could create two sessions.
A POST carrying an idempotency key is idempotent at the vendor ("a repeat create with the same
key returns the original session"), so `IdempotentVendorHttp.request_with_key` retries it on
the failures that say nothing about whether the vendor acted: transport errors (timeouts,
connection resets) and 5xx. The shared `request()` takes no headers, so the key travels in a
context variable read by a request hook (task-local: concurrent calls never see each other's
key).

Keys: `derive_key(scope, caller_key)` turns the caller's key into a UUID (stable for the same
caller key and scope, so a caller's retry maps to the same vendor key; free of whatever the
caller put in it; within any vendor's length limit), or a fresh UUID when the caller gave none
(one key per create call, shared by its retries).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from contextvars import ContextVar
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential

from adapters.base import ErrorCode, ProviderError
from adapters.common.http import MAX_WAIT_FACTOR, VendorHttp

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: The namespace of derived keys (a fixed, arbitrary UUID: changing it changes every key).
KEY_NAMESPACE = uuid.UUID("6f0d7a52-7c1e-4d61-9a43-2f5d8e0b9c17")

#: (header name, key) of the request this task is sending, if any.
_CURRENT_KEY: ContextVar[tuple[str, str] | None] = ContextVar("idempotency_key", default=None)


def derive_key(scope: str, caller_key: str | None) -> str:
    """A UUID derived from `scope` and the caller's key, or a fresh one without a caller key."""
    if caller_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(KEY_NAMESPACE, f"{scope}\x00{caller_key}"))


async def _add_key(request: httpx.Request) -> None:
    current = _CURRENT_KEY.get()
    if current is not None:
        header, key = current
        request.headers[header] = key


def is_transient(error: BaseException) -> bool:
    """A failure after which the vendor may or may not have acted: no answer at all
    (transport error or timeout, no HTTP status) or a 5xx."""
    return (
        isinstance(error, ProviderError)
        and error.code is ErrorCode.PROVIDER_UNAVAILABLE
        and (error.http_status is None or error.http_status >= 500)
    )


class IdempotentVendorHttp(VendorHttp):
    """`VendorHttp` plus keyed, retried requests (see the module docstring)."""

    @property
    def client(self) -> httpx.AsyncClient:
        client = super().client
        hooks = client.event_hooks["request"]
        if _add_key not in hooks:
            hooks.append(_add_key)
        return client

    async def request_with_key(
        self,
        method: str,
        path: str,
        *,
        key: str,
        json: Any = None,
        expected: Collection[int] = (200,),
        header: str = IDEMPOTENCY_HEADER,
        conflict_statuses: Collection[int] = (),
    ) -> httpx.Response:
        """`request()` with `header: key` on every attempt, retried (same key) on transient
        failures up to `retry_attempts`. A status in `conflict_statuses` on a *retry* means
        the vendor is still processing an earlier attempt with this key (the body is the
        same), so it is retried too; on the first attempt it is the caller's error."""

        def should_retry(state: RetryCallState) -> bool:
            if state.outcome is None or not state.outcome.failed:
                return False
            error = state.outcome.exception()
            if is_transient(error):
                return True
            return (
                state.attempt_number > 1
                and isinstance(error, ProviderError)
                and error.http_status in conflict_statuses
            )

        wait_s = max(0.0, self._config.retry_wait_s)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(1, self._config.retry_attempts)),
            wait=wait_exponential(multiplier=wait_s, min=0, max=wait_s * MAX_WAIT_FACTOR),
            retry=should_retry,
            reraise=True,
        )
        token = _CURRENT_KEY.set((header, key))
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self.request(method, path, json=json, expected=expected)
            return response
        finally:
            _CURRENT_KEY.reset(token)
