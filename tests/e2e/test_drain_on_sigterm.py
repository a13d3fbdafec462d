"""A deploy's SIGTERM closes open subscriptions with a code clients reconnect on (1012,
service restart), the process exits, and a client that resumes with `after` on the next
process misses nothing and sees nothing twice (docs/deploy.md, "Draining on deploy")."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import GatewayProcess

RECONNECT_CODES = {1001, 1012}  # going away, service restart
WATCH = """
subscription($id: ID!, $after: String) {
  sessionStatusChanged(sessionId: $id, after: $after) { status cursor }
}
"""
CREATE = """
mutation { createSession(input: {provider: "didit", clientReference: "drain"}) {
  session { id providerSessionId } userErrors { code } } }
"""


def _graphql(base: str, query: str) -> dict[str, Any]:
    body = httpx.post(f"{base}/graphql", json={"query": query}, timeout=20).json()
    assert "errors" not in body, body
    return dict(body["data"])


def _act(base: str, psid: str, action: str) -> None:
    r = httpx.post(f"{base}/sandbox/didit/sessions/{psid}/simulate", json={"action": action})
    assert r.status_code == 200, r.text


async def _subscribe(base: str, session_id: str, after: str) -> ClientConnection:
    ws = await connect(
        base.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    variables = {"id": session_id, "after": after}
    await ws.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": variables}}
        )
    )
    return ws


async def _next_event(ws: ClientConnection) -> dict[str, str]:
    async with asyncio.timeout(20):
        message = json.loads(await ws.recv())
    assert message["type"] == "next", message
    return dict(message["payload"]["data"]["sessionStatusChanged"])


async def test_sigterm_closes_subscriptions_with_a_reconnect_code(tmp_path: Path) -> None:
    with GatewayProcess(tmp_path / "data") as server:
        session = _graphql(server.base, CREATE)["createSession"]["session"]
        _act(server.base, session["providerSessionId"], "open")

        ws = await _subscribe(server.base, session["id"], "0")
        seen = [await _next_event(ws)]
        while seen[-1]["status"] != "IN_PROGRESS":
            seen.append(await _next_event(ws))
        cursor = seen[-1]["cursor"]

        assert server.process is not None
        started = time.monotonic()
        server.process.terminate()  # what systemd / the orchestrator sends on deploy
        try:
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "closed without a close frame"
            assert closed.rcvd.code in RECONNECT_CODES
        assert time.monotonic() - started < 5
        # After its shutdown, uvicorn re-raises the signal it caught, so the exit status says
        # "terminated"; the log shows the shutdown ran to the end rather than being cut off.
        assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in server.log_path.read_text()

        # The next process (same database): a change while the client was away, then the
        # client resumes from its last cursor and gets exactly that change.
        server.start()
        _act(server.base, session["providerSessionId"], "approve")
        resumed = await _subscribe(server.base, session["id"], cursor)
        event = await _next_event(resumed)
        assert event["status"] == "APPROVED"
        assert event["cursor"] != cursor
        await resumed.close()
