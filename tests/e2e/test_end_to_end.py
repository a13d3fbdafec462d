"""The whole product over real sockets: `kyc-gateway serve` in a subprocess, a real GraphQL
websocket client (gql, graphql-transport-ws), the Didit sandbox driving signed webhooks."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.client import create_mutation, session_query
from tests.e2e.server import active_subscriptions, free_port, running_gateway, wait_until

SUBSCRIBE = """
    subscription Watch($ref: String!) {
      sessionStatusChanged(clientReference: $ref) {
        previousStatus status providerStatus source occurredAt cursor
        session { id status }
      }
    }
    """
CREATE = create_mutation("didit", "id providerSessionId status verificationUrl")
GET = session_query(
    "id status providerStatus isFinal clientReference"
    " history { sequence previousStatus status providerStatus source }"
)


async def _watch(base: str, ref: str, n: int, ready: asyncio.Event) -> list[dict]:
    url = base.replace("http://", "ws://") + "/graphql"
    transport = WebsocketsTransport(url=url, subprotocols=["graphql-transport-ws"])
    events: list[dict] = []
    async with Client(transport=transport) as ws:
        agen = ws.subscribe(GraphQLRequest(SUBSCRIBE, variable_values={"ref": ref}))
        first = asyncio.ensure_future(agen.__anext__())
        # Go on only once the server counts the subscription as live (no sleep-and-hope).
        await wait_until(lambda: active_subscriptions(base) >= 1)
        ready.set()
        events.append((await asyncio.wait_for(first, 20))["sessionStatusChanged"])
        while len(events) < n:
            result = await asyncio.wait_for(agen.__anext__(), 20)
            events.append(result["sessionStatusChanged"])
        await agen.aclose()
    return events


async def test_didit_session_end_to_end_and_restart(tmp_path: Path) -> None:
    port = free_port()
    ref = f"e2e-{uuid.uuid4().hex[:8]}"
    with running_gateway(tmp_path, port) as base:
        ready = asyncio.Event()
        watcher = asyncio.create_task(_watch(base, ref, 3, ready))
        await asyncio.wait_for(ready.wait(), 20)
        http = Client(transport=HTTPXAsyncTransport(url=f"{base}/graphql"))
        async with http as session:
            created = (await session.execute(GraphQLRequest(CREATE, variable_values={"ref": ref})))[
                "createSession"
            ]
        assert created["userErrors"] == []
        s = created["session"]
        assert s["status"] == "CREATED"
        assert s["verificationUrl"].startswith(f"{base}/sandbox/didit/session/")
        async with httpx.AsyncClient(base_url=base) as client:
            page = await client.get(s["verificationUrl"])
            assert page.status_code == 200 and "Didit sandbox" in page.text
            for action in ("open", "approve"):
                r = await client.post(
                    f"/sandbox/didit/sessions/{s['providerSessionId']}/simulate",
                    json={"action": action},
                )
                assert r.status_code == 200, r.text
                assert r.json()["webhook"]["delivered"] is True
        events = await asyncio.wait_for(watcher, 30)
        assert [(e["previousStatus"], e["status"], e["source"]) for e in events] == [
            (None, "CREATED", "API"),
            ("CREATED", "IN_PROGRESS", "WEBHOOK"),
            ("IN_PROGRESS", "APPROVED", "WEBHOOK"),
        ]
        assert [e["providerStatus"] for e in events] == ["Not Started", "In Progress", "Approved"]
        assert all(e["session"]["id"] == s["id"] for e in events)
        cursors = [int(e["cursor"]) for e in events]
        assert cursors == sorted(cursors)
        async with Client(transport=HTTPXAsyncTransport(url=f"{base}/graphql")) as session:
            before = (await session.execute(GraphQLRequest(GET, variable_values={"id": s["id"]})))[
                "session"
            ]
    _assert_approved(before)

    # A restart keeps every session and its history (the SQLite file under the data dir).
    assert (tmp_path / "gateway.db").exists()
    with running_gateway(tmp_path, free_port()) as base:
        async with Client(transport=HTTPXAsyncTransport(url=f"{base}/graphql")) as session:
            after = (await session.execute(GraphQLRequest(GET, variable_values={"id": s["id"]})))[
                "session"
            ]
    assert after == before


def _assert_approved(session: dict) -> None:
    assert session["status"] == "APPROVED"
    assert session["providerStatus"] == "Approved"
    assert session["isFinal"] is True
    assert [
        (h["sequence"], h["previousStatus"], h["status"], h["source"]) for h in session["history"]
    ] == [
        (1, None, "CREATED", "API"),
        (2, "CREATED", "IN_PROGRESS", "WEBHOOK"),
        (3, "IN_PROGRESS", "APPROVED", "WEBHOOK"),
    ]


async def test_subscription_resumes_from_a_cursor_without_gaps(tmp_path: Path) -> None:
    ref = f"resume-{uuid.uuid4().hex[:8]}"
    with running_gateway(tmp_path) as base:
        async with Client(transport=HTTPXAsyncTransport(url=f"{base}/graphql")) as session:
            s = (await session.execute(GraphQLRequest(CREATE, variable_values={"ref": ref})))[
                "createSession"
            ]["session"]
        async with httpx.AsyncClient(base_url=base) as client:
            for action in ("open", "review"):
                r = await client.post(
                    f"/sandbox/didit/sessions/{s['providerSessionId']}/simulate",
                    json={"action": action},
                )
                assert r.status_code == 200
        url = base.replace("http://", "ws://") + "/graphql"
        resume = """
            subscription R($id: ID!, $after: String) {
              sessionStatusChanged(sessionId: $id, after: $after) { status cursor source }
            }
            """
        transport = WebsocketsTransport(url=url, subprotocols=["graphql-transport-ws"])
        async with Client(transport=transport) as ws:
            agen = ws.subscribe(
                GraphQLRequest(resume, variable_values={"id": s["id"], "after": "0"})
            )
            replayed = [
                (await asyncio.wait_for(agen.__anext__(), 10))["sessionStatusChanged"]
                for _ in range(3)
            ]
            assert [e["status"] for e in replayed] == ["CREATED", "IN_PROGRESS", "IN_REVIEW"]
            # Live changes follow the replay on the same subscription.
            async with httpx.AsyncClient(base_url=base) as client:
                r = await client.post(
                    f"/sandbox/didit/sessions/{s['providerSessionId']}/simulate",
                    json={"action": "approve"},
                )
                assert r.status_code == 200
            live = (await asyncio.wait_for(agen.__anext__(), 10))["sessionStatusChanged"]
            assert live["status"] == "APPROVED"
            assert int(live["cursor"]) > int(replayed[-1]["cursor"])
            await agen.aclose()
