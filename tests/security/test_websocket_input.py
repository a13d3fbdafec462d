"""Websocket operations get the same treatment as HTTP ones (issue 14, items 1 and 11): in a
keyed deployment a socket without valid credentials is refused at `connection_init`, before
any document it sends is parsed; a malformed `after` cursor or variables nested beyond any
real input are BAD_USER_INPUT, never a masked crash."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import GatewayProcess
from tests.support.bombs import fragment_bomb
from tests.support.keys import env, key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("ws-input"), extra_env=env()) as process:
        yield process


def _url(server: GatewayProcess) -> str:
    return server.base.replace("http://", "ws://") + "/graphql"


async def test_an_anonymous_socket_is_closed_before_it_can_send_a_document(
    server: GatewayProcess,
) -> None:
    started = time.monotonic()
    async with connect(_url(server), subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
            query = "subscription { sessionStatusChanged { status ...F24 } }" + fragment_bomb(24)
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert time.monotonic() - started < 1


async def _first_answer(server: GatewayProcess, payload: dict) -> dict:
    async with connect(_url(server), subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {key('reader')}"}}
            )
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        return json.loads(await asyncio.wait_for(ws.recv(), 5))


@pytest.mark.parametrize("after", ["²", "9" * 40, "-1", " 1"])
async def test_a_malformed_after_cursor_is_bad_user_input(
    server: GatewayProcess, after: str
) -> None:
    message = await _first_answer(
        server,
        {
            "query": "subscription($a: String) { sessionStatusChanged(after: $a) { status } }",
            "variables": {"a": after},
        },
    )
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], message
    assert "server-" not in json.dumps(message)  # nothing from the log leaks
    log = server.log_path.read_text()
    assert "Traceback" not in log


async def test_deeply_nested_variables_are_refused_not_crashed(server: GatewayProcess) -> None:
    value: object = 1
    for _ in range(900):
        value = [value]
    message = await _first_answer(
        server,
        {
            "query": "subscription($p: String) { sessionStatusChanged(provider: $p) { status } }",
            "variables": {"p": value},
        },
    )
    assert message["type"] in ("error", "next"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors and all(
        (e.get("extensions") or {}).get("code") != "INTERNAL_SERVER_ERROR" for e in errors
    ), message
    assert "Traceback" not in server.log_path.read_text()
