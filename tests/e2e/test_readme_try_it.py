"""The README's "Try it" works as written, against a real server: its mutation gives the ids
the next step needs, its `simulate` curl drives the session, and its subscription (with
`after: "0"`) replays every change from the start. Before, the mutation did not select
`providerSessionId`, and the two ids a newcomer had both answered 404 to the curl."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e.server import GatewayProcess

README = Path(__file__).resolve().parents[2] / "README.md"


def _try_it() -> str:
    text = README.read_text()
    return text[text.index("## Try it") : text.index("\n## ", text.index("## Try it") + 1)]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _try_it(), flags=re.DOTALL)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("try-it")) as process:
        yield process


async def test_the_readme_walkthrough_runs_as_written(server: GatewayProcess) -> None:
    mutation, subscription = _blocks("graphql")
    (curl,) = _blocks("sh")
    path = re.search(r"localhost:8000(/sandbox/\S+)", curl).group(1)  # type: ignore[union-attr]
    body = json.loads(re.search(r"-d '([^']+)'", curl).group(1))  # type: ignore[union-attr]

    async with httpx.AsyncClient(base_url=server.base, timeout=20) as client:
        created = (await client.post("/graphql", json={"query": mutation})).json()
        session = created["data"]["createSession"]["session"]
        assert session["providerSessionId"] and session["history"][0]["cursor"]
        vendor_id = session["providerSessionId"]
        for wrong in (session["id"], session["verificationUrl"].rstrip("/").split("/")[-1]):
            r = await client.post(path.replace("<providerSessionId>", wrong), json=body)
            assert r.status_code == 404  # why the README names providerSessionId
        r = await client.post(path.replace("<providerSessionId>", vendor_id), json=body)
        assert r.status_code == 200, r.text

    url = server.base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
        )
        statuses = []
        while len(statuses) < 2:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            statuses.append(message["payload"]["data"]["sessionStatusChanged"]["status"])
    assert statuses == ["CREATED", "IN_PROGRESS"]
