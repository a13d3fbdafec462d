"""Websocket protocol rules over a real socket: graphql-transport-ws only by default, and a
vanished subscriber leaves nothing behind on the server."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.client import gql, simulate
from tests.e2e.server import active_subscriptions, metric, wait_until


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


async def test_subscribers_of_one_shape_share_one_execution(base: str) -> None:
    """Three clients follow a session with the same document, a fourth with another
    selection: two executions serve four subscribers, and each gets what it asked for."""
    created = await gql(
        base,
        'mutation { createSession(input: {provider: "didit", clientReference: "shared"}) '
        "{ session { id providerSessionId } } }",
        {},
    )
    session = created["createSession"]["session"]
    same = "subscription F($id: ID!) { sessionStatusChanged(sessionId: $id) { status cursor } }"
    other = "subscription G($id: ID!) { sessionStatusChanged(sessionId: $id) { providerStatus } }"
    url = base.replace("http://", "ws://") + "/graphql"
    subscribers_before = active_subscriptions(base)
    streams_before = metric(base, "kycgw_shared_subscription_streams")
    sockets = []
    for query in (same, same, same, other):
        ws = await connect(url, subprotocols=["graphql-transport-ws"])
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        payload = {"query": query, "variables": {"id": session["id"]}}
        await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": payload}))
        sockets.append(ws)
    await wait_until(lambda: active_subscriptions(base) == subscribers_before + 4)
    assert metric(base, "kycgw_shared_subscription_streams") == streams_before + 2

    await simulate(base, "didit", session["providerSessionId"], "open")
    frames = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for ws in sockets]
    assert all(frame["type"] == "next" and frame["id"] == "s" for frame in frames)
    events = [frame["payload"]["data"]["sessionStatusChanged"] for frame in frames]
    assert events[0] == events[1] == events[2]
    assert events[0]["status"] == "IN_PROGRESS" and events[0]["cursor"].isdigit()
    assert events[3] == {"providerStatus": "In Progress"}

    for ws in sockets[:2]:
        await ws.close()
    await wait_until(lambda: active_subscriptions(base) == subscribers_before + 2)
    assert metric(base, "kycgw_shared_subscription_streams") == streams_before + 2
    for ws in sockets[2:]:
        await ws.close()
    await wait_until(lambda: metric(base, "kycgw_shared_subscription_streams") == streams_before)
    assert active_subscriptions(base) == subscribers_before
