"""A vendor's sandbox served on its own loopback port, standing in for the vendor's real host,
so the gateway can run with *live* credentials (`KYCGW_<VENDOR>_API_KEY`, `_BASE_URL`, ...)
and take the live code path end to end: its own HTTP client, real sockets, and webhooks that
the test (or the stand-in) signs with the secret a live deployment would hold."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.base import SandboxConfig, SandboxHandle
from adapters.registry import adapter_class
from tests.e2e.server import free_port, running_gateway


@dataclass
class StandIn:
    vendor: str
    base_url: str
    sandbox: SandboxHandle

    def live_env(self, **extra: str) -> dict[str, str]:
        """The settings that point a gateway's live adapter at this stand-in."""
        prefix = f"KYCGW_{self.vendor.upper()}_"
        env = {
            f"{prefix}BASE_URL": self.base_url,
            f"{prefix}API_KEY": self.sandbox.api_key,
            f"{prefix}WEBHOOK_SECRET": self.sandbox.webhook_secret,
        }
        env.update({f"{prefix}{k.upper()}": v for k, v in self.sandbox.options.items()})
        env.update(extra)
        return env


@contextmanager
def running_standin(
    vendor: str, data_dir: Path, webhook_url: str, *, retry_delays_s: tuple[float, ...] = (0.2,)
) -> Iterator[StandIn]:
    """Serve `vendor`'s sandbox on a free loopback port in a background thread; its webhooks
    go to `webhook_url` (the gateway under test)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox = adapter_class(vendor).build_sandbox(
        SandboxConfig(
            public_base_url=base,
            webhook_url=webhook_url,
            state_path=str(data_dir / f"standin-{vendor}.json"),
            webhook_retry_delays_s=retry_delays_s,
        )
    )
    assert sandbox is not None, f"{vendor} has no sandbox to stand in for it"
    server = uvicorn.Server(
        uvicorn.Config(sandbox.app, host="127.0.0.1", port=port, log_level="warning")
    )

    async def serve() -> None:
        try:
            await server.serve()
        finally:
            await sandbox.aclose()  # on the loop its webhook deliveries ran on

    with serving_in_thread(server, lambda: asyncio.run(serve()), "stand-in"):
        yield StandIn(vendor, base, sandbox)


@contextmanager
def serving_in_thread(
    server: uvicorn.Server, run: Callable[[], object], what: str
) -> Iterator[None]:
    """Run a loopback uvicorn server on a daemon thread for the duration of the block."""
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.025)
    assert server.started, f"{what} did not start"
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Captured:
    body: bytes
    headers: dict[str, str]


@dataclass
class Recorder:
    """Forwards every POST to `target` and keeps a copy: a captured delivery, as an attacker
    on the path would have it."""

    url: str
    captured: list[Captured]


@contextmanager
def serving_post(handler: Callable[[Request], Awaitable[Response]], what: str) -> Iterator[str]:
    """A loopback server answering `POST /` with `handler`, for the block; yields its URL."""
    port = free_port()
    app = Starlette(routes=[Route("/", handler, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    with serving_in_thread(server, server.run, what):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def running_recorder(target: str) -> Iterator[Recorder]:
    """A loopback relay in front of the gateway's webhook endpoint."""
    captured: list[Captured] = []

    async def relay(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
        captured.append(Captured(body, headers))
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(target, content=body, headers=headers)
        return Response(answer.content, status_code=answer.status_code)

    with serving_post(relay, "recorder") as url:
        yield Recorder(url, captured)


@dataclass
class Live:
    """A real gateway in live mode against a vendor stand-in, its webhooks relayed."""

    base: str
    standin: StandIn
    relay: Recorder


@contextmanager
def running_live_gateway(vendor: str, data_dir: Path) -> Iterator[Live]:
    """Gateway ← recorder ← stand-in. The reconciler stays out of the way: every change
    arrives by webhook (or by a read the test asks for)."""
    port = free_port()
    prefix = f"KYCGW_{vendor.upper()}"
    with (
        running_recorder(f"http://127.0.0.1:{port}/webhooks/{vendor}") as relay,
        running_standin(vendor, data_dir, relay.url) as standin,
    ):
        env = standin.live_env(
            **{f"{prefix}_POLL_INTERVAL_S": "3600", f"{prefix}_POLL_MAX_INTERVAL_S": "3600"}
        )
        with running_gateway(data_dir / "gateway", port=port, extra_env=env) as url:
            yield Live(url, standin, relay)
