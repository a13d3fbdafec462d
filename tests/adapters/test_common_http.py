"""The shared outbound layer: jittered retries for idempotent calls only, Retry-After waited
out when short, a rate limiter per vendor, per-request headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from adapters.base import AdapterConfig, Environment, ErrorCode, ProviderError
from adapters.common.http import VendorHttp

CONFIG = AdapterConfig(
    environment=Environment.SANDBOX,
    base_url="https://vendor.invalid",
    api_key="k",
    webhook_secret="s",
    retry_attempts=3,
    retry_wait_s=0,
)


def http(replies: list[httpx.Response], seen: list[httpx.Request], **config: object) -> VendorHttp:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return replies.pop(0)

    return VendorHttp(
        replace(CONFIG, transport=httpx.MockTransport(handler), **config),  # type: ignore[arg-type]
        vendor="test",
        headers={},
        error_mapper=lambda r: ProviderError(
            ErrorCode.RATE_LIMITED if r.status_code == 429 else ErrorCode.PROVIDER_UNAVAILABLE,
            f"HTTP {r.status_code}",
            http_status=r.status_code,
        ),
    )


async def test_get_waits_out_a_short_retry_after_then_succeeds() -> None:
    seen: list[httpx.Request] = []
    client = http([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200)], seen)
    response = await client.request("GET", "/x")
    assert response.status_code == 200 and len(seen) == 2


async def test_a_long_retry_after_is_the_callers_to_decide() -> None:
    seen: list[httpx.Request] = []
    client = http([httpx.Response(429, headers={"Retry-After": "120"})], seen)
    with pytest.raises(ProviderError) as info:
        await client.request("GET", "/x")
    assert info.value.code is ErrorCode.RATE_LIMITED and len(seen) == 1


async def test_post_is_not_retried_unless_declared_idempotent() -> None:
    seen: list[httpx.Request] = []
    client = http([httpx.Response(503), httpx.Response(201)], seen)
    with pytest.raises(ProviderError):
        await client.request("POST", "/x", expected=(201,))
    assert len(seen) == 1
    seen.clear()
    client = http([httpx.Response(503), httpx.Response(201)], seen)
    response = await client.request(
        "POST", "/x", expected=(201,), idempotent=True, headers={"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 201
    assert [r.headers["Idempotency-Key"] for r in seen] == ["k-1", "k-1"]


async def test_retries_are_bounded() -> None:
    seen: list[httpx.Request] = []
    client = http([httpx.Response(502)] * 5, seen)
    with pytest.raises(ProviderError):
        await client.request("GET", "/x")
    assert len(seen) == 3


async def test_every_request_passes_the_vendor_rate_limiter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[httpx.Request] = []
    client = http([httpx.Response(503), httpx.Response(200)], seen, rate_limit_per_minute=240)
    assert client._limiter is not None and client._limiter.max_rate == 240
    acquired: list[int] = []
    original: Callable[..., object] = client._limiter.acquire

    async def counting(amount: float = 1) -> None:
        acquired.append(1)
        await original(amount)  # type: ignore[misc]

    monkeypatch.setattr(client._limiter, "acquire", counting)
    await client.request("GET", "/x")
    assert len(acquired) == len(seen) == 2  # retries are rate limited too


def test_no_limiter_without_a_limit() -> None:
    assert http([], [])._limiter is None
