"""A small vendor-agnostic HTTP layer: one client per adapter, bounded retries, typed errors.

Only idempotent methods are retried, and only on failures that say nothing about the request
(transport errors, 502/503/504, and 429/503 with a short `Retry-After`, which is waited out):
retrying a POST could create two sessions at the vendor. Waits are jittered exponential
(tenacity), and every request first passes the vendor's rate limiter (aiolimiter), set under
the vendor's published limit. Vendor-specific error bodies are turned into `ProviderError` by
the mapper the adapter passes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from adapters.base import AdapterConfig, ErrorCode, ProviderError
from adapters.common.retry_after import retry_after_header

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})
#: Statuses whose `Retry-After` an idempotent call may wait out before retrying.
RETRY_AFTER_STATUSES = frozenset({429, 503})
#: The exponential back-off between retries never exceeds this many times the base wait.
MAX_WAIT_FACTOR = 8

ErrorMapper = Callable[[httpx.Response], ProviderError]


class _RetryableStatus(Exception):
    """Internal: a gateway-ish 5xx that is worth another attempt."""

    def __init__(self, response: httpx.Response, wait_s: float | None = None) -> None:
        super().__init__(response.status_code)
        self.response = response
        self.wait_s = wait_s  # the vendor's own Retry-After, when it gave one


class VendorHttp:
    """`httpx.AsyncClient` wrapper shared by adapters.

    `request` returns the response when its status is in `expected`; otherwise it raises what
    `error_mapper` makes of it. Transport failures become `PROVIDER_UNAVAILABLE`.
    """

    def __init__(
        self,
        config: AdapterConfig,
        *,
        vendor: str,
        headers: Mapping[str, str],
        error_mapper: ErrorMapper,
        auth: httpx.Auth | None = None,
    ) -> None:
        """`auth`: an `httpx.Auth` flow run on every request, for credentials that are not a
        static header (an OAuth token refreshed on a 401, uqudo)."""
        self._config = config
        self._auth = auth
        self._vendor = vendor
        self._headers = dict(headers)
        self._error_mapper = error_mapper
        self._client: httpx.AsyncClient | None = None
        per_minute = config.rate_limit_per_minute
        self._limiter = AsyncLimiter(per_minute, 60) if per_minute else None

    @property
    def client(self) -> httpx.AsyncClient:
        """Created on first use, so an adapter can be built outside an event loop."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._config.base_url,
                transport=self._config.transport,
                timeout=self._config.timeout_s,
                headers=self._headers,
                auth=self._auth,
                # A redirect would drop auth headers (docs/model.md, Pitfalls).
                follow_redirects=False,
            )
        return self._client

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        expected: Collection[int] = (200,),
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """`idempotent` overrides the method's default (e.g. a POST carrying an
        Idempotency-Key may be retried like a GET)."""
        method = method.upper()
        retryable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = max(1, self._config.retry_attempts) if retryable else 1
        wait_s = max(0.0, self._config.retry_wait_s)
        backoff = wait_random_exponential(multiplier=wait_s, max=wait_s * MAX_WAIT_FACTOR)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _RetryableStatus) and error.wait_s is not None:
                return error.wait_s
            return backoff(state)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait,
            retry=retry_if_exception_type((httpx.TransportError, _RetryableStatus)),
            reraise=True,
        )
        kwargs: dict[str, Any] = {} if json is None else {"json": json}
        if headers:
            kwargs["headers"] = dict(headers)
        try:
            async for attempt in retrying:
                with attempt:
                    if self._limiter is not None:
                        await self._limiter.acquire()
                    response = await self.client.request(method, path, **kwargs)
                    self._raise_if_retryable(response)
        except _RetryableStatus as exc:
            response = exc.response
        except httpx.TimeoutException as exc:
            raise self._unavailable(f"{self._vendor} timed out ({type(exc).__name__})") from exc
        except httpx.RequestError as exc:
            raise self._unavailable(f"{self._vendor} unreachable ({type(exc).__name__})") from exc
        if response.status_code not in expected:
            raise self._error_mapper(response)
        return response

    def _raise_if_retryable(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in RETRY_AFTER_STATUSES:
            after = retry_after_header(response, self._config.clock())
            if after is not None and after <= self._config.max_retry_after_s:
                raise _RetryableStatus(response, wait_s=float(after))
            if status == 429:
                return  # a long wait is the caller's to decide: RATE_LIMITED with retry_after
        if status in RETRYABLE_STATUSES:
            raise _RetryableStatus(response)

    def json_of(self, response: httpx.Response) -> Any:
        """The response body as JSON; a vendor answering garbage is a vendor outage."""
        try:
            return response.json()
        except ValueError as exc:
            raise self._unavailable(
                f"{self._vendor} returned a non-JSON body (HTTP {response.status_code})",
                http_status=response.status_code,
            ) from exc

    def _unavailable(self, message: str, *, http_status: int | None = None) -> ProviderError:
        return ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, message, http_status=http_status)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
