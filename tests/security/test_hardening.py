"""Production hardening with API keys configured: no field suggestions, masked crashes with a
correlation id, websocket origins and subscription caps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.server import GatewayProcess
from tests.support.keys import env, key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(
        tmp_path_factory.mktemp("hard"),
        extra_env={
            **env(),
            "KYCGW_CORS_ORIGINS": '["https://app.example.com"]',
            "KYCGW_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
        },
    ) as process:
        yield process


def test_no_field_suggestions_in_production(server: GatewayProcess) -> None:
    with httpx.Client(base_url=server.base, headers={"x-api-key": key("reader")}) as c:
        body = c.post("/graphql", json={"query": "{ provider { name } }"}).json()
    assert body["errors"] and "Did you mean" not in body["errors"][0]["message"]


def test_cors_allows_only_listed_origins(server: GatewayProcess) -> None:
    with httpx.Client(base_url=server.base) as c:
        ok = c.options(
            "/graphql",
            headers={"origin": "https://app.example.com", "access-control-request-method": "POST"},
        )
        evil = c.options(
            "/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
    assert ok.headers.get("access-control-allow-origin") == "https://app.example.com"
    assert "access-control-allow-origin" not in evil.headers


async def test_websocket_from_an_unlisted_origin_is_refused(server: GatewayProcess) -> None:
    url = server.base.replace("http://", "ws://") + "/graphql"
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        async with connect(
            url, subprotocols=["graphql-transport-ws"], origin="https://evil.example"
        ) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"type": "connection_init"}))
            await asyncio.wait_for(ws.recv(), 5)
    async with connect(
        url, subprotocols=["graphql-transport-ws"], origin="https://app.example.com"
    ) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": key("reader")}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"


async def test_subscriptions_per_connection_are_capped(server: GatewayProcess) -> None:
    url = server.base.replace("http://", "ws://") + "/graphql"
    query = 'subscription { sessionStatusChanged(provider: "didit") { status } }'
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": key("reader")}}))
        await ws.recv()
        for i in range(3):
            await ws.send(
                json.dumps({"id": str(i), "type": "subscribe", "payload": {"query": query}})
            )
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["type"] == "error" and message["id"] == "2"
    assert "limit" in message["payload"][0]["message"]


def test_unauthenticated_websocket_credentials_close_the_socket(server: GatewayProcess) -> None:
    async def attempt() -> int | None:
        url = server.base.replace("http://", "ws://") + "/graphql"
        try:
            async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send(
                    json.dumps({"type": "connection_init", "payload": {"apiKey": "kgw_wrong"}})
                )
                await asyncio.wait_for(ws.recv(), 5)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    assert asyncio.run(attempt()) == 4403
