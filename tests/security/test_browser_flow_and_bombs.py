"""A browser holding only its client token follows its own session over a websocket; and
documents built to exhaust the server are refused while it keeps answering."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e.server import GatewayProcess
from tests.support.keys import env, issue_token, key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("browser"), extra_env=env()) as process:
        yield process


def backend(server: GatewayProcess, query: str, variables: dict | None = None) -> dict:
    with httpx.Client(base_url=server.base, timeout=20) as c:
        r = c.post(
            "/graphql",
            headers={"x-api-key": key("writer")},
            json={"query": query, "variables": variables or {}},
        )
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


async def test_browser_with_a_client_token_follows_its_session(server: GatewayProcess) -> None:
    created = backend(
        server,
        'mutation { createSession(input: {clientReference: "browser"}) '
        "{ session { id providerSessionId } } }",
    )["createSession"]["session"]
    other = backend(
        server, 'mutation { createSession(input: {clientReference: "x"}) { session { id } } }'
    )["createSession"]["session"]
    token = issue_token(server.base, created["id"], ttl=300)
    url = server.base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        operations = {
            "mine": (
                "subscription($s: ID) { sessionStatusChanged(sessionId: $s) "
                "{ status session { id verificationUrl } } }",
                {"s": created["id"]},
            ),
            "theirs": (
                "subscription($s: ID) { sessionStatusChanged(sessionId: $s) { status } }",
                {"s": other["id"]},
            ),
            "raw": ('query { session(id: "' + created["id"] + '") { status raw } }', None),
        }
        for op_id, (query, variables) in operations.items():
            payload = {"query": query, **({"variables": variables} if variables else {})}
            await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=server.base) as c:
            for action in ("open", "approve"):
                r = await c.post(
                    f"/sandbox/didit/sessions/{created['providerSessionId']}/simulate",
                    headers={"authorization": f"Bearer {key('sandbox')}"},
                    json={"action": action},
                )
                assert r.status_code == 200
        seen: dict[str, list] = {"mine": [], "theirs": [], "raw": []}
        while len(seen["mine"]) < 2 or not seen["theirs"] or not seen["raw"]:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] in ("next", "error"):
                seen[message["id"]].append(message["payload"])
    statuses = [p["data"]["sessionStatusChanged"]["status"] for p in seen["mine"]]
    assert statuses == ["IN_PROGRESS", "APPROVED"]
    link = seen["mine"][0]["data"]["sessionStatusChanged"]["session"]["verificationUrl"]
    assert link and "/sandbox/didit/session/" in link  # its own link is readable
    theirs = seen["theirs"][0]
    errors = theirs if isinstance(theirs, list) else theirs["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    raw = seen["raw"][0]
    assert raw["data"]["session"]["status"] and raw["data"]["session"]["raw"] is None
    assert raw["errors"][0]["extensions"]["code"] == "FORBIDDEN"


BOMBS = {
    "depth": "{ " + 'session(id: "x") { ' * 60 + "id" + " }" * 60 + " }",
    "aliases": "{ " + " ".join(f"a{i}: providers {{ name }}" for i in range(2000)) + " }",
    "aliases_in_fragments": "query { ...F } fragment F on Query { "
    + " ".join(f"a{i}: providers {{ name }}" for i in range(200))
    + " }",
    "tokens": "{ providers { " + "name " * 5000 + "} }",
    "one_megabyte": "{ providers { name } } #" + "x" * (1024 * 1024),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bombs_are_refused_and_the_server_keeps_answering(
    server: GatewayProcess, name: str
) -> None:
    with httpx.Client(base_url=server.base, timeout=30, headers={"x-api-key": key("reader")}) as c:
        r = c.post("/graphql", json={"query": BOMBS[name]})
        assert r.status_code in (200, 400, 413)
        if r.status_code == 200:
            body = r.json()
            assert body.get("errors") and not (body.get("data") or {}).get("providers")
        normal = c.post("/graphql", json={"query": "{ providers { name } }"})
        assert normal.status_code == 200 and normal.json()["data"]["providers"]
