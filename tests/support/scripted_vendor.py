"""A vendor answering from a script, for adapter tests that need exact control over replies.

Vendor-neutral: each adapter's test module binds `LiveConfig` to its vendor's base URL and
credentials, and subclasses `ScriptedVendor` with an `adapter()` that uses `transport()`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pytest

from adapters.base import AdapterConfig, Environment, ErrorCode, ProviderAdapter, ProviderError

Reply = httpx.Response | Exception
A = TypeVar("A", bound=ProviderAdapter)


@dataclass(frozen=True)
class LiveConfig:
    """Makes the `AdapterConfig` of a live vendor with a fixed clock and no retry waits;
    keyword arguments override any field."""

    base_url: str
    api_key: str
    webhook_secret: str
    now: datetime

    def __call__(self, **overrides: Any) -> AdapterConfig:
        now = self.now
        values: dict[str, Any] = {
            "environment": Environment.LIVE,
            "base_url": self.base_url,
            "api_key": self.api_key,
            "webhook_secret": self.webhook_secret,
            "retry_wait_s": 0.0,
            "clock": lambda: now,
        }
        values.update(overrides)
        return AdapterConfig(**values)


def offline_adapter(cls: type[A]) -> A:
    """An adapter that is never asked to call its vendor (its status tables, declarations)."""
    return cls(
        AdapterConfig(
            environment=Environment.LIVE,
            base_url="https://vendor.invalid",
            api_key="offline-key",
            webhook_secret="offline-secret",
        )
    )


class ScriptedVendor:
    """Answers requests from a queue (the last reply repeats) and remembers them."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def sent_json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    def calls(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


async def assert_unavailable(
    script: ScriptedVendor, call: Awaitable[Any], *, attempts: int
) -> ProviderError:
    """`call` fails with PROVIDER_UNAVAILABLE after exactly `attempts` requests."""
    with pytest.raises(ProviderError) as info:
        await call
    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert len(script.requests) == attempts
    return info.value
