"""Websocket protocol rules over a real socket: graphql-transport-ws only by default, and a
vanished subscriber leaves nothing behind on the server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import active_subscriptions, running_gateway, wait_until


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_gateway(tmp_path_factory.mktemp("ws")) as url:
        yield url


async def test_legacy_graphql_ws_is_refused_by_default(base: str) -> None:
    url = base.replace("http://", "ws://") + "/graphql"
    with pytest.raises(ConnectionClosed) as closed:
        async with connect(url, subprotocols=["graphql-ws"]) as ws:
            assert ws.subprotocol is None
            await ws.send(json.dumps({"type": "connection_init"}))
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def test_vanished_subscriber_is_cleaned_up(base: str) -> None:
    url = base.replace("http://", "ws://") + "/graphql"
    before = active_subscriptions(base)
    ws = await connect(url, subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": 'subscription { sessionStatusChanged(provider: "didit") { status } }'
                },
            }
        )
    )
    await wait_until(lambda: active_subscriptions(base) == before + 1)
    # Drop the TCP connection without a goodbye.
    ws.transport.abort()
    await wait_until(lambda: active_subscriptions(base) == before)


async def test_invalid_cursor_is_a_typed_error(base: str) -> None:
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        await asyncio.wait_for(ws.recv(), 5)
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": 'subscription { sessionStatusChanged(after: "x") { status } }'
                    },
                }
            )
        )
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["type"] in ("next", "error")
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_health_reports_provider_modes(base: str) -> None:
    health = httpx.get(f"{base}/healthz").json()
    assert health["status"] == "ok"
    assert set(health["providers"].values()) == {"SANDBOX"}
    assert "didit" in health["providers"]
