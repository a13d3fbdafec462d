"""Plumbing shared by the sandbox (vendor emulator) tests.

A settable clock, a webhook sink standing in for the gateway's endpoint, and a harness that
serves one emulator through an in-process ASGI client. Vendor-neutral: each vendor's test
module subclasses `SandboxHarness` with the calls of that vendor's API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from adapters.base import SandboxConfig, SandboxHandle

#: The retry delays of the tests' emulators: short enough that retries finish in a test.
FAST_RETRIES = (0.01, 0.01)

SandboxT = TypeVar("SandboxT", bound=SandboxHandle)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class WebhookSink:
    """The gateway's webhook endpoint: records deliveries, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.script: list[int | Exception] = []
        self._arrived = asyncio.Event()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self._arrived.set()
        if self.script:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return httpx.Response(answer)
        return httpx.Response(200)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def values(self, key: str) -> list[Any]:
        """`key` of every delivered body, in delivery order."""
        return [body[key] for body in self.bodies]

    async def wait_for(self, count: int) -> None:
        """Until `count` deliveries arrived (background sends, retries), at most 3 s."""
        async with asyncio.timeout(3):
            while len(self.requests) < count:
                self._arrived.clear()
                await self._arrived.wait()


def emulator_config(
    sink: WebhookSink,
    clock: FakeClock,
    *,
    public_base_url: str,
    webhook_url: str,
    state_path: str | None = None,
    delays: tuple[float, ...] = FAST_RETRIES,
) -> SandboxConfig:
    """A `SandboxConfig` whose webhooks go to `sink` and whose time is `clock`."""
    return SandboxConfig(
        public_base_url=public_base_url,
        webhook_url=webhook_url,
        state_path=state_path,
        webhook_transport=httpx.MockTransport(sink.handler),
        webhook_retry_delays_s=delays,
        clock=clock,
    )


def local_sandbox_config(provider: str) -> SandboxConfig:
    """Where a gateway on 127.0.0.1:8000 serves `provider`'s sandbox and takes its webhooks."""
    return SandboxConfig(
        public_base_url=f"http://127.0.0.1:8000/sandbox/{provider}",
        webhook_url=f"http://127.0.0.1:8000/webhooks/{provider}",
    )


def asgi_client(app: Any, base_url: str = "http://sandbox") -> httpx.AsyncClient:
    """An HTTP client that calls `app` in-process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@dataclass
class SandboxHarness(Generic[SandboxT]):
    """One emulator, a client for it, where its webhooks land and the clock it reads."""

    sandbox: SandboxT
    client: httpx.AsyncClient
    sink: WebhookSink
    clock: FakeClock
    headers: dict[str, str] = field(default_factory=dict)

    async def simulate(self, session_id: str, action: str, **extra: Any) -> httpx.Response:
        """The emulators' control endpoint (not part of any vendor's API)."""
        return await self.client.post(
            f"/sessions/{session_id}/simulate", json={"action": action, **extra}
        )

    async def drive(self, session_id: str, *actions: str) -> dict[str, Any]:
        """Each control action in turn, each answered 200; the last answer's body."""
        body: dict[str, Any] = {}
        for action in actions:
            response = await self.simulate(session_id, action)
            assert response.status_code == 200, response.text
            body = response.json()
        return body

    def through_the_gateway(self) -> httpx.AsyncClient:
        """A client (a browser, say) reaching the emulator the way a gateway on
        127.0.0.1:8000 serves it: mounted under `/sandbox/<provider>`."""
        outer = Starlette(routes=[Mount(f"/sandbox/{self.sandbox.provider}", app=self.sandbox.app)])
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=outer), base_url="http://127.0.0.1:8000"
        )

    async def aclose(self) -> None:
        await self.sandbox.aclose()
        await self.client.aclose()


HarnessT = TypeVar("HarnessT", bound=SandboxHarness[Any])


@dataclass
class HarnessFactory(Generic[HarnessT]):
    """`make(...)` of a sandbox test module: builds one emulator per call, with its own sink
    and clock, and closes every one it built on `aclose()`."""

    harness: Callable[..., HarnessT]
    sandbox: Callable[..., SandboxHandle]
    start: datetime
    public_base_url: str
    webhook_url: str
    headers: Callable[[Any], dict[str, str]]
    sink: Callable[[], WebhookSink] = WebhookSink
    base_url: str = "http://sandbox"
    made: list[HarnessT] = field(default_factory=list)

    def __call__(
        self,
        *,
        state_path: str | None = None,
        delays: tuple[float, ...] = FAST_RETRIES,
        clock: FakeClock | None = None,
        public: str | None = None,
        webhook_url: str | None = None,
        **options: Any,
    ) -> HarnessT:
        """A fresh emulator; `options` go to the sandbox's constructor."""
        sink, clock = self.sink(), clock or FakeClock(self.start)
        config = emulator_config(
            sink,
            clock,
            public_base_url=self.public_base_url if public is None else public,
            webhook_url=self.webhook_url if webhook_url is None else webhook_url,
            state_path=state_path,
            delays=delays,
        )
        sandbox = self.sandbox(config, **options)
        client = asgi_client(sandbox.app, self.base_url)
        harness = self.harness(sandbox, client, sink, clock, self.headers(sandbox))
        self.made.append(harness)
        return harness

    async def aclose(self) -> None:
        for harness in self.made:
            await harness.aclose()


def harness_fixture(
    harness: Callable[..., Any], sandbox: Callable[..., SandboxHandle], **factory: Any
) -> Any:
    """The `make` fixture of a sandbox test module: a `HarnessFactory` of `harness` over
    `sandbox` (`factory` are its other fields), every emulator it built closed after the test."""

    @pytest.fixture
    async def make() -> AsyncIterator[HarnessFactory[Any]]:
        made: HarnessFactory[Any] = HarnessFactory(harness, sandbox, **factory)
        yield made
        await made.aclose()

    return make


async def form_target(client: httpx.AsyncClient, path: str) -> str:
    """The hosted page at `path` answers 200 with a form posting to a relative URL (it works
    under any mount); the URL that resolves to, `<path>/action`."""
    page = await client.get(path)
    assert page.status_code == 200
    action = page.text.split("action='", 1)[1].split("'", 1)[0]
    assert not action.startswith(("/", "http"))  # relative
    target = str(httpx.URL(path).join(action))
    assert target == f"{path}/action"
    return target
