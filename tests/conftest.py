"""Shared fixtures: a real SQLite file per test, the whole gateway in-process, Didit in
sandbox mode with its webhooks delivered back into the same app."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.settings import Settings, load_settings
from gateway.store.migrate import upgrade
from gateway.web.app import Gateway, create_gateway

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    """Tests never reach a vendor host: only loopback (and unix sockets) may be dialled."""
    if isinstance(address, tuple):
        host = str(address[0])
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            raise OSError(f"tests may not connect to {host}: loopback only")
    _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network_beyond_loopback() -> Iterator[None]:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


class FakeClock:
    """Injected time, so ordering and expiry are testable without sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class _LateBoundTransport(httpx.AsyncBaseTransport):
    """Sandbox webhooks go to the gateway app, which exists only after the sandbox is built."""

    def __init__(self) -> None:
        self.inner: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.inner is not None
        return await self.inner.handle_async_request(request)


@dataclass
class Harness:
    gateway: Gateway
    client: httpx.AsyncClient
    settings: Settings

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def gql_raw(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        return response.json()

    @property
    def didit_secret(self) -> str:
        adapter = self.gateway.providers.adapter("didit")
        assert adapter is not None
        return adapter.config.webhook_secret


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every store-backed gateway test runs on a real SQLite file and on real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'gateway.db'}"
        return
    from tests.support.services import fresh_postgres_database

    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    for key in list(__import__("os").environ):
        if key.startswith("KYCGW_") and key != "KYCGW_REQUIRE_SERVICES":
            monkeypatch.delenv(key)
    return load_settings(
        data_dir=tmp_path / "data", public_url="http://gateway.test", database_url=database_url
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def harness(settings: Settings, clock: FakeClock) -> AsyncIterator[Harness]:
    assert settings.database_url is not None
    upgrade(settings.database_url)
    transport = _LateBoundTransport()
    gateway = create_gateway(
        settings,
        webhook_transport=transport,
        sandbox_retry_delays_s=(0.01, 0.02),
        clock=clock,
        run_migrations=False,
    )
    transport.inner = httpx.ASGITransport(app=gateway.app)
    async with gateway.app.router.lifespan_context(gateway.app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway.app), base_url="http://gateway.test"
        ) as client:
            yield Harness(gateway=gateway, client=client, settings=settings)
