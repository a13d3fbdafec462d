"""Issue 14, item 2: a client token's expiry ends what its websocket may do.

The principal is fixed at `connection_init`; the attack is to keep that socket open past the
token's `exp` and go on subscribing and reading `verificationUrl`. Against a real keyed
server, plus the handler's own per-operation check with an injected clock (the timer that
closes the socket at expiry would otherwise always win the race)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from strawberry.types.unset import UNSET, UnsetType
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.auth import Authenticator
from gateway.web.graphql.ws_handler import SharingTransportWSHandler
from tests.conftest import FakeClock
from tests.e2e.server import GatewayProcess, wait_until
from tests.support.keys import TOKEN_SECRET, client_token, create_sessions, env, key

LINK = "query($id: ID!) { session(id: $id) { id verificationUrl } }"
FOLLOW = "subscription($id: ID) { sessionStatusChanged(sessionId: $id) { status } }"


@dataclass
class World:
    server: GatewayProcess
    session_id: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with GatewayProcess(tmp_path_factory.mktemp("ws-expiry"), extra_env=env()) as server:
        yield World(server, create_sessions(server.base, ["exp"])[0])


def short_token(session_id: str, ttl_s: int) -> tuple[str, int]:
    """A real client token (the gateway's claims and secret) living `ttl_s` seconds: the
    shortest `issueClientToken` hands out is 60 s."""
    now = int(time.time())
    return client_token(session_id, ttl_s, now=now), now + ttl_s


async def open_socket(world: World, credential: str) -> ClientConnection:
    url = world.server.base.replace("http://", "ws://") + "/graphql"
    ws = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {credential}"}}
    await ws.send(json.dumps(init))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
    return ws


async def ask(ws: ClientConnection, op_id: str, query: str, variables: dict[str, Any]) -> None:
    message = {
        "id": op_id,
        "type": "subscribe",
        "payload": {"query": query, "variables": variables},
    }
    await ws.send(json.dumps(message))


async def closed_with(
    ws: ClientConnection, within_s: float, answer: str = "next"
) -> tuple[int, str, float]:
    """Read until the server closes the socket: its code, reason and when (epoch s). No
    `answer` message may come meanwhile (`data` in the legacy protocol)."""
    try:
        async with asyncio.timeout(within_s):
            while True:
                message = json.loads(await ws.recv())
                assert message["type"] != answer, f"answered after expiry: {message}"
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, closed
        return closed.rcvd.code, closed.rcvd.reason, time.time()
    except TimeoutError:
        raise AssertionError("the socket of an expired client token is still open") from None


async def test_socket_is_closed_4403_when_its_token_expires(world: World) -> None:
    token, exp = short_token(world.session_id, 3)
    ws = await open_socket(world, token)
    backend = await open_socket(world, key("reader"))  # API keys do not expire
    try:
        # Before expiry the token does what it may: read its link, follow its session.
        await ask(ws, "link", LINK, {"id": world.session_id})
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer["type"] == "next", answer
        assert answer["payload"]["data"]["session"]["verificationUrl"]
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "complete"
        await ask(ws, "follow", FOLLOW, {"id": world.session_id})
        code, reason, at = await closed_with(ws, exp - time.time() + 3)
        assert (code, reason) == (4403, "client token expired")
        assert exp - 0.05 <= at < exp + 1.0, f"closed {at - exp:+.2f} s from expiry"
        # The API-key socket next to it is untouched.
        await backend.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(backend.recv(), 5)) == {"type": "pong"}
    finally:
        await ws.close()
        await backend.close()


async def test_subscribe_after_expiry_is_refused(world: World) -> None:
    token, exp = short_token(world.session_id, 2)
    ws = await open_socket(world, token)
    try:
        await asyncio.sleep(max(0.0, exp - time.time()) + 0.01)
        try:
            await ask(ws, "late", LINK, {"id": world.session_id})
        except ConnectionClosed:
            pass  # already closed at expiry: refused too
        code, _, _ = await closed_with(ws, 3)
        assert code == 4403
    finally:
        await ws.close()


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A keyed server that also speaks the legacy graphql-ws protocol."""
    extra = {**env(), "KYCGW_ENABLE_LEGACY_GRAPHQL_WS": "true"}
    with GatewayProcess(tmp_path_factory.mktemp("ws-expiry-legacy"), extra_env=extra) as server:
        # A vendor whose sessions can be cancelled: that change is the event.
        yield World(server, create_sessions(server.base, ["legacy"], provider="verifa")[0])


def subscriptions(world: World) -> float:
    """The server's live-subscription gauge (`/metrics` takes a stats:read key here)."""
    r = httpx.get(
        f"{world.server.base}/metrics",
        headers={"authorization": f"Bearer {key('stats')}"},
        timeout=5,
    )
    for line in r.text.splitlines():
        if line.startswith("kycgw_active_subscriptions "):
            return float(line.split()[1])
    raise AssertionError(f"no subscription gauge in /metrics: {r.status_code}")


async def test_legacy_protocol_socket_is_closed_too(legacy: World) -> None:
    token, exp = short_token(legacy.session_id, 3)
    url = legacy.server.base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        start = {"id": "1", "type": "start", "payload": {"query": FOLLOW}}
        start["payload"]["variables"] = {"id": legacy.session_id}
        await ws.send(json.dumps(start))
        await wait_until(lambda: subscriptions(legacy) >= 1, 5)  # then its session changes
        async with httpx.AsyncClient(base_url=legacy.server.base, timeout=20) as client:
            await client.post(
                "/graphql",
                headers={"authorization": f"Bearer {key('writer')}"},
                json={
                    "query": "mutation($id: ID!) { cancelSession(id: $id) { session { id } } }",
                    "variables": {"id": legacy.session_id},
                },
            )
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer["type"] == "data", answer
        assert answer["payload"]["data"]["sessionStatusChanged"]["status"] == "EXPIRED"
        code, reason, at = await closed_with(ws, exp - time.time() + 3, answer="data")
        assert (code, reason) == (4403, "client token expired")
        assert at < exp + 1.0, f"closed {at - exp:+.2f} s from expiry"


class _Socket:
    """Stands in for strawberry's websocket adapter: records what the handler sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None

    async def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class _Context:
    def __init__(self, auth: Authenticator, credential: str) -> None:
        self.auth = auth
        self.principal = auth.from_credential(credential)
        self.connection_params: dict[str, Any] | None = None


class _View:
    subscriber_send_timeout_s = 30.0

    async def on_ws_connect(self, context: Any) -> UnsetType:
        return UNSET


async def test_every_operation_rechecks_the_token() -> None:
    """Even when the expiry timer has not fired (a late loop, a clock that jumped), the
    first operation after expiry closes the socket instead of running."""
    clock = FakeClock()
    auth = Authenticator([], TOKEN_SECRET, clock=clock)
    token, _ = auth.issue_client_token("s1", 600)
    socket = _Socket()
    handler = SharingTransportWSHandler(
        view=_View(),  # type: ignore[arg-type]
        websocket=socket,  # type: ignore[arg-type]
        context=_Context(auth, token),  # type: ignore[arg-type]
        root_value=None,
        schema=None,  # type: ignore[arg-type]
        connection_init_wait_timeout=timedelta(seconds=5),
    )
    await handler.handle_message({"type": "connection_init", "payload": {}})
    assert socket.sent == [{"type": "connection_ack"}]
    clock.advance(601)  # past `exp`; the real-time timer is ten minutes away
    await handler.handle_message(
        {"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }"}}
    )
    assert socket.closed == (4403, "client token expired")
    assert handler.operations == {}
    await handler.shutdown()
